"""Benchmark the open xtb -> COSMO-SAC oracle against experimental chi (and COSMO-RS).

Rows: the 1178 (pair, T) rows where ../shared/data/mtl_chi/data_Chi.csv and data_COSMO.csv
match on (ps_pair, temp). Polymers are built as the cyclic 10-mer of their repeat unit
(``ps_pair_nonCyclic``) through chiscreen.chem, or, with ``--polymer-build dataset``, from the
dataset's own cyclic 10-mer SMILES (``ps_pair``) as the reference prototype did.

Prints, for the old method (profiles + the 2010 literature COSMO-SAC parameters, "raw"), the
fitted method (the same stored profiles + a COSMO-SAC parameter set fitted to experimental chi)
and COSMO-RS on the same rows: Pearson r, Spearman rho, MAE and agreement of the chi < 0.5 call
with experiment, overall and per solvent class (with the mean signed error, "bias"). Every
fitted figure is out of fold: polymer-grouped 5-fold cross-validation (the parameter set that
scores a polymer never saw it), for the parameter fit and for the isotonic calibration alike.
``--levers`` also scores each physics lever (combinatorial term, HB constants, HB width,
free volume, HB temperature dependence, conformer combination) the same way;
``--params-out FILE`` fits the recipe on all rows and writes the parameter-set JSON (this is how
chiscreen/qc/paramsets/*.json is made). Also: per-row agreement with the prototype's output, the
conformer spread, reproducibility from a fresh store, costs per molecule (median, p90) and per
chi. Profiles run in parallel (``--backend process`` or ``ray``; OMP_NUM_THREADS=1 per worker)
and are kept in ``--store``, so a rerun only fits. The per-row CSV goes to ``--out``; the last
printed line is one JSON object with the named figures.

    python bench/oracle_vs_experiment.py --out runs/oracle_bench --store /work/cache/qc-store
    python bench/oracle_vs_experiment.py --max-polymers 8 --out /tmp/ob --store /tmp/os
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
from chiscreen.qc.fit import (RECIPE, FitData, cross_validate, fit_params, fit_provenance,  # noqa: E402
                              grouped_folds, recipe_base)
from chiscreen.qc.params import SAC2010, get_params  # noqa: E402
from chiscreen.qc.parallel import init_ray  # noqa: E402
from chiscreen.qc.profile import water_candidates_of  # noqa: E402
from chiscreen.qc.sigma import combine_profiles  # noqa: E402

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


def solvent_class(smiles: str) -> str:
    """Coarse solvent class from the SMILES (first match): water, acids, alcohols (incl.
    phenols, glycols), halogenated, nitrogen, sulfur/other, oxygenated (ethers, ketones,
    esters), aromatics, aliphatics."""
    from rdkit import Chem

    m = Chem.MolFromSmiles(smiles)
    if m is None:
        return "other"
    if Chem.MolToSmiles(m) == "O":
        return "water"

    def has(smarts: str) -> bool:
        return m.HasSubstructMatch(Chem.MolFromSmarts(smarts))

    for cls, smarts in (("acids", "C(=O)[OX2H1]"), ("alcohols", "[OX2H1][#6]"),
                        ("halogenated", "[Cl,Br,I,F]"), ("nitrogen", "[#7]"),
                        ("sulfur/other", "[#16,#15,#14]"), ("oxygenated", "[#8]"),
                        ("aromatics", "a")):
        if has(smarts):
            return cls
    return "aliphatics"


def lever_variants(recs: dict, pkind: str, skind: str):
    """(label, base set, free parameters, profiles override or None) for the lever table."""
    fh = SAC2010.with_values(combinatorial="fh")
    yield "raw sac2010 (SG), no fit", SAC2010, [], None
    yield "raw sac2010 with FH comb., no fit", fh, [], None
    yield "SG: es, hb", SAC2010, ["es", "hb"], None
    yield "SG: es, hb, sigma_hb", SAC2010, ["es", "hb", "sigma_hb"], None
    yield "FH: es, hb, sigma_hb", fh, ["es", "hb", "sigma_hb"], None
    yield "FH-FV: es, hb, sigma_hb, fv", fh, ["es", "hb", "sigma_hb", "fv"], None
    yield "FH-FV: + ot", fh, ["es", "hb", "ot", "sigma_hb", "fv"], None
    yield "FH-FV: + t_hb", fh, ["es", "hb", "sigma_hb", "fv", "t_hb"], None
    free = ["es", "hb", "sigma_hb", "fv"]
    yield "water split: + ww (OW-OW HB)", fh, free + ["ww"], None
    yield "water split: + ww, wx (OW-other HB)", fh, free + ["ww", "wx"], None
    yield "water split: + ww, sigma_hb_w", fh, free + ["ww", "sigma_hb_w"], None
    yield "water split: + ww, t_hb", fh, free + ["ww", "t_hb"], None
    yield "water split: + ww, ot", fh, free + ["ww", "ot"], None
    if max(r.n_conformers for r in recs.values()) < 2:
        return  # one conformer per molecule: the conformer levers are all the same model
    first = {m: r.conformers[0] for m, r in recs.items()}
    yield "FH-FV, conformer 0 only (1-conformer method)", fh, free, first
    low = {m: r.conformers[int(np.argmin(r.energies))] for m, r in recs.items()}
    yield "FH-FV, lowest-xtb-energy conformer", fh, free, low
    from chiscreen.qc.profile import conformer_weights

    boltz = {m: combine_profiles(r.conformers, conformer_weights(r.energies, "boltzmann", 298.15))
             for m, r in recs.items()}
    yield "FH-FV, Boltzmann-weighted conformers", fh, free, boltz


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
    ap.add_argument("--n-units", type=int, default=None, help="repeat units in the polymer ring")
    ap.add_argument("--no-dipoles", action="store_true")
    ap.add_argument("--backend", choices=("process", "ray", "serial"), default="process")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=1800.0, help="seconds per molecule")
    ap.add_argument("--retries", type=int, default=1)
    ap.add_argument("--calibration", choices=("isotonic", "linear"), default="isotonic",
                    help="the monotone map scored on top of raw and fitted chi (grouped CV)")
    ap.add_argument("--folds", type=int, default=5, help="polymer-grouped CV folds")
    ap.add_argument("--fold-seed", type=int, default=0)
    ap.add_argument("--levers", action="store_true", help="score each physics lever under CV")
    ap.add_argument("--levers-match", default=None,
                    help="only the levers whose label contains this text (with --levers)")
    ap.add_argument("--levers-skip", default=None,
                    help="leave out the levers whose label contains one of these comma-separated "
                         "texts (with --levers)")
    ap.add_argument("--params-out", help="write the all-rows fitted parameter set JSON here")
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
    if args.n_units is not None:
        spec_kw["n_units"] = args.n_units
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
    oracle = Oracle(spec, ProfileStore(args.store), params=SAC2010)  # the old method
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
        print(f"  CPU time (one core, as stored): solvent median {np.median(u_s):.3f} s, p90 "
              f"{np.percentile(u_s, 90):.3f} s; polymer median {np.median(u_p):.2f} s, p90 "
              f"{np.percentile(u_p, 90):.2f} s")
        parts = {k: meta(poly_mols, k).sum() for k in ("t_embed", "t_xtb", "t_cavity")}
        tot = sum(parts.values())
        shares = {k[2:]: float(v / tot) for k, v in parts.items()}
        print("  polymer wall-time shares: " + ", ".join(f"{k} {v:.0%}" for k, v in shares.items()))
        fig_cpu = {"cpu_solvent_median_s": float(np.median(u_s)),
                   "cpu_solvent_p90_s": float(np.percentile(u_s, 90)),
                   "cpu_polymer_median_s": float(np.median(u_p)),
                   "cpu_polymer_p90_s": float(np.percentile(u_p, 90)),
                   "polymer_time_shares": shares}
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
        sh = {k: float(np.sum([m[f"t_{k}"] for m in mp_]) / np.sum(tp)) for k in ("embed", "xtb", "cavity")}
        ts, cs = [m["t_total"] for m in ms_], [m["t_cpu"] for m in ms_]
        load = os.getloadavg()[0]
        print(f"serial re-timing in this process (load average {load:.1f} on {os.cpu_count()} cores): "
              f"{len(pick)} polymers of ~{med:.0f} atoms: median {np.median(cp):.2f} s CPU "
              f"({np.median(tp):.2f} s wall); {len(sol)} solvents: median {np.median(cs):.3f} s CPU "
              f"({np.median(ts):.3f} s wall); polymer shares " +
              ", ".join(f"{k} {v:.0%}" for k, v in sh.items()))
        fig_cost = {"retimed_polymer_shares": sh, "retimed_polymer_median_cpu_s": float(np.median(cp)),
                    "retimed_polymer_median_wall_s": float(np.median(tp)),
                    "retimed_solvent_median_cpu_s": float(np.median(cs)),
                    "retimed_solvent_median_wall_s": float(np.median(ts)), "load_average": load}

    # ---------------------------------------------------------------- chi per row (old method)
    t0 = time.perf_counter()
    res = oracle.chi_rows(list(zip(rows[pcol], rows.solv, rows.t_k)), polymer_kind=pkind,
                          solvent_kind=skind)
    t_rows = time.perf_counter() - t0
    rows["chi_oracle"] = [r.chi if r.ok else np.nan for r in res]
    rows["chi_spread"] = [r.spread if r.ok else np.nan for r in res]
    rows["status"] = ["ok" if r.ok else "failed" for r in res]
    rows["reason"] = [r.reason or "" for r in res]
    ok = (rows.status == "ok").to_numpy()
    okr = rows[ok].reset_index(drop=True)
    groups = okr[pcol].to_numpy()
    y_ok = okr.chi_exp.to_numpy()
    fig: dict = {"rows": int(len(rows)), "rows_ok": int(ok.sum()),
                 "method_version": spec.method_version, "spec": spec.to_dict(),
                 "polymer_build": args.polymer_build, "old_param_set": SAC2010.version}

    # ---------------------------------------------------------------- parameter fit (grouped CV)
    recs = {m: o.record for m, o in outcomes.items() if o.ok}
    fit_rows = [((pkind, p), (skind, s_), t, yv) for p, s_, t, yv in
                zip(okr[pcol], okr.solv, okr.t_k, okr.chi_exp)]
    water = {m: water_candidates_of(r)[0] for m, r in recs.items()}
    data = FitData.build(fit_rows, {m: r.profile for m, r in recs.items()}, water=water)
    base, free = recipe_base(), list(RECIPE["free"])
    t0 = time.perf_counter()
    oof, fold_fits = cross_validate(data, groups, free, base, k=args.folds, seed=args.fold_seed)
    t_cv = time.perf_counter() - t0
    okr["chi_fitted_cv"] = oof
    m_fit = metrics(y_ok, oof)
    print(f"\nparameter fit: recipe {RECIPE['name']} (free {free}, base combinatorial "
          f"{base.combinatorial!r}), {args.folds}-fold polymer-grouped CV in {t_cv:.0f} s")
    for f, fr in enumerate(fold_fits):
        print(f"  fold {f}: " + ", ".join(f"{k}={v:.4g}" for k, v in fr.params.numeric_dict().items()
                                         if isinstance(v, float)) +
              f"  (train MAE {fr.train_mae:.3f}, {fr.nfev} evaluations)")
    # the same split, an isotonic map on top of the old method's chi (the previous calibration)
    folds = grouped_folds(groups, args.folds, args.fold_seed)
    iso_cv = np.full(len(okr), np.nan)
    iso_fit_cv = np.full(len(okr), np.nan)
    for f, te in enumerate(folds):
        tr = np.setdiff1d(np.arange(len(okr)), te)
        c = Calibration.fit(okr.chi_oracle.to_numpy()[tr], y_ok[tr], args.calibration)
        iso_cv[te] = c.apply(okr.chi_oracle.to_numpy()[te])
        # isotonic on top of the fitted set: both fitted on the training polymers only
        pr_tr = data.subset(tr).predict(fold_fits[f].params)
        c2 = Calibration.fit(pr_tr, y_ok[tr], args.calibration)
        iso_fit_cv[te] = c2.apply(oof[te])
    okr["chi_raw_isotonic_cv"] = iso_cv
    okr["chi_fitted_isotonic_cv"] = iso_fit_cv

    print(f"\nagainst experimental chi ({int(ok.sum())} rows where the oracle has a value; "
          f"fitted = out of fold, {args.folds}-fold polymer-grouped CV):")
    m_or = metrics(y_ok, okr.chi_oracle.to_numpy())
    m_rs = metrics(y_ok, okr.chi_cosmors.to_numpy())
    m_iso = metrics(y_ok, iso_cv)
    m_fiso = metrics(y_ok, iso_fit_cv)
    print(fmt("COSMO-RS (COSMOtherm)", m_rs))
    print(fmt(f"old: raw {SAC2010.name}", m_or))
    print(fmt("old + isotonic (CV)", m_iso))
    print(fmt(f"fitted {RECIPE['name']} (CV)", m_fit))
    print(fmt("fitted + isotonic (CV)", m_fiso))
    fig.update({"oracle": m_or, "cosmors": m_rs, "raw_isotonic_cv": m_iso, "fitted_cv": m_fit,
                "fitted_isotonic_cv": m_fiso, "cv_seconds": t_cv, "recipe": RECIPE})
    if "chi_prototype" in okr:
        m_pt = metrics(y_ok, okr.chi_prototype.to_numpy())
        print(fmt("prototype (reference csv)", m_pt))
        agree = metrics(okr.chi_prototype.to_numpy(), okr.chi_oracle.to_numpy())
        print(f"  old method vs prototype per row: r={agree.get('pearson_r', float('nan')):.4f} "
              f"MAE={agree.get('mae', float('nan')):.4f}")
        fig["prototype"] = m_pt
        fig["oracle_vs_prototype_r"] = agree.get("pearson_r")
        fig["oracle_vs_prototype_mae"] = agree.get("mae")
    vs_rs = metrics(okr.chi_cosmors.to_numpy(), okr.chi_oracle.to_numpy())
    vs_rs_f = metrics(okr.chi_cosmors.to_numpy(), oof)
    print(f"  vs COSMO-RS per row: old r={vs_rs.get('pearson_r', float('nan')):.3f}, fitted (CV) "
          f"r={vs_rs_f.get('pearson_r', float('nan')):.3f}")
    fig["oracle_vs_cosmors_r"] = vs_rs.get("pearson_r")

    # ---------------------------------------------------------------- per solvent class
    okr["solvent_class"] = [solvent_class(s_) for s_ in okr.solv]
    print("\nper solvent class (bias = mean(predicted - experimental chi)):")
    print(f"  {'class':<22s} {'n':>4s}  {'COSMO-RS r/MAE/bias':>22s}  {'old r/MAE/bias':>22s}  "
          f"{'fitted(CV) r/MAE/bias':>22s}")
    per_class = {}
    for cls, sub in okr.groupby("solvent_class"):
        yy = sub.chi_exp.to_numpy()
        cells, d = [], {"n": int(len(sub))}
        for name, col in (("cosmors", "chi_cosmors"), ("old", "chi_oracle"),
                          ("fitted_cv", "chi_fitted_cv")):
            x = sub[col].to_numpy()
            mm = metrics(yy, x)
            b = float(np.mean(x - yy))
            d[name] = {**mm, "bias": b}
            r_ = mm.get("pearson_r", float("nan"))
            cells.append(f"{r_:6.3f}/{mm.get('mae', float('nan')):5.3f}/{b:+6.3f}")
        per_class[cls] = d
        print(f"  {cls:<22s} {len(sub):4d}  " + "  ".join(f"{c:>22s}" for c in cells))
    fig["per_solvent_class"] = per_class
    for cls in ("water", "alcohols"):
        if cls in per_class:
            fig[f"{cls}_bias_old"] = per_class[cls]["old"]["bias"]
            fig[f"{cls}_bias_fitted_cv"] = per_class[cls]["fitted_cv"]["bias"]
    print("\nper polymer class (largest four):")
    for cls in okr.polymer_class.value_counts().index[:4]:
        sel = (okr.polymer_class == cls).to_numpy()
        print(fmt(f"  [{cls}] old", metrics(y_ok[sel], okr.chi_oracle.to_numpy()[sel])))
        print(fmt(f"  [{cls}] fitted (CV)", metrics(y_ok[sel], oof[sel])))

    # ---------------------------------------------------------------- levers
    if args.levers:
        print(f"\nphysics levers ({args.folds}-fold polymer-grouped CV; each row one variant):")
        lever_figs = {}
        for label, lbase, lfree, note in lever_variants(recs, pkind, skind):
            if args.levers_match and args.levers_match not in label:
                continue
            if args.levers_skip and any(x and x in label for x in args.levers_skip.split(",")):
                continue
            ldata = data if note is None else FitData.build(fit_rows, note, water=water)
            t0 = time.perf_counter()
            loof, _ = cross_validate(ldata, groups, lfree, lbase, k=args.folds, seed=args.fold_seed)
            mm = metrics(y_ok, loof)
            wb = {c: float(np.mean(loof[(okr.solvent_class == c).to_numpy()]
                                   - y_ok[(okr.solvent_class == c).to_numpy()]))
                  for c in ("water", "alcohols") if (okr.solvent_class == c).any()}
            lever_figs[label] = {**mm, **{f"bias_{c}": b for c, b in wb.items()}}
            print(fmt(label, mm) + "  " + " ".join(f"bias[{c}]={b:+.3f}" for c, b in wb.items())
                  + f"  ({time.perf_counter() - t0:.0f} s)")
        fig["levers"] = lever_figs

    # ---------------------------------------------------------------- fit on all rows
    full = fit_params(data, free, base, name=RECIPE["name"])
    prov = fit_provenance(full, free, spec.method_version,
                          "mtl_chi data_Chi.csv x data_COSMO.csv (matched rows), experimental chi only",
                          cv={"folds": args.folds, "grouping": "polymer", "fold_seed": args.fold_seed,
                              **{k: m_fit.get(k) for k in ("n", "pearson_r", "spearman_rho", "mae",
                                                             "agree_chi_lt_0.5")},
                              "rmse": float(np.sqrt(np.mean((oof - y_ok) ** 2)))})
    prov.update({"engine": spec.engine, "spec": spec.to_dict(), "polymer_build": args.polymer_build,
                 "n_polymers": int(len(set(groups)))})
    fitted = full.params.with_values(profile_method=spec.method_version, provenance=prov)
    print(f"\nall-rows fit ({full.nfev} evaluations): " + ", ".join(
        f"{k}={v:.4g}" for k, v in fitted.numeric_dict().items() if isinstance(v, float)) +
        f"; in-sample MAE {full.train_mae:.3f}, r {full.train_pearson_r:.3f} (not a CV figure)")
    fig["fitted_params_all_rows"] = fitted.numeric_dict()
    if args.params_out:
        path = fitted.save(args.params_out)
        print(f"parameter set {fitted.version} written to {path}")
    shipped = get_params(None)
    if shipped.name != SAC2010.name:
        same = shipped.numeric_dict() == fitted.numeric_dict()
        print(f"shipped default parameter set: {shipped.version} (fitted on "
              f"{shipped.profile_method}); equal to this all-rows fit: {same}")
        fig["shipped_param_set"] = shipped.version

    # ---------------------------------------------------------------- chi cost from stored profiles
    fresh = Oracle(spec, ProfileStore(args.store), params=fitted)
    sample = okr.sample(min(200, len(okr)), random_state=0)
    recs_s = [(fresh.record(pkind, p), fresh.record(skind, s_), t + 0.0137 * i)
              for i, (p, s_, t) in enumerate(zip(sample[pcol], sample.solv, sample.t_k))]
    n_rec = max(1, len(recs_s))
    t0, c0 = time.perf_counter(), time.process_time()
    for pr, sr, t in recs_s:
        fresh.chi_from_records(pr, sr, t, spread=False)
    t_fresh, c_fresh = (time.perf_counter() - t0) / n_rec, (time.process_time() - c0) / n_rec
    t0, c0 = time.perf_counter(), time.process_time()
    for pr, sr, t in recs_s:
        fresh.chi_from_records(pr, sr, t + 0.001, spread=True)
    t_fresh_sp, c_fresh_sp = (time.perf_counter() - t0) / n_rec, (time.process_time() - c0) / n_rec
    print(f"\nchi from stored profiles (fitted set), new (pair, T): {1e3 * c_fresh:.2f} ms CPU "
          f"({1e3 * t_fresh:.2f} ms wall) for the value, {1e3 * c_fresh_sp:.2f} ms CPU with the "
          f"conformer spread; old-set batch of {len(rows)} rows {1e3 * t_rows / max(1, len(rows)):.2f}"
          f" ms/row wall (segment terms cached per molecule and T)")
    # the oracle with the fitted set reproduces the fit's numbers
    chk = np.array([fresh.chi_from_records(pr, sr, t - 0.0137 * i, spread=False)[0]
                    for i, (pr, sr, t) in enumerate(recs_s)])
    chk_ref = data.subset(sample.index.to_numpy()).predict(fitted)
    fig["oracle_vs_fit_max_abs_diff"] = float(np.max(np.abs(chk - chk_ref)))
    print(f"  Oracle(params=fitted) vs the fit's own evaluation: max |diff| "
          f"{fig['oracle_vs_fit_max_abs_diff']:.1e}")

    # ---------------------------------------------------------------- conformer spread
    sp_old = okr.chi_spread.to_numpy()
    sp_fit = np.array([fresh.chi_from_records(pr, sr, t, spread=True)[1]
                       for pr, sr, t in recs_s])
    fig["spread_median"] = float(np.median(sp_old)) if len(sp_old) else None
    fig["spread_mean"] = float(np.mean(sp_old)) if len(sp_old) else None
    fig["spread_p90"] = float(np.percentile(sp_old, 90)) if len(sp_old) else None
    fig["spread_fitted_median"] = float(np.median(sp_fit)) if len(sp_fit) else None
    print(f"\nconformer spread of chi ({spec.n_conformers} conformers, {spec.combine}): old set "
          f"median {fig['spread_median']:.4f}, mean {fig['spread_mean']:.4f}, p90 "
          f"{fig['spread_p90']:.4f}; fitted set (200 rows) median {fig['spread_fitted_median']:.4f}")

    # ---------------------------------------------------------------- reproducibility
    if len(sample):
        rp, rs = sample.iloc[0][pcol], sample.iloc[0].solv
        fresh2 = Oracle(spec, ProfileStore(None), params=fitted)  # in-memory store: recompute
        t0 = time.perf_counter()
        a = fresh2.chi(rp, rs, float(sample.iloc[0].t_k), polymer_kind=pkind, solvent_kind=skind)
        t_rep = time.perf_counter() - t0
        b = fresh.chi(rp, rs, float(sample.iloc[0].t_k), polymer_kind=pkind, solvent_kind=skind)
        diff = abs(a.chi - b.chi) if a.ok and b.ok else float("nan")
        print(f"\nreproducibility: {rp[:40]} / {rs}: recomputed in a fresh store ({t_rep:.1f} s) "
              f"chi {a.chi:.10f} vs stored {b.chi:.10f}; |diff| = {diff:.2e}")
        fig["repro_abs_diff"] = diff

    rows = rows.merge(okr[["ps_pair", "temp", "solvent_class", "chi_fitted_cv", "chi_raw_isotonic_cv",
                           "chi_fitted_isotonic_cv"]], on=["ps_pair", "temp"], how="left")
    csv = out / "oracle_vs_experiment.csv"
    rows.to_csv(csv, index=False)
    print(f"\nper-row CSV written to {csv}")
    fig.update({"raw_pearson_r": m_or.get("pearson_r"), "raw_spearman_rho": m_or.get("spearman_rho"),
                "raw_mae": m_or.get("mae"), "raw_agree_chi_lt_0.5": m_or.get("agree_chi_lt_0.5"),
                "fitted_pearson_r": m_fit.get("pearson_r"),
                "fitted_spearman_rho": m_fit.get("spearman_rho"), "fitted_mae": m_fit.get("mae"),
                "fitted_agree_chi_lt_0.5": m_fit.get("agree_chi_lt_0.5"),
                "cosmors_pearson_r": m_rs.get("pearson_r"), "cosmors_mae": m_rs.get("mae"),
                "cost_solvent_median_s": float(np.median(c_s)),
                "cost_solvent_p90_s": float(np.percentile(c_s, 90)), "cost_solvent_max_s": float(c_s.max()),
                "cost_polymer_median_s": float(np.median(c_p)),
                "cost_polymer_p90_s": float(np.percentile(c_p, 90)), "cost_polymer_max_s": float(c_p.max()),
                "profiles_wall_s": wall, "profiles_computed": n_new, "profiles_failed": len(failed),
                "chi_fresh_ms": 1e3 * t_fresh, "chi_fresh_with_spread_ms": 1e3 * t_fresh_sp,
                "chi_fresh_cpu_ms": 1e3 * c_fresh, "chi_fresh_with_spread_cpu_ms": 1e3 * c_fresh_sp,
                "chi_batch_ms_per_row": 1e3 * t_rows / max(1, len(rows)), "csv": str(csv),
                **fig_cost, **fig_cpu})
    print(json.dumps(fig, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
