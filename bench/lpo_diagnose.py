"""Diagnose the weak leave-polymer-out fold: which test polymers and rows carry its squared error,
and whether the fitted oracle (physics, refitted without the fold's polymers) fails on the same
rows (docs/model.md, "Oracle data and physics variants", weak fold).

    python bench/lpo_diagnose.py bench/results/train-oracle-input-s0-polymer.csv [more CSVs] \
        --oracle-store /work/cache/qc-store --out bench/results/figures --fold 3

Reads per-row prediction CSVs written by bench/model_eval.py (``*-polymer.csv``: columns y, pred,
fold, exp_row, group), joins them to the experimental table (solvent, temperature) and prints per
fold: rows, polymers, mean and variance of chi_exp, bias, RMSE, MAE, R2, the R2 after removing
each polymer's mean error, the share of the squared error of the worst polymer and of the 10 worst
rows, of water rows and of rows with chi > 2; per polymer of the chosen fold: rows, mean chi,
mean error, RMSE and share of the fold's squared error, for the model and the fitted oracle.
Figures (PNG) in --out. Last line: one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chiscreen.schema import POLYMER_KEY, SOLVENT_KEY, TEMPERATURE_K  # noqa: E402

WATER = "O"


def _r2(y, p) -> float:
    y, p = np.asarray(y, float), np.asarray(p, float)
    sst = float(((y - y.mean()) ** 2).sum())
    return float(1 - ((y - p) ** 2).sum() / sst) if sst > 0 else float("nan")


def experimental_table(oracle_store: str | None):
    """Experimental rows with their LPO fold (the folds of bench/model_eval.py) and, where a store
    is given, the fold-refitted oracle chi (recipe refitted without the fold's polymers)."""
    import model_eval as me

    from chiscreen.data.splits import grouped_kfold
    from chiscreen.model.data import load_training_data
    from chiscreen.model.evaluate import _exp_rows

    cfg = me.make_config(ROOT / "configs" / "train-default.yaml", "default", [], 1)
    data = load_training_data(cfg.data, progress=False)
    t = data.table
    ex = _exp_rows(data)
    exdf = t.loc[ex["pos"]].reset_index(drop=True)
    exdf["pos"] = ex["pos"].to_numpy()
    exdf["fold"] = -1
    exdf["oracle_fitted"] = np.nan
    prot = me.OracleProtocol(data, oracle_store, "none", ROOT / "bench" / "results" / "oracle_fits", log=lambda m: None) \
        if oracle_store else None
    pk = t[POLYMER_KEY].to_numpy()
    for k, (_, te) in enumerate(grouped_kfold(exdf, by="polymer", n_splits=5, seed=0)):
        exdf.loc[te, "fold"] = k
        if prot is not None:
            te_pos = exdf["pos"].to_numpy()[te]
            key, params, _ = prot.fit_for(~np.isin(pk, list(set(pk[te_pos]))))
            exdf.loc[te, "oracle_fitted"] = prot.chi_all(key, params)[te_pos]
    return exdf


def fold_figures(d: pd.DataFrame, col: str = "pred") -> dict:
    e = d[col] - d["y"]
    se = e ** 2
    by_poly = se.groupby(d[POLYMER_KEY]).sum().sort_values(ascending=False)
    centred = e - e.groupby(d[POLYMER_KEY]).transform("mean")
    return {"n": int(len(d)), "n_polymers": int(d[POLYMER_KEY].nunique()), "mean_chi": float(d["y"].mean()),
            "var_chi": float(d["y"].var(ddof=0)), "bias": float(e.mean()), "rmse": float(np.sqrt(se.mean())),
            "mae": float(e.abs().mean()), "r2": _r2(d["y"], d[col]),
            "r2_polymer_offsets_removed": float(1 - (centred ** 2).sum() / ((d["y"] - d["y"].mean()) ** 2).sum()),
            "worst_polymer": by_poly.index[0], "worst_polymer_se_share": float(by_poly.iloc[0] / se.sum()),
            "top10_rows_se_share": float(se.nlargest(10).sum() / se.sum()),
            "water_rows": int((d[SOLVENT_KEY] == WATER).sum()),
            "water_se_share": float(se[d[SOLVENT_KEY] == WATER].sum() / se.sum()),
            "chi_gt2_rows": int((d["y"] > 2).sum()), "chi_gt2_se_share": float(se[d["y"] > 2].sum() / se.sum())}


def per_polymer(d: pd.DataFrame, cols=("pred", "oracle_fitted")) -> pd.DataFrame:
    rows = []
    for p, g in d.groupby(POLYMER_KEY):
        r = {"polymer": p, "n": len(g), "mean_chi": g["y"].mean(), "sd_chi": g["y"].std(ddof=0),
             "n_solvents": g[SOLVENT_KEY].nunique(), "T_range_K": f"{g[TEMPERATURE_K].min():.0f}-{g[TEMPERATURE_K].max():.0f}"}
        for c in cols:
            if c in g and g[c].notna().any():
                e = g[c] - g["y"]
                r[f"{c}_bias"] = e.mean()
                r[f"{c}_rmse"] = float(np.sqrt((e ** 2).mean()))
                r[f"{c}_se_share"] = float((e ** 2).sum() / ((d[c] - d["y"]) ** 2).sum())
        rows.append(r)
    return pd.DataFrame(rows).sort_values("pred_se_share", ascending=False)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", nargs="+", help="per-row LPO predictions (*-polymer.csv of bench/model_eval.py)")
    ap.add_argument("--oracle-store", default=None, help="profile store: adds the fold-refitted oracle chi")
    ap.add_argument("--fold", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "figures"))
    ap.add_argument("--name", default="lpo_fold")
    a = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT / "bench"))
    exdf = experimental_table(a.oracle_store)
    runs = {}
    for f in a.csv:
        p = pd.read_csv(f)
        m = p.merge(exdf[["source_row", POLYMER_KEY, SOLVENT_KEY, TEMPERATURE_K, "fold", "oracle_fitted", "chi"]]
                    .rename(columns={"source_row": "exp_row", "fold": "fold_check", TEMPERATURE_K: "T_check"}),
                    on="exp_row", how="left")
        assert (m["fold"] == m["fold_check"]).all() and np.allclose(m["y"], m["chi"]), f"{f}: rows do not match the folds"
        runs[Path(f).name.removesuffix("-polymer.csv")] = m
    out = {"folds": {}, "fold_polymers": {}}
    first = next(iter(runs))
    for name, m in runs.items():
        out["folds"][name] = {int(k): fold_figures(g) for k, g in m.groupby("fold")}
        print(f"\n== {name}")
        print(pd.DataFrame(out["folds"][name]).T.drop(columns=["worst_polymer"]).round(3).to_string())
    m0 = runs[first]
    ok = m0["oracle_fitted"].notna()
    if ok.any():
        out["folds"]["oracle_fitted"] = {int(k): fold_figures(g, "oracle_fitted") for k, g in m0[ok].groupby("fold")}
        print("\n== fitted oracle (refitted without the fold's polymers), same rows")
        print(pd.DataFrame(out["folds"]["oracle_fitted"]).T.drop(columns=["worst_polymer"]).round(3).to_string())
    g = m0[m0["fold"] == a.fold].copy()
    for name, m in runs.items():
        g[f"pred_{name}"] = m.loc[m["fold"] == a.fold, "pred"].to_numpy()
    pp = per_polymer(g)
    out["fold_polymers"] = pp.to_dict(orient="records")
    pd.set_option("display.width", 250)
    print(f"\n== fold {a.fold} per polymer ({first}; oracle = fitted oracle)")
    print(pp.round(3).to_string(index=False))
    g["se"] = (g["pred"] - g["y"]) ** 2
    top = g.nlargest(15, "se")[[POLYMER_KEY, SOLVENT_KEY, TEMPERATURE_K, "y", "pred", "oracle_fitted", "se"]]
    print(f"\n== fold {a.fold}: 15 rows with the largest squared error ({first})")
    print(top.round(3).to_string(index=False))
    out["fold_top_rows"] = top.to_dict(orient="records")

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    od = Path(a.out)
    od.mkdir(parents=True, exist_ok=True)
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.5))
    polys = pp["polymer"].tolist()
    cmap = plt.get_cmap("tab10")
    for i, p in enumerate(polys):
        s = g[g[POLYMER_KEY] == p]
        lab = (p if len(p) < 28 else p[:25] + "...") + f" (n={len(s)})"
        axes[0].scatter(s["y"], s["pred"], s=14, color=cmap(i % 10), label=lab)
        if s["oracle_fitted"].notna().any():
            axes[1].scatter(s["y"], s["oracle_fitted"], s=14, color=cmap(i % 10))
    lo, hi = float(min(g["y"].min(), g["pred"].min(), -0.5)), float(max(g["y"].max(), g["pred"].max(), 3))
    for ax, t in zip(axes, (f"model ({first}), fold {a.fold}", f"fitted oracle (fold refit), fold {a.fold}")):
        ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlabel("experimental chi")
        ax.set_ylabel("predicted chi")
        ax.set_title(t, fontsize=10)
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi + 1)
    axes[0].legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    f1 = od / f"{a.name}{a.fold}_scatter.png"
    fig.savefig(f1, dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(11, 4.5))
    folds = sorted(m0["fold"].unique())
    bottom = np.zeros(len(folds))
    # stacked squared-error sum per fold, by polymer (largest first), for the first run
    sse = m0.assign(se=(m0["pred"] - m0["y"]) ** 2).groupby(["fold", POLYMER_KEY])["se"].sum()
    for rank in range(12):
        vals = []
        for k in folds:
            s = sse.loc[k].sort_values(ascending=False)
            vals.append(float(s.iloc[rank]) if rank < len(s) else 0.0)
        ax.bar(folds, vals, bottom=bottom, color=plt.get_cmap("tab20")(rank), edgecolor="white", lw=0.5)
        bottom += vals
    for k in folds:
        f = out["folds"][first][int(k)]
        ax.text(k, bottom[k] * 1.01, f"R2 {f['r2']:.2f}\nRMSE {f['rmse']:.2f}\nvar {f['var_chi']:.2f}",
                ha="center", va="bottom", fontsize=8)
    ax.set_ylim(0, bottom.max() * 1.3)
    ax.set_xlabel("leave-polymer-out fold")
    ax.set_ylabel("sum of squared errors\n(one block per test polymer, largest first)")
    ax.set_title(f"{first}: where the squared error lies", fontsize=10)
    fig.tight_layout()
    f2 = od / f"{a.name}_sse_by_polymer.png"
    fig.savefig(f2, dpi=110)
    plt.close(fig)
    # shrinkage: each test polymer's mean error against its mean experimental chi (all folds)
    fig, ax = plt.subplots(figsize=(7, 5))
    shrink = {}
    for col, mk, lab in (("pred", "o", f"model ({first})"), ("oracle_fitted", "x", "fitted oracle (fold refit)")):
        q = m0[m0[col].notna()]
        pp_all = q.assign(err=q[col] - q["y"]).groupby(POLYMER_KEY).agg(my=("y", "mean"), bias=("err", "mean"),
                                                                         n=("y", "size"), fold=("fold", "first"))
        sl, ic = np.polyfit(pp_all["my"], pp_all["bias"], 1, w=np.sqrt(pp_all["n"]))
        shrink[col] = {"slope": float(sl), "intercept": float(ic),
                       "corr": float(np.corrcoef(pp_all["my"], pp_all["bias"])[0, 1]),
                       "rms_polymer_bias": float(np.sqrt(np.average(pp_all["bias"] ** 2, weights=pp_all["n"])))}
        sc = ax.scatter(pp_all["my"], pp_all["bias"], s=12 + 2 * pp_all["n"] ** 0.8, c=pp_all["fold"], cmap="viridis",
                        marker=mk, alpha=0.8, vmin=0, vmax=4, label=f"{lab}: slope {sl:.2f}")
        xs = np.linspace(pp_all["my"].min(), pp_all["my"].max(), 10)
        ax.plot(xs, ic + sl * xs, "-" if col == "pred" else ":", color="k", lw=0.8)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("test polymer's mean experimental chi")
    ax.set_ylabel("mean error of the polymer's rows (pred - exp)")
    ax.set_title("per-polymer offsets on unseen polymers (colour: fold, size: rows)", fontsize=10)
    ax.legend(fontsize=8)
    fig.colorbar(sc, ax=ax, label="fold")
    fig.tight_layout()
    f3 = od / f"{a.name}_polymer_bias.png"
    fig.savefig(f3, dpi=110)
    plt.close(fig)
    out["polymer_bias_vs_mean_chi"] = shrink
    print("\n== per-polymer mean error vs the polymer's mean chi (weighted fit over all test polymers)")
    print(json.dumps(shrink, indent=1))
    print(f"figures written to {f1}, {f2} and {f3}")
    out["figures"] = [str(f1), str(f2), str(f3)]
    print(json.dumps(out, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
