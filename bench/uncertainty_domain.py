"""Uncertainty on unseen polymers: the applicability-domain score and the calibrated std / 95 % interval.

Leave-polymer-out (GroupKFold(5) by polymer over the experimental chi rows, the folds of
``chiscreen evaluate --splits polymer``), strict protocol (every row of a test polymer out of
all tasks). Inside every outer fold the training rows go through what ``chiscreen train``
does -- std calibration with the AD inflation on its own grouped folds (``calibration`` of the
config), the final ensemble, the domain reference of its training molecules -- and the model
predicts the held-out polymers. Reported per seed set and pooled:

- coverage of mean +- 1 calibrated std (goal 0.68 +- 0.05) and of the calibrated 95 % interval
  (goal 0.95 +- 0.03); the same with std_scale alone (no AD inflation), and raw;
- Spearman(AD score, |error|) (and of the std);
- coverage per AD-score quintile; plot ``uncertainty_domain.png`` (coverage vs AD bins,
  |error| vs AD score) under --out.

    python bench/uncertainty_domain.py --members 5 --seeds 0 1 --out bench/results/uncertainty_domain

Ends with ONE JSON object on the last line.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chiscreen.config import from_dict, load_config, to_dict  # noqa: E402
from chiscreen.model.config import TrainConfig  # noqa: E402


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


def lpo_predictions(cfg: TrainConfig, data, n_splits: int = 5, log=print, fold_dir: Path | None = None):
    """Per-row leave-polymer-out predictions of chi_exp, each outer fold trained (and calibrated)
    as ``chiscreen train`` would on its training rows. With ``fold_dir`` every finished fold is
    written there (fold-K.csv / fold-K.json) and a rerun skips it (resumable)."""
    import pandas as pd

    from chiscreen.data.splits import grouped_kfold
    from chiscreen.model.calibration import calibrate_std, predict_task_rows
    from chiscreen.model.domain import domain_for_training
    from chiscreen.model.evaluate import EXP_SOURCE, regression_metrics
    from chiscreen.model.train import train_ensemble
    from chiscreen.schema import POLYMER_KEY

    t = data.table
    is_exp = (t["source"] == EXP_SOURCE).to_numpy()
    pos = np.flatnonzero(is_exp)
    exdf = t.loc[pos].reset_index(drop=True)
    poly = t[POLYMER_KEY].to_numpy()
    outs, cals = [], []
    for k, (_, te) in enumerate(grouped_kfold(exdf, by="polymer", n_splits=n_splits, seed=0)):
        t0 = time.perf_counter()
        if fold_dir is not None and (fold_dir / f"fold-{k}.json").is_file():
            outs.append(pd.read_csv(fold_dir / f"fold-{k}.csv"))
            cals.append(json.loads((fold_dir / f"fold-{k}.json").read_text()))
            log(f"  fold {k}: done earlier ({fold_dir})")
            continue
        te_pos = pos[te]
        held = set(poly[te_pos])
        keep = ~np.isin(poly, list(held))          # strict: every row of a test polymer out of every task
        sub = data.subset_rows(keep)
        cal = calibrate_std(cfg, sub, log=lambda m: None)
        res = train_ensemble(cfg, sub, log=lambda m: None, progress=False)
        ens = res.ensemble
        ens.std_scale = {**ens.std_scale, **cal["std_scale"]}
        ens.domain = domain_for_training(ens, sub)
        ens.domain.inflation = dict(cal.get("domain_inflation") or {})
        p = predict_task_rows(ens, data, te_pos, "chi_exp")
        chi_ref = ens.domain   # the alternative reference (every task's molecules), for comparison only
        ens.domain = domain_for_training(ens, sub, tasks="all")
        p["ad_allref"] = predict_task_rows(ens, data, te_pos, "chi_exp")["ad"].to_numpy()
        ens.domain = chi_ref
        p["fold"] = k
        p["group"] = poly[te_pos]
        p["std_scale"] = ens.std_scale["chi_exp"]
        p["std_scale_without_domain"] = cal.get("chi_exp_std_scale_without_domain", np.nan)
        m = regression_metrics(p["y"], p["pred"])
        inf = ens.domain.inflation.get("chi_exp", {})
        log(f"  fold {k}: {len(held)} polymers, {len(p)} rows, R2 {m['r2']:.3f}; std_scale {ens.std_scale['chi_exp']:.2f} "
            f"slope {inf.get('slope', float('nan')):.2f} cap {inf.get('cap', float('nan')):.2f} k95 {inf.get('k95', float('nan')):.2f}; "
            f"{time.perf_counter() - t0:.0f} s")
        outs.append(p)
        cals.append({"fold": k, "std_scale": ens.std_scale["chi_exp"], **inf,
                     "std_scale_without_domain": float(p["std_scale_without_domain"].iloc[0]),
                     "scale_polymer": ens.domain.scale_polymer, "scale_solvent": ens.domain.scale_solvent,
                     "seconds": time.perf_counter() - t0})
        if fold_dir is not None:
            fold_dir.mkdir(parents=True, exist_ok=True)
            p.to_csv(fold_dir / f"fold-{k}.csv", index=False)
            (fold_dir / f"fold-{k}.json").write_text(json.dumps(cals[-1], default=float))
    return pd.concat(outs, ignore_index=True), cals


def metrics(p) -> dict:
    from scipy.stats import spearmanr

    from chiscreen.model.domain import binned_coverage
    from chiscreen.model.evaluate import regression_metrics

    y, mu = p["y"].to_numpy(float), p["pred"].to_numpy(float)
    err = np.abs(y - mu)
    raw, cal = p["std"].to_numpy(float), p["std_cal"].to_numpy(float)
    const = raw * p["std_scale"].to_numpy(float)                   # std_scale alone (the joint fit's f0)
    nodom = raw * p["std_scale_without_domain"].to_numpy(float)    # one factor fitted without the AD score
    ad = p["ad"].to_numpy(float)
    inside95 = (y >= p["lo95"].to_numpy(float)) & (y <= p["hi95"].to_numpy(float))
    out = {
        "n": int(len(p)), **{f"lpo_{k}": v for k, v in regression_metrics(y, mu).items() if k != "n"},
        "coverage_1sd": float((err <= cal).mean()),
        "coverage_95": float(inside95.mean()),
        "coverage_1sd_std_scale_only": float((err <= const).mean()),
        "coverage_1sd_factor_without_ad": float((err <= nodom).mean()),
        "coverage_1sd_raw": float((err <= raw).mean()),
        "coverage_2sd_calibrated": float((err <= 2 * cal).mean()),
        "coverage_1.96sd_calibrated_gaussian": float((err <= 1.96 * cal).mean()),
        "spearman_ad_abs_err": float(spearmanr(ad, err).statistic),
        "spearman_ad_polymer_abs_err": float(spearmanr(p["ad_polymer"], err).statistic),
        "spearman_ad_allref_abs_err": float(spearmanr(p["ad_allref"], err).statistic) if "ad_allref" in p else None,
        "spearman_raw_std_abs_err": float(spearmanr(raw, err).statistic),
        "spearman_cal_std_abs_err": float(spearmanr(cal, err).statistic),
        "ad_median": float(np.median(ad)), "ad_p90": float(np.quantile(ad, 0.9)),
        "by_ad_quintile": [
            {**b1, "coverage_95": b2["coverage"], "coverage_1sd_std_scale_only": b3["coverage"],
             "median_abs_err": float(np.median(err[(ad >= b1["lo"]) & (ad <= b1["hi"])]))}
            for b1, b2, b3 in zip(binned_coverage(ad, err / cal, 5),
                                  binned_coverage(ad, np.where(inside95, 0.0, 2.0), 5),
                                  binned_coverage(ad, err / const, 5))],
    }
    return out


def plot(preds: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd

    from chiscreen.model.domain import binned_coverage

    p = pd.concat(preds.values(), ignore_index=True)
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
        x = [float(np.median(ad[(ad >= r["lo"]) & (ad <= r["hi"])])) for r in b]   # bin medians
        ax.plot(x, [r["coverage"] for r in b], ls, marker="o", c=c, label=lab)
    ax.axhspan(0.63, 0.73, color="tab:blue", alpha=0.1)
    ax.axhspan(0.92, 0.98, color="tab:red", alpha=0.1)
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlabel("AD score (median of each sextile of rows)")
    ax.set_ylabel("coverage on held-out polymers")
    ax.set_ylim(0.2, 1.02)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"leave-polymer-out, {len(p)} rows ({len(preds)} seed sets)", fontsize=10)
    ax = axes[1]
    ax.scatter(ad, err, s=6, alpha=0.35, c="tab:gray", label="|error|")
    order = np.argsort(ad)
    ax.scatter(ad[order], cal[order], s=4, alpha=0.35, c="tab:blue", label="calibrated std")
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_yscale("log")
    ax.set_xlabel("AD score")
    ax.set_ylabel("chi")
    from scipy.stats import spearmanr

    ax.set_title(f"|error| vs AD score (Spearman {spearmanr(ad, err).statistic:.2f})", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "configs" / "train-default.yaml"))
    ap.add_argument("--set", action="append", default=[], help="config override, e.g. calibration.use_folds=1")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--members", type=int, default=None)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "uncertainty_domain"))
    ap.add_argument("--replot", action="store_true", help="only redo metrics + plot from the CSVs in --out")
    a = ap.parse_args(argv)
    import pandas as pd

    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    preds, cals = {}, {}
    for seed in a.seeds:
        f = out / f"lpo-s{seed}.csv"
        if a.replot:
            preds[seed] = pd.read_csv(f)
            continue
        cfg = make_config(Path(a.config), a.set, a.members)
        cfg.seed = seed
        from chiscreen.model.data import load_training_data

        data = load_training_data(cfg.data, progress=False)
        print(f"seed set {seed}: {cfg.n_members} members, calibration {to_dict(cfg.calibration)}", flush=True)
        t0 = time.perf_counter()
        p, c = lpo_predictions(cfg, data, log=lambda m: print(m, flush=True), fold_dir=out / f"folds-s{seed}")
        p.to_csv(f, index=False)
        preds[seed], cals[seed] = p, {"folds": c, "seconds": time.perf_counter() - t0}
    summary = {"protocol": "GroupKFold(5) by polymer, strict; per outer fold: calibration + training as chiscreen train",
               "config": a.config, "overrides": a.set, "members": a.members, "seeds": a.seeds}
    for seed, p in preds.items():
        summary[f"seed{seed}"] = {**metrics(p), **cals.get(seed, {})}
        s = summary[f"seed{seed}"]
        print(f"seed set {seed}: coverage 1 std {s['coverage_1sd']:.3f} (std_scale alone {s['coverage_1sd_std_scale_only']:.3f}, "
              f"one factor without AD {s['coverage_1sd_factor_without_ad']:.3f}, raw {s['coverage_1sd_raw']:.3f}); "
              f"95 % interval {s['coverage_95']:.3f}; Spearman(AD, |err|) {s['spearman_ad_abs_err']:.3f}; "
              f"LPO R2 {s['lpo_r2']:.3f}", flush=True)
        for b in s["by_ad_quintile"]:
            print(f"    AD {b['lo']:.2f}-{b['hi']:.2f} (n={b['n']}): 1 std {b['coverage']:.2f} (std_scale alone "
                  f"{b['coverage_1sd_std_scale_only']:.2f}), 95 % {b['coverage_95']:.2f}, median |err| {b['median_abs_err']:.3f}")
    summary["pooled"] = metrics(pd.concat(preds.values(), ignore_index=True))
    summary["plot"] = str(plot(preds, out / "uncertainty_domain.png"))
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=float))
    print(f"wrote {out}/summary.json, {summary['plot']}")
    short = {k: summary["pooled"][k] for k in ("coverage_1sd", "coverage_95", "spearman_ad_abs_err",
                                                "coverage_1sd_std_scale_only", "lpo_r2")}
    short.update({f"s{s}_{k}": summary[f"seed{s}"][k] for s in preds for k in ("coverage_1sd", "coverage_95", "spearman_ad_abs_err")})
    print(json.dumps(short))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
