"""Uncertainty on unseen polymers: the applicability-domain score and the calibrated std / 95 % interval.

Nested, strict leave-polymer-out: GroupKFold(5) by polymer over the experimental chi rows (the
folds of ``bench/model_eval.py --eval polymer``: fold seed = seed set), every row of a test
polymer (chi_exp, chi_comp, soluble, chi_oracle) out of training; with a chi_oracle table in the
config its labels are recomputed per outer fold with the oracle recipe refitted on the fold's
training polymers (bench/model_eval.py's OracleProtocol and its cached refits), as a user
retraining on those polymers would have them. Inside every outer fold, what ``chiscreen train``
does on the fold's training rows:

1. the calibration folds of ``calibration`` (``calibration_folds``: by mixed / polymer / pair);
   for the first ``--inner-folds`` of them an ensemble is trained without the fold and its
   held-out chi_exp rows are stored (y, mean, raw std, AD scores against that model's own
   training molecules under each domain reference, whether the row's polymer was held out);
2. the final ensemble on all the fold's training rows predicts the test polymers (AD scores
   against each reference).

Every calibration fit (``chiscreen.model.domain.fit_inflation``, each ``method``; 1..inner-folds
calibration folds; each domain reference) is then applied to the test rows from those stored
residuals, so one set of trainings compares them all. Reported per seed set and pooled:
coverage of mean +- 1 calibrated std (goal 0.68 +- 0.05) and of the calibrated 95 % interval
(goal 0.95 +- 0.03), Spearman(AD score, |error|), coverage per AD quintile; the plot
``uncertainty_domain.png`` under --out for the configuration's own choice.

    python bench/uncertainty_domain.py --config configs/train-oracle.yaml --members 5 --seeds 0 1 \\
        --inner-folds 2 --oracle-store /work/cache/qc-store --out bench/results/uncertainty_domain
    python bench/uncertainty_domain.py ... --replot      # metrics + plot again from the stored CSVs

Resumable: every finished training writes its CSV under --out/folds-s{seed}/ and a rerun skips it.
Ends with ONE JSON object on the last line.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chiscreen.config import from_dict, load_config, to_dict  # noqa: E402
from chiscreen.model.config import TrainConfig  # noqa: E402

REFS = ("measured", "chi")
METHODS = ("pooled", "unseen", "split")


def make_config(path: Path, sets: list[str], members: int | None) -> TrainConfig:
    import yaml

    d = to_dict(load_config(path, TrainConfig))
    for s in sets:
        k, v = s.split("=", 1)
        cur = d
        parts = k.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = yaml.safe_load(v)
    if members:
        d["n_members"] = members
    return from_dict(TrainConfig, d)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def predict_refs(ens, sub, full, rows: np.ndarray, task: str = "chi_exp") -> dict:
    """Raw mean / std of ``task`` at label-table rows ``rows`` of ``full`` and the AD scores of
    those rows against the training molecules of ``sub`` under each domain reference."""
    from chiscreen.model.domain import domain_for_training

    r = full.tasks[task]
    pos = {int(x): i for i, x in enumerate(r.row)}
    sel = np.array([pos[int(x)] for x in rows], dtype=np.int64)
    out = {"row": rows, "y": r.y[sel]}
    for ref in REFS:
        ens.domain = domain_for_training(ens, sub, ref)
        post = ens.posterior(full.Xp[r.pi[sel]], full.Xs[r.si[sel]], r.T[sel])
        out.setdefault("pred", post.mean_of(task))
        out.setdefault("std", post.std_of(task))
        out[f"ad_{ref}"], out[f"adp_{ref}"], out[f"ads_{ref}"] = post.ad, post.ad_polymer, post.ad_solvent
    ens.domain = None
    return out


def run_seed(cfg: TrainConfig, data, prot, n_inner: int, fold_dir: Path, log=print) -> None:
    """All trainings of one seed set (skipping those stored under ``fold_dir``)."""
    import pandas as pd

    from chiscreen.data.splits import grouped_kfold
    from chiscreen.model.calibration import calibration_folds
    from chiscreen.model.evaluate import EXP_SOURCE
    from chiscreen.model.train import train_ensemble
    from chiscreen.schema import POLYMER_KEY

    fold_dir.mkdir(parents=True, exist_ok=True)
    t = data.table
    pos = np.flatnonzero((t["source"] == EXP_SOURCE).to_numpy())
    exdf = t.loc[pos].reset_index(drop=True)
    poly = t[POLYMER_KEY].to_numpy()
    cal = cfg.calibration
    # phase order: the final model and inner fold 0 of every outer fold first, then inner fold 1, ...
    jobs = [(k, j) for k in range(5) for j in ("final", 0)] + [(k, j) for j in range(1, n_inner) for k in range(5)]
    folds = list(grouped_kfold(exdf, by="polymer", n_splits=5, seed=cfg.seed))
    prepared: dict = {}
    for k, j in jobs:
        f = fold_dir / (f"final-{k}.csv" if j == "final" else f"inner-{k}-{j}.csv")
        if f.is_file():
            continue
        te_pos = pos[folds[k][1]]
        held = set(poly[te_pos])
        in_held = np.isin(poly, list(held))
        if k not in prepared:
            prepared.clear()
            if prot is not None:
                sub, full, _, _ = prot.prepare(~in_held, held, ~in_held, te_pos)
                n0 = int((~in_held & prot.is_oracle).sum())
                n1 = len(sub.tasks["chi_oracle"]) if "chi_oracle" in sub.tasks else 0
                log(f"  fold {k}: {n1} of {n0} training chi_oracle rows relabelled")
                if n1 < 0.9 * n0:
                    raise SystemExit(f"fold {k}: only {n1} of {n0} chi_oracle rows could be relabelled "
                                     "(profiles missing from the store: pass --oracle-store)")
            else:
                sub, full = data.subset_rows(~in_held), data
            prepared[k] = (sub, full)
        sub, full = prepared[k]
        t0, c0 = time.perf_counter(), _cpu()
        if j == "final":
            res = train_ensemble(cfg, sub, log=lambda m: None, progress=False)
            p = predict_refs(res.ensemble, sub, full, te_pos)
            p = pd.DataFrame(p)
            p["group"] = poly[te_pos]
        else:
            hm = calibration_folds(sub, cal.by, cal.n_splits, cfg.seed)[j]
            inner = sub.subset_rows(~hm)
            res = train_ensemble(cfg, inner, log=lambda m: None, progress=False)
            r = sub.tasks["chi_exp"]
            rows = r.row[hm[r.row]]
            held_in = set(sub.table[POLYMER_KEY].to_numpy()[hm & ~np.isin(
                sub.table[POLYMER_KEY].to_numpy(), list(set(inner.table[POLYMER_KEY])))])
            p = pd.DataFrame(predict_refs(res.ensemble, inner, sub, rows))
            p["group"] = sub.table[POLYMER_KEY].to_numpy()[rows]
            p["unseen"] = p["group"].isin(held_in)
            p["inner"] = j
        p["fold"] = k
        p["seconds"], p["cpu_seconds"] = time.perf_counter() - t0, _cpu() - c0
        p.to_csv(f, index=False)
        log(f"  fold {k} {'final' if j == 'final' else f'inner {j}'}: {len(p)} rows, "
            f"{p['seconds'].iloc[0]:.0f} s wall / {p['cpu_seconds'].iloc[0]:.0f} s CPU, load {os.getloadavg()[0]:.1f}")


def apply_fits(fold_dir: Path, method: str, use_folds: int, ref: str):
    """Test-row predictions with the calibration fitted per outer fold from its stored inner
    residuals (the first ``use_folds`` calibration folds): DataFrame with y, pred, std, ad,
    std_cal, lo95, hi95, fold, and the fitted parameters per fold."""
    import pandas as pd

    from chiscreen.model.domain import fit_inflation

    outs, pars = [], []
    for k in range(5):
        fin = fold_dir / f"final-{k}.csv"
        inn = [fold_dir / f"inner-{k}-{j}.csv" for j in range(use_folds)]
        if not fin.is_file() or not all(x.is_file() for x in inn):
            return None, None
        q = pd.concat([pd.read_csv(x) for x in inn], ignore_index=True)
        fit = fit_inflation(q["y"], q["pred"], q["std"], q[f"ad_{ref}"], unseen=q["unseen"].to_numpy(bool),
                            method=method)
        p = pd.read_csv(fin)
        ad = p[f"ad_{ref}"].to_numpy(float)
        g = fit["std_scale"] * (1.0 + fit["slope"] * np.minimum(ad, fit["cap"]))
        p["ad"], p["ad_polymer"] = ad, p[f"adp_{ref}"]
        p["std_scale"] = fit["std_scale"]
        p["std_cal"] = p["std"] * g
        p["lo95"], p["hi95"] = p["pred"] - fit["k95"] * p["std_cal"], p["pred"] + fit["k95"] * p["std_cal"]
        qu = q[q["unseen"]]
        p["factor_unseen_no_ad"] = float(np.quantile(np.abs(qu["y"] - qu["pred"]) / qu["std"], 0.6827)) if len(qu) else np.nan
        outs.append(p)
        pars.append({"fold": k, **{x: fit[x] for x in ("std_scale", "slope", "cap", "k95", "n")},
                     "n_unseen": int(q["unseen"].sum()), "n_unseen_polymers": int(q.loc[q["unseen"], "group"].nunique())})
    return pd.concat(outs, ignore_index=True), pars


def calibration_size_diagnostic(tests, ref: str, method: str = "pooled", sizes=(4, 7, 14, 21, 28), reps: int = 300,
                                seed: int = 0) -> dict:
    """Not nested (a diagnostic of the number of calibration polymers, no training): from the
    pooled test-row residuals of the final fold models (every polymer predicted unseen), draw m
    polymers as the calibration set, fit (``method``, all rows unseen), and score 1-std and 95 %
    coverage on the other polymers; mean and 10-90 % range over ``reps`` draws per m."""
    from chiscreen.model.domain import fit_inflation

    rng = np.random.default_rng(seed)
    g = tests["group"].astype(str).to_numpy()
    ug = np.unique(g)
    y, mu, sd, ad = (tests[c].to_numpy(float) for c in ("y", "pred", "std", f"ad_{ref}"))
    err = np.abs(y - mu)
    out = {}
    for m in sizes:
        if m >= len(ug) - 2:
            continue
        c1, c95 = [], []
        for _ in range(reps):
            cal = np.isin(g, rng.choice(ug, size=m, replace=False))
            f = fit_inflation(y[cal], mu[cal], sd[cal], ad[cal], method=method)
            if not np.isfinite(f["k95"]):
                continue
            c = sd[~cal] * f["std_scale"] * (1 + f["slope"] * np.minimum(ad[~cal], f["cap"]))
            c1.append(float((err[~cal] <= c).mean()))
            c95.append(float((err[~cal] <= f["k95"] * c).mean()))
        out[str(m)] = {"coverage_1sd_mean": float(np.mean(c1)), "coverage_1sd_p10_p90": [float(np.quantile(c1, 0.1)), float(np.quantile(c1, 0.9))],
                       "coverage_95_mean": float(np.mean(c95)), "coverage_95_p10_p90": [float(np.quantile(c95, 0.1)), float(np.quantile(c95, 0.9))],
                       "draws": len(c1)}
    return out


def cross_outer_fit(fold_dir: Path, method: str, ref: str):
    """Not nested (diagnostic): each outer fold calibrated on the OTHER outer folds' test-row
    residuals (~37 polymers, from final models that did see this fold's polymers)."""
    import pandas as pd

    from chiscreen.model.domain import fit_inflation

    fins = [fold_dir / f"final-{k}.csv" for k in range(5)]
    if not all(f.is_file() for f in fins):
        return None
    ps = [pd.read_csv(f) for f in fins]
    outs = []
    for k in range(5):
        q = pd.concat([ps[j] for j in range(5) if j != k], ignore_index=True)
        fit = fit_inflation(q["y"], q["pred"], q["std"], q[f"ad_{ref}"], method=method)
        p = ps[k].copy()
        ad = p[f"ad_{ref}"].to_numpy(float)
        p["ad"], p["ad_polymer"], p["std_scale"] = ad, p[f"adp_{ref}"], fit["std_scale"]
        p["std_cal"] = p["std"] * fit["std_scale"] * (1.0 + fit["slope"] * np.minimum(ad, fit["cap"]))
        p["lo95"], p["hi95"] = p["pred"] - fit["k95"] * p["std_cal"], p["pred"] + fit["k95"] * p["std_cal"]
        p["factor_unseen_no_ad"] = float(np.quantile(np.abs(q["y"] - q["pred"]) / q["std"], 0.6827))
        outs.append(p)
    return pd.concat(outs, ignore_index=True)


def metrics(p) -> dict:
    from scipy.stats import spearmanr

    from chiscreen.model.domain import binned_coverage
    from chiscreen.model.evaluate import regression_metrics

    y, mu = p["y"].to_numpy(float), p["pred"].to_numpy(float)
    err = np.abs(y - mu)
    raw, cal = p["std"].to_numpy(float), p["std_cal"].to_numpy(float)
    const = raw * p["std_scale"].to_numpy(float)
    nodom = raw * p["factor_unseen_no_ad"].to_numpy(float)
    ad = p["ad"].to_numpy(float)
    inside95 = (y >= p["lo95"].to_numpy(float)) & (y <= p["hi95"].to_numpy(float))
    # polymer-block bootstrap (the rows of one polymer are not independent): 90 % range of each coverage
    grp = p["group"].astype(str).to_numpy()
    ug, inv = np.unique(grp, return_inverse=True)
    c1, c95 = np.bincount(inv, err <= cal), np.bincount(inv, inside95)
    cnt = np.bincount(inv).astype(float)
    rng = np.random.default_rng(0)
    bs = rng.integers(0, len(ug), size=(1000, len(ug)))
    w = np.stack([np.bincount(b, minlength=len(ug)) for b in bs])
    boot1, boot95 = (w @ c1) / (w @ cnt), (w @ c95) / (w @ cnt)
    return {
        "coverage_1sd_boot90": [float(np.quantile(boot1, 0.05)), float(np.quantile(boot1, 0.95))],
        "coverage_95_boot90": [float(np.quantile(boot95, 0.05)), float(np.quantile(boot95, 0.95))],
        "n_polymers": int(len(ug)),
        "n": int(len(p)), **{f"lpo_{k}": v for k, v in regression_metrics(y, mu).items() if k != "n"},
        "coverage_1sd": float((err <= cal).mean()),
        "coverage_95": float(inside95.mean()),
        "coverage_1sd_std_scale_only": float((err <= const).mean()),
        "coverage_1sd_unseen_factor_without_ad": float((err <= nodom).mean()),
        "coverage_1sd_raw": float((err <= raw).mean()),
        "coverage_1.96sd_calibrated_gaussian": float((err <= 1.96 * cal).mean()),
        "spearman_ad_abs_err": float(spearmanr(ad, err).statistic),
        "spearman_ad_polymer_abs_err": float(spearmanr(p["ad_polymer"], err).statistic),
        "spearman_raw_std_abs_err": float(spearmanr(raw, err).statistic),
        "spearman_cal_std_abs_err": float(spearmanr(cal, err).statistic),
        "ad_median": float(np.median(ad)), "ad_p90": float(np.quantile(ad, 0.9)),
        "by_ad_quintile": [
            {**b1, "coverage_95": b2["coverage"], "median_abs_err": float(np.median(err[(ad >= b1["lo"]) & (ad <= b1["hi"])]))}
            for b1, b2 in zip(binned_coverage(ad, err / cal, 5), binned_coverage(ad, np.where(inside95, 0.0, 2.0), 5))],
    }


def plot(p, path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import spearmanr

    from chiscreen.model.domain import binned_coverage

    y, mu = p["y"].to_numpy(float), p["pred"].to_numpy(float)
    err = np.abs(y - mu)
    ad = p["ad"].to_numpy(float)
    cal = p["std_cal"].to_numpy(float)
    const = p["std"].to_numpy(float) * p["std_scale"].to_numpy(float)
    inside = ((y >= p["lo95"]) & (y <= p["hi95"])).to_numpy()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4))
    ax = axes[0]
    for z, lab, c, ls in ((err / cal, "1 std, with AD inflation", "tab:blue", "-"),
                          (err / const, "1 std, std_scale alone", "tab:blue", ":"),
                          (np.where(inside, 0.0, 2.0), "95 % interval", "tab:red", "-")):
        b = binned_coverage(ad, z, 6)
        x = [float(np.median(ad[(ad >= r["lo"]) & (ad <= r["hi"])])) for r in b]
        ax.plot(x, [r["coverage"] for r in b], ls, marker="o", c=c, label=lab)
    ax.axhspan(0.63, 0.73, color="tab:blue", alpha=0.1)
    ax.axhspan(0.92, 0.98, color="tab:red", alpha=0.1)
    ax.set_xlabel("AD score (median of each sextile of rows)")
    ax.set_ylabel("coverage on held-out polymers")
    ax.set_ylim(0.2, 1.02)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(title, fontsize=9)
    ax = axes[1]
    ax.scatter(ad, err, s=6, alpha=0.35, c="tab:gray", label="|error|")
    ax.scatter(ad, cal, s=4, alpha=0.35, c="tab:blue", label="calibrated std")
    ax.set_yscale("log")
    ax.set_xlabel("AD score")
    ax.set_ylabel("chi")
    ax.set_title(f"|error| vs AD score (Spearman {spearmanr(ad, err).statistic:.2f})", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "configs" / "train-oracle.yaml"))
    ap.add_argument("--set", action="append", default=[], help="config override, e.g. calibration.by=polymer")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--members", type=int, default=None)
    ap.add_argument("--inner-folds", type=int, default=2, help="calibration folds trained per outer fold (stored)")
    ap.add_argument("--no-oracle-refit", action="store_true",
                    help="use the chi_oracle table's labels as shipped (not refitted per outer fold)")
    ap.add_argument("--oracle-store", default=None,
                    help="profile store for the oracle relabelling (default: $CHISCREEN_CACHE/oracle; the "
                         "benches' full store is /work/cache/qc-store)")
    ap.add_argument("--oracle-fit-cache", default=str(ROOT / "bench" / "results" / "oracle_fits"))
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "uncertainty_domain"))
    ap.add_argument("--replot", action="store_true", help="only redo the fits, metrics and plot from --out")
    a = ap.parse_args(argv)
    import pandas as pd

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg0 = make_config(Path(a.config), a.set, a.members)
    t_all, c_all = time.perf_counter(), _cpu()
    if not a.replot:
        from chiscreen.model.data import load_training_data

        data = load_training_data(cfg0.data, progress=False)
        prot = None
        if "chi_oracle" in data.tasks and len(data.tasks["chi_oracle"]) and not a.no_oracle_refit:
            sys.path.insert(0, str(ROOT / "bench"))
            from model_eval import OracleProtocol

            store = a.oracle_store or os.path.join(os.environ.get("CHISCREEN_CACHE", str(Path.home() / ".cache" / "chiscreen")), "oracle")
            prot = OracleProtocol(data, store, "none", Path(a.oracle_fit_cache), log=lambda m: print(m, flush=True))
        for seed in a.seeds:
            cfg = make_config(Path(a.config), a.set, a.members)
            cfg.seed = seed
            print(f"seed set {seed}: {cfg.n_members} members, calibration {to_dict(cfg.calibration)}, "
                  f"{a.inner_folds} calibration folds stored", flush=True)
            run_seed(cfg, data, prot, a.inner_folds, out / f"folds-s{seed}", log=lambda m: print(m, flush=True))
    cal = cfg0.calibration
    own = (getattr(cal, "fit", "pooled"), cal.use_folds, getattr(cal, "reference", "chi"))
    summary = {"protocol": "nested strict LPO: GroupKFold(5) by polymer (fold seed = seed set); per outer fold "
                           "calibration folds + final training as chiscreen train, oracle labels refitted per outer fold"
                           + (" (off)" if a.no_oracle_refit else ""),
               "config": a.config, "overrides": a.set, "members": cfg0.n_members, "seeds": a.seeds,
               "config_choice": {"fit": own[0], "use_folds": own[1], "reference": own[2]}, "variants": {}}
    print("\nvariant (fit / calibration folds / AD reference): seed sets' 1-std coverage, 95 % coverage, Spearman(AD,|err|)")
    for method in METHODS:
        for uf in range(1, a.inner_folds + 1):
            for ref in REFS:
                per, pooled = {}, []
                for seed in a.seeds:
                    p, pars = apply_fits(out / f"folds-s{seed}", method, uf, ref)
                    if p is None:
                        continue
                    per[f"seed{seed}"] = {**metrics(p), "fits": pars}
                    pooled.append(p)
                if not per:
                    continue
                name = f"{method}/{uf}/{ref}"
                pm = metrics(pd.concat(pooled, ignore_index=True))
                summary["variants"][name] = {"pooled": pm, **per}
                cells = "  ".join(f"{v['coverage_1sd']:.3f} {v['coverage_95']:.3f} {v['spearman_ad_abs_err']:+.3f}"
                                  for v in per.values())
                print(f"  {name:22s} {cells}   pooled {pm['coverage_1sd']:.3f} {pm['coverage_95']:.3f}", flush=True)
                if (method, uf, ref) == own:
                    summary["chosen"] = name
                    plot(pd.concat(pooled, ignore_index=True), out / "uncertainty_domain.png",
                         f"nested strict LPO, {len(pd.concat(pooled))} rows, fit {name}")
    print("\ndiagnostics (NOT nested): calibration on the other outer folds' test residuals (~37 polymers)")
    summary["diagnostic_cross_outer"], summary["diagnostic_calibration_size"] = {}, {}
    for ref in REFS:
        for method in ("pooled",):
            ps = {seed: cross_outer_fit(out / f"folds-s{seed}", method, ref) for seed in a.seeds}
            ps = {s_: p for s_, p in ps.items() if p is not None}
            if not ps:
                continue
            ms = {f"seed{s_}": metrics(p) for s_, p in ps.items()}
            summary["diagnostic_cross_outer"][f"{method}/{ref}"] = ms
            print(f"  {method}/{ref}: " + "  ".join(f"{v['coverage_1sd']:.3f} {v['coverage_95']:.3f}" for v in ms.values()))
            allt = pd.concat([pd.read_csv(f) for s_ in ps for f in sorted((out / f"folds-s{s_}").glob("final-*.csv"))],
                             ignore_index=True)
            d = calibration_size_diagnostic(allt, ref, method)
            summary["diagnostic_calibration_size"][f"{method}/{ref}"] = d
            print(f"  calibration on m random polymers' residuals, scored on the others ({method}/{ref}): " +
                  "; ".join(f"m={m}: 1 std {v['coverage_1sd_mean']:.3f} [{v['coverage_1sd_p10_p90'][0]:.2f}-{v['coverage_1sd_p10_p90'][1]:.2f}], "
                            f"95 % {v['coverage_95_mean']:.3f}" for m, v in d.items()))
    ch = summary["variants"].get(summary.get("chosen", ""), {})
    for key, v in ch.items():
        print(f"{summary['chosen']} {key}: 1 std {v['coverage_1sd']:.3f} (std_scale alone {v['coverage_1sd_std_scale_only']:.3f}, "
              f"unseen factor without AD {v['coverage_1sd_unseen_factor_without_ad']:.3f}, raw {v['coverage_1sd_raw']:.3f}); "
              f"95 % {v['coverage_95']:.3f}; Spearman(AD, |err|) {v['spearman_ad_abs_err']:.3f}; LPO R2 {v['lpo_r2']:.3f}")
        for b in v["by_ad_quintile"]:
            print(f"    AD {b['lo']:.2f}-{b['hi']:.2f} (n={b['n']}): 1 std {b['coverage']:.2f}, 95 % {b['coverage_95']:.2f}, "
                  f"median |err| {b['median_abs_err']:.3f}")
    summary["seconds"], summary["cpu_seconds"] = time.perf_counter() - t_all, _cpu() - c_all
    summary["loadavg"] = os.getloadavg()
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    print(f"wrote {out}/summary.json" + (f", {out}/uncertainty_domain.png" if "chosen" in summary else ""))
    short = {"chosen": summary.get("chosen")}
    for key, v in ch.items():
        short.update({f"{key}_{m}": v[m] for m in ("coverage_1sd", "coverage_95", "spearman_ad_abs_err")})
    print(json.dumps(short, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
