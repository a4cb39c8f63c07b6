"""Benchmark the open xtb -> COSMO-SAC oracle against experimental chi (and COSMO-RS).

Rows: the 1178 (pair, T) rows where ../shared/data/mtl_chi/data_Chi.csv and data_COSMO.csv
match on (ps_pair, temp). Polymers are built as the cyclic 10-mer of their repeat unit
(``ps_pair_nonCyclic``) through chiscreen.chem, or, with ``--polymer-build dataset``, from the
dataset's own cyclic 10-mer SMILES (``ps_pair``) as the reference prototype did.

Prints, for the oracle and for COSMO-RS side by side: Pearson r, Spearman rho, MAE and
agreement of the chi < 0.5 call with experiment; per-row agreement with the prototype's output
(chi_xtb of ../shared/reference/xtb_cosmosac/chi_benchmark_dip_2010.csv); a calibration fitted
on the training polymers of a polymer-grouped split and scored on held-out polymers; the
conformer spread; reproducibility; costs per molecule and per chi. Profile calculations run in
parallel (``--backend process`` or ``ray``; OMP_NUM_THREADS=1 per worker) and are stored in
``--store`` so a rerun is fast. The per-row CSV goes to ``--out``; the last printed line is one
JSON object with the named figures.

    python bench/oracle_vs_experiment.py --out runs/oracle_bench --store runs/oracle_store
    python bench/oracle_vs_experiment.py --max-polymers 5 --out /tmp/ob --store /tmp/os
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_k, "1")

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from chiscreen.qc import Calibration, Oracle, ProfileSpec, ProfileStore, RunOptions  # noqa: E402
from chiscreen.qc.parallel import init_ray  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "mtl_chi"
PROTO = ROOT.parent / "shared" / "reference" / "xtb_cosmosac" / "chi_benchmark_dip_2010.csv"


def load_rows(max_polymers: int | None) -> pd.DataFrame:
    """The matched rows, with columns poly_ru, poly10, solv, t_k, chi_exp, chi_cosmors."""
    e = pd.read_csv(DATA / "data_Chi.csv", index_col=0)
    c = pd.read_csv(DATA / "data_COSMO.csv", index_col=0)
    m = e.merge(c[["ps_pair", "temp", "chi"]], on=["ps_pair", "temp"], suffixes=("_exp", "_cosmors"))
    m["poly_ru"] = m.ps_pair_nonCyclic.str.split("_").str[0]
    m["poly10"] = m.ps_pair.str.split("_").str[0]
    m["solv"] = m.ps_pair.str.split("_").str[1]
    m["t_k"] = m.temp + 273.15
    if PROTO.exists():
        ref = pd.read_csv(PROTO, index_col=0)
        if len(ref) == len(m) and (ref.ps_pair.values == m.ps_pair.values).all() and \
                (ref.temp.values == m.temp.values).all():
            m["chi_prototype"] = ref.chi_xtb.values
    if max_polymers:
        keep = m.poly_ru.value_counts().index[:max_polymers]
        m = m[m.poly_ru.isin(keep)]
    return m.reset_index(drop=True)


def metrics(y: np.ndarray, x: np.ndarray) -> dict:
    ok = np.isfinite(x) & np.isfinite(y)
    y, x = y[ok], x[ok]
    if len(y) < 3:
        return {"n": int(len(y))}
    return {"n": int(len(y)), "pearson_r": float(stats.pearsonr(y, x)[0]),
            "spearman_rho": float(stats.spearmanr(y, x)[0]),
            "mae": float(np.mean(np.abs(y - x))),
            "agree_chi_lt_0.5": float(np.mean((y < 0.5) == (x < 0.5)))}


def fmt(name: str, d: dict) -> str:
    if "pearson_r" not in d:
        return f"  {name:<28s} n={d['n']}"
    return (f"  {name:<28s} n={d['n']:4d}  r={d['pearson_r']:.3f}  rho={d['spearman_rho']:.3f}  "
            f"MAE={d['mae']:.3f}  chi<0.5 agreement={d['agree_chi_lt_0.5']:.3f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="runs/oracle_bench", help="folder for the per-row CSV")
    ap.add_argument("--store", default="runs/oracle_store", help="profile store folder (reused)")
    ap.add_argument("--max-polymers", type=int, default=None, help="only the N most frequent polymers")
    ap.add_argument("--polymer-build", choices=("repeat-unit", "dataset"), default="repeat-unit")
    ap.add_argument("--engine", default="tblite")
    ap.add_argument("--conformers", type=int, default=None, help="conformers per molecule")
    ap.add_argument("--combine", choices=("mean", "boltzmann", "lowest"), default=None)
    ap.add_argument("--cavity-subdivision", type=int, default=None)
    ap.add_argument("--no-dipoles", action="store_true")
    ap.add_argument("--backend", choices=("process", "ray", "serial"), default="process")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per molecule")
    ap.add_argument("--retries", type=int, default=1)
    ap.add_argument("--calibration", choices=("isotonic", "linear"), default="isotonic")
    ap.add_argument("--test-fraction", type=float, default=0.2)
    ap.add_argument("--split-seed", type=int, default=0)
    ap.add_argument("--time-molecules", type=int, default=3,
                    help="re-time N median-size polymers and 3N solvents serially in this process")
    ap.add_argument("--no-progress", action="store_true")
    args = ap.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    spec_kw: dict = {"engine": args.engine}
    if args.conformers is not None:
        spec_kw["n_conformers"] = args.conformers
    if args.combine is not None:
        spec_kw["combine"] = args.combine
    if args.cavity_subdivision is not None:
        spec_kw["cavity_subdivision"] = args.cavity_subdivision
    if args.no_dipoles:
        spec_kw["dipoles"] = False
    spec = ProfileSpec(**spec_kw)
    rows = load_rows(args.max_polymers)
    pkind = "polymer" if args.polymer_build == "repeat-unit" else "molecule"
    pcol = "poly_ru" if pkind == "polymer" else "poly10"
    skind = "solvent" if pkind == "polymer" else "molecule"  # dataset build: SMILES as written
    print(f"rows: {len(rows)}  polymers: {rows[pcol].nunique()}  solvents: {rows.solv.nunique()}")
    print(f"spec: {spec.to_dict()}  method_version: {spec.method_version}")

    # ---------------------------------------------------------------- profiles (parallel)
    oracle = Oracle(spec, ProfileStore(args.store))
    if args.backend == "ray":
        init_ray(num_cpus=args.workers)
    opts = RunOptions(backend=args.backend, workers=args.workers, timeout_s=args.timeout,
                      retries=args.retries, progress=not args.no_progress)
    mols = [(skind, s) for s in rows.solv.unique()] + [(pkind, p) for p in rows[pcol].unique()]
    t0 = time.perf_counter()
    outcomes = oracle.ensure_profiles(mols, opts)
    wall = time.perf_counter() - t0
    n_new = sum(1 for o in outcomes.values() if o.attempts > 0)
    failed = {m: o for m, o in outcomes.items() if not o.ok}
    print(f"profiles: {len(mols)} molecules, {n_new} computed now in {wall:.1f} s wall "
          f"({args.backend}, {args.workers} workers), {len(failed)} failed")
    for (kind, smi), o in failed.items():
        print(f"  FAILED {kind} {smi[:60]}: {o.reason}: {o.message[:160]}")

    solv_mols = {(skind, s) for s in rows.solv.unique()}
    poly_mols = {(pkind, p) for p in rows[pcol].unique()}

    def meta(which: set, field: str) -> np.ndarray:
        return np.array([o.record.meta[field] for m, o in outcomes.items() if m in which and o.ok])

    c_s, c_p = meta(solv_mols, "t_total"), meta(poly_mols, "t_total")
    n_at = meta(poly_mols, "n_atoms")
    print(f"cost per molecule (one worker each, {spec.n_conformers} conformers; wall time as stored): "
          f"solvent median {np.median(c_s):.3f} s (max {c_s.max():.2f}); polymer median "
          f"{np.median(c_p):.2f} s (max {c_p.max():.1f}; median {np.median(n_at):.0f} atoms)")
    try:
        u_s, u_p = meta(solv_mols, "t_cpu"), meta(poly_mols, "t_cpu")
        print(f"  CPU time (one core): solvent median {np.median(u_s):.3f} s; polymer median "
              f"{np.median(u_p):.2f} s")
        fig_cpu = {"cpu_solvent_median_s": float(np.median(u_s)),
                   "cpu_polymer_median_s": float(np.median(u_p))}
    except KeyError:  # profiles stored before CPU times were recorded
        fig_cpu = {}

    # serial re-timing on one core (the stored times were taken with all workers busy)
    fig_cost: dict = {}
    if args.time_molecules > 0:
        from chiscreen.qc import compute_profile

        pol = [(m[1], o.record.meta["n_atoms"]) for m, o in outcomes.items() if m in poly_mols and o.ok]
        med = float(np.median([n for _, n in pol]))
        pick = [p for p, _ in sorted(pol, key=lambda x: (abs(x[1] - med), x[0]))[:args.time_molecules]]
        sol = sorted(m[1] for m in solv_mols)[:: max(1, len(solv_mols) // (3 * args.time_molecules))]
        sol = sol[: 3 * args.time_molecules]
        mp_ = [compute_profile(pkind, p, spec).meta for p in pick]
        ms_ = [compute_profile(skind, s_, spec).meta for s_ in sol]
        tp, cp = [m["t_total"] for m in mp_], [m["t_cpu"] for m in mp_]
        ts, cs = [m["t_total"] for m in ms_], [m["t_cpu"] for m in ms_]
        load = os.getloadavg()[0]
        print(f"serial re-timing in this process (load average {load:.1f} on {os.cpu_count()} cores): "
              f"{len(pick)} polymers of ~{med:.0f} atoms: median {np.median(cp):.2f} s CPU "
              f"({np.median(tp):.2f} s wall); {len(sol)} solvents: median {np.median(cs):.3f} s CPU "
              f"({np.median(ts):.3f} s wall)")
        fig_cost = {"retimed_polymer_median_cpu_s": float(np.median(cp)),
                    "retimed_polymer_median_wall_s": float(np.median(tp)),
                    "retimed_solvent_median_cpu_s": float(np.median(cs)),
                    "retimed_solvent_median_wall_s": float(np.median(ts)), "load_average": load}

    # ---------------------------------------------------------------- chi per row
    t0 = time.perf_counter()
    res = oracle.chi_rows(list(zip(rows[pcol], rows.solv, rows.t_k)), polymer_kind=pkind,
                         solvent_kind=skind)
    t_rows = time.perf_counter() - t0
    rows["chi_oracle"] = [r.chi if r.ok else np.nan for r in res]
    rows["chi_spread"] = [r.spread if r.ok else np.nan for r in res]
    rows["status"] = ["ok" if r.ok else "failed" for r in res]
    rows["reason"] = [r.reason or "" for r in res]
    # timing of fresh (pair, T) evaluations from stored profiles (empty segment cache)
    fresh = Oracle(spec, ProfileStore(args.store))
    sample = rows[rows.status == "ok"].sample(min(200, int((rows.status == "ok").sum())), random_state=0)
    for p, s in zip(sample[pcol], sample.solv):  # load records (disk I/O not timed)
        fresh.record(pkind, p), fresh.record(skind, s)
    recs = [(fresh.record(pkind, p), fresh.record(skind, s), t + 0.0137 * i)
            for i, (p, s, t) in enumerate(zip(sample[pcol], sample.solv, sample.t_k))]
    n_rec = max(1, len(recs))
    t0, c0 = time.perf_counter(), time.process_time()
    for pr, sr, t in recs:
        fresh.chi_from_records(pr, sr, t, spread=False)
    t_fresh, c_fresh = (time.perf_counter() - t0) / n_rec, (time.process_time() - c0) / n_rec
    t0, c0 = time.perf_counter(), time.process_time()
    for pr, sr, t in recs:
        fresh.chi_from_records(pr, sr, t + 0.001, spread=True)
    t_fresh_sp, c_fresh_sp = (time.perf_counter() - t0) / n_rec, (time.process_time() - c0) / n_rec
    print(f"chi from stored profiles, new (pair, T): {1e3 * c_fresh:.2f} ms CPU ({1e3 * t_fresh:.2f} "
          f"ms wall) for the value, {1e3 * c_fresh_sp:.2f} ms CPU ({1e3 * t_fresh_sp:.2f} ms wall) "
          f"with the conformer spread; batch of {len(rows)} rows {1e3 * t_rows / max(1, len(rows)):.2f}"
          f" ms/row wall (segment terms cached per molecule and T)")

    ok = rows.status == "ok"
    y = rows.chi_exp.to_numpy()
    fig: dict = {"rows": int(len(rows)), "rows_ok": int(ok.sum()),
                 "method_version": spec.method_version, "spec": spec.to_dict(),
                 "polymer_build": args.polymer_build}
    print("\nagainst experimental chi (rows where the oracle has a value):")
    m_or = metrics(y[ok], rows.chi_oracle.to_numpy()[ok])
    m_rs = metrics(y[ok], rows.chi_cosmors.to_numpy()[ok])
    print(fmt("COSMO-RS (COSMOtherm)", m_rs))
    print(fmt("oracle (this package)", m_or))
    fig["oracle"], fig["cosmors"] = m_or, m_rs
    if "chi_prototype" in rows:
        m_pt = metrics(y[ok], rows.chi_prototype.to_numpy()[ok])
        print(fmt("prototype (reference csv)", m_pt))
        agree = metrics(rows.chi_prototype.to_numpy()[ok], rows.chi_oracle.to_numpy()[ok])
        print(f"  oracle vs prototype per row: r={agree.get('pearson_r', float('nan')):.4f} "
              f"MAE={agree.get('mae', float('nan')):.4f}")
        fig["prototype"] = m_pt
        fig["oracle_vs_prototype_r"] = agree.get("pearson_r")
        fig["oracle_vs_prototype_mae"] = agree.get("mae")
    vs_rs = metrics(rows.chi_cosmors.to_numpy()[ok], rows.chi_oracle.to_numpy()[ok])
    print(f"  oracle vs COSMO-RS per row: r={vs_rs.get('pearson_r', float('nan')):.3f}")
    fig["oracle_vs_cosmors_r"] = vs_rs.get("pearson_r")
    for cls in rows.polymer_class.value_counts().index[:4]:
        sel = ok & (rows.polymer_class == cls)
        print(fmt(f"  [{cls}] oracle", metrics(y[sel], rows.chi_oracle.to_numpy()[sel])))

    # ---------------------------------------------------------------- conformer spread
    sp = rows.chi_spread[ok].to_numpy()
    fig["spread_median"] = float(np.median(sp)) if len(sp) else None
    fig["spread_mean"] = float(np.mean(sp)) if len(sp) else None
    fig["spread_p90"] = float(np.percentile(sp, 90)) if len(sp) else None
    print(f"\nconformer spread of chi ({spec.n_conformers} conformers, {spec.combine}): median "
          f"{fig['spread_median']:.4f}, mean {fig['spread_mean']:.4f}, 90th percentile "
          f"{fig['spread_p90']:.4f}")

    # ---------------------------------------------------------------- calibration
    from sklearn.model_selection import GroupKFold, GroupShuffleSplit

    okr = rows[ok].reset_index(drop=True)
    groups = okr[pcol].to_numpy()
    if okr[pcol].nunique() >= 3:
        gss = GroupShuffleSplit(n_splits=1, test_size=args.test_fraction, random_state=args.split_seed)
        tr, te = next(gss.split(okr, groups=groups))
        cal = Calibration.fit(okr.chi_oracle.to_numpy()[tr], okr.chi_exp.to_numpy()[tr],
                              args.calibration, provenance={
                                  "oracle_method_version": spec.method_version,
                                  "engine": spec.engine, "spec": spec.to_dict(),
                                  "data": "mtl_chi data_Chi.csv x data_COSMO.csv (1178 matched rows)",
                                  "split": f"GroupShuffleSplit(test_size={args.test_fraction}, "
                                           f"random_state={args.split_seed}) by polymer",
                                  "train_polymers": sorted(set(groups[tr]))})
        cal_path = cal.save(out / "calibration.json")
        pred = cal.apply(okr.chi_oracle.to_numpy()[te])
        m_cal = metrics(okr.chi_exp.to_numpy()[te], pred)
        m_raw = metrics(okr.chi_exp.to_numpy()[te], okr.chi_oracle.to_numpy()[te])
        m_rs_te = metrics(okr.chi_exp.to_numpy()[te], okr.chi_cosmors.to_numpy()[te])
        print(f"\ncalibration ({args.calibration}) fitted on {len(tr)} rows of "
              f"{len(set(groups[tr]))} training polymers, held-out {len(te)} rows of "
              f"{len(set(groups[te]))} polymers; saved to {cal_path}")
        print(fmt("held-out COSMO-RS", m_rs_te))
        print(fmt("held-out oracle raw", m_raw))
        print(fmt("held-out oracle calibrated", m_cal))
        fig["calibration_split"] = {"kind": args.calibration, "raw": m_raw, "calibrated": m_cal,
                                    "cosmors": m_rs_te}
        # pooled 5-fold grouped cross-validation (every polymer held out once)
        k = min(5, okr[pcol].nunique())
        pred_cv = np.full(len(okr), np.nan)
        for tr_i, te_i in GroupKFold(n_splits=k).split(okr, groups=groups):
            c = Calibration.fit(okr.chi_oracle.to_numpy()[tr_i], okr.chi_exp.to_numpy()[tr_i],
                                args.calibration)
            pred_cv[te_i] = c.apply(okr.chi_oracle.to_numpy()[te_i])
        m_cv = metrics(okr.chi_exp.to_numpy(), pred_cv)
        print(fmt(f"{k}-fold grouped CV calibrated", m_cv))
        fig["calibration_cv"] = m_cv
        # the held-out r depends a lot on which polymers are held out: 10 grouped splits
        r_raw, r_cal, mae_cal = [], [], []
        for seed in range(10):
            tr_i, te_i = next(GroupShuffleSplit(n_splits=1, test_size=args.test_fraction,
                                                random_state=seed).split(okr, groups=groups))
            c = Calibration.fit(okr.chi_oracle.to_numpy()[tr_i], okr.chi_exp.to_numpy()[tr_i],
                                args.calibration)
            yt = okr.chi_exp.to_numpy()[te_i]
            r_raw.append(metrics(yt, okr.chi_oracle.to_numpy()[te_i]).get("pearson_r", np.nan))
            mc = metrics(yt, c.apply(okr.chi_oracle.to_numpy()[te_i]))
            r_cal.append(mc.get("pearson_r", np.nan))
            mae_cal.append(mc.get("mae", np.nan))
        print(f"  10 grouped splits (seeds 0-9): held-out r raw mean {np.nanmean(r_raw):.3f}, "
              f"calibrated mean {np.nanmean(r_cal):.3f} (median {np.nanmedian(r_cal):.3f}, "
              f"min {np.nanmin(r_cal):.3f}, max {np.nanmax(r_cal):.3f}); calibrated MAE mean "
              f"{np.nanmean(mae_cal):.3f}")
        fig["calibration_10_splits"] = {"r_raw_mean": float(np.nanmean(r_raw)),
                                        "r_calibrated_mean": float(np.nanmean(r_cal)),
                                        "r_calibrated_median": float(np.nanmedian(r_cal)),
                                        "mae_calibrated_mean": float(np.nanmean(mae_cal))}
        rows.loc[ok, "chi_calibrated_cv"] = pred_cv

    # ---------------------------------------------------------------- reproducibility
    if len(sample):
        rp, rs = sample.iloc[0][pcol], sample.iloc[0].solv
        fresh2 = Oracle(spec, ProfileStore(None))  # fresh in-memory store: recompute both
        t0 = time.perf_counter()
        a = fresh2.chi(rp, rs, float(sample.iloc[0].t_k), polymer_kind=pkind, solvent_kind=skind)
        t_rep = time.perf_counter() - t0
        b = oracle.chi(rp, rs, float(sample.iloc[0].t_k), polymer_kind=pkind, solvent_kind=skind)
        diff = abs(a.chi - b.chi) if a.ok and b.ok else float("nan")
        print(f"\nreproducibility: {rp[:40]} / {rs}: recomputed in a fresh store ({t_rep:.1f} s) "
              f"chi {a.chi:.10f} vs stored {b.chi:.10f}; |diff| = {diff:.2e}")
        fig["repro_abs_diff"] = diff

    csv = out / "oracle_vs_experiment.csv"
    rows.to_csv(csv, index=False)
    print(f"\nper-row CSV written to {csv}")
    fig.update({"cost_solvent_median_s": float(np.median(c_s)), "cost_solvent_max_s": float(c_s.max()),
                "cost_polymer_median_s": float(np.median(c_p)), "cost_polymer_max_s": float(c_p.max()),
                "profiles_wall_s": wall, "profiles_computed": n_new, "profiles_failed": len(failed),
                "chi_fresh_ms": 1e3 * t_fresh, "chi_fresh_with_spread_ms": 1e3 * t_fresh_sp,
                "chi_fresh_cpu_ms": 1e3 * c_fresh, "chi_fresh_with_spread_cpu_ms": 1e3 * c_fresh_sp,
                "chi_batch_ms_per_row": 1e3 * t_rows / max(1, len(rows)), "csv": str(csv),
                **fig_cost, **fig_cpu})
    print(json.dumps(fig, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
