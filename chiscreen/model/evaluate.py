"""Evaluation: the five official splits, grouped K-fold (leave-polymer-out), uncertainty, plots.

Strict protocol (default): when a test set is held out, *every* training row of the held-out
units is removed from all tasks -- for the official splits the computed-chi and solubility rows
of the test pairs, for leave-polymer-out every row of the test polymers -- so nothing about a
test unit reaches the model through an auxiliary task. ``strict=False`` keeps the auxiliary
rows (computed chi is available for any pair in principle; the model then sees test polymers
through them).
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from chiscreen.data import load_official_splits, matched_rows
from chiscreen.data.splits import grouped_kfold
from chiscreen.errors import InvalidInputError
from chiscreen.model.artifact import write_json
from chiscreen.model.calibration import predict_task_rows
from chiscreen.model.config import TrainConfig
from chiscreen.model.data import TrainingData
from chiscreen.model.ensemble import ChiEnsemble
from chiscreen.model.train import train_ensemble
from chiscreen.model.uncertainty import uncertainty_metrics
from chiscreen.schema import POLYMER_KEY, SOLVENT_KEY

log_ = logging.getLogger("chiscreen.model")

EXP_SOURCE = "mtl_chi/data_Chi.csv"


def regression_metrics(y, yhat) -> dict[str, float]:
    y = np.asarray(y, dtype=float)
    yhat = np.asarray(yhat, dtype=float)
    ok = np.isfinite(y) & np.isfinite(yhat)
    y, yhat = y[ok], yhat[ok]
    if len(y) < 2:
        return {"n": int(len(y)), "r2": float("nan"), "rmse": float("nan"), "mae": float("nan")}
    res = y - yhat
    ss_tot = float(((y - y.mean()) ** 2).sum())
    return {"n": int(len(y)), "r2": float(1 - (res ** 2).sum() / ss_tot) if ss_tot > 0 else float("nan"),
            "rmse": float(np.sqrt((res ** 2).mean())), "mae": float(np.abs(res).mean())}


def ensemble_predict_rows(ens: ChiEnsemble, data: TrainingData, rows: np.ndarray, task: str = "chi_exp") -> pd.DataFrame:
    """Mean and raw (uncalibrated) std of the task's predictions for label-table rows ``rows``
    (see :func:`chiscreen.model.calibration.predict_task_rows`)."""
    return predict_task_rows(ens, data, rows, task)


def _exp_rows(data: TrainingData) -> pd.DataFrame:
    t = data.table
    m = (t["source"] == EXP_SOURCE).to_numpy()
    return pd.DataFrame({"pos": np.flatnonzero(m), "exp_row": t.loc[m, "source_row"].to_numpy(),
                         "pair": (t.loc[m, POLYMER_KEY] + "_" + t.loc[m, SOLVENT_KEY]).to_numpy(),
                         POLYMER_KEY: t.loc[m, POLYMER_KEY].to_numpy()})


def _train_and_predict(cfg: TrainConfig, data: TrainingData, keep: np.ndarray, test_pos: np.ndarray, log,
                       oracle=None) -> tuple[pd.DataFrame, float]:
    base = oracle.relabel(keep) if oracle is not None else data
    sub = base.subset_rows(keep)
    res = train_ensemble(cfg, sub, log=log, progress=False)
    # test rows are in the full table; predict through the full data object
    pred = ensemble_predict_rows(res.ensemble, data, test_pos, "chi_exp")
    return pred, res.seconds


def evaluate_official(cfg: TrainConfig, data: TrainingData, strict: bool = True, log: Callable | None = None,
                      oracle=None) -> pd.DataFrame:
    """Train on each official train split, predict its test split. Returns per-row predictions
    (columns split, row = data_Chi.csv row, y, pred, std, temperature_K, seconds).

    ``oracle``: a :class:`~chiscreen.model.fold_oracle.FoldOracle`; each split's chi_oracle labels
    are then recomputed with the oracle recipe refitted on that split's training rows."""
    log = log or log_.info
    if "chi_exp" not in data.tasks:
        raise InvalidInputError("official evaluation needs the experimental chi task")
    ex = _exp_rows(data)
    t = data.table
    pair_all = (t[POLYMER_KEY] + "_" + t[SOLVENT_KEY]).to_numpy()
    is_exp = (t["source"] == EXP_SOURCE).to_numpy()
    row_of = dict(zip(ex["exp_row"], ex["pos"]))
    outs = []
    for k, (tr, te) in enumerate(load_official_splits()):
        te_pos = np.array([row_of[r] for r in te if r in row_of])
        tr_set = set(int(r) for r in tr)
        keep = ~is_exp.copy()
        keep[[row_of[r] for r in tr if r in row_of]] = True
        if strict:
            test_pairs = set(pair_all[te_pos])
            keep &= ~(np.isin(pair_all, list(test_pairs)) & ~is_exp)
        assert not any(int(t.loc[p, "source_row"]) in tr_set for p in te_pos)
        pred, secs = _train_and_predict(cfg, data, keep, te_pos, log, oracle)
        pred["split"] = k
        pred["exp_row"] = t.loc[te_pos, "source_row"].to_numpy()
        pred["seconds"] = secs
        m = regression_metrics(pred["y"], pred["pred"])
        log(f"official split {k}: R2 {m['r2']:.3f} RMSE {m['rmse']:.3f} MAE {m['mae']:.3f} (n={m['n']}, {secs:.0f} s)")
        outs.append(pred)
    return pd.concat(outs, ignore_index=True)


def evaluate_grouped(cfg: TrainConfig, data: TrainingData, by: str = "polymer", n_splits: int = 5, seed: int = 0,
                     strict: bool = True, log: Callable | None = None, oracle=None) -> pd.DataFrame:
    """GroupKFold over the experimental rows by polymer (leave-polymer-out) / solvent / pair.
    ``oracle``: as in :func:`evaluate_official` (per-fold refit of the chi_oracle labels)."""
    log = log or log_.info
    ex = _exp_rows(data)
    t = data.table
    is_exp = (t["source"] == EXP_SOURCE).to_numpy()
    exdf = t.loc[ex["pos"]].reset_index(drop=True)
    key_all = {"polymer": t[POLYMER_KEY], "solvent": t[SOLVENT_KEY],
               "pair": t[POLYMER_KEY] + "_" + t[SOLVENT_KEY]}[by].to_numpy()
    outs = []
    for k, (_, te) in enumerate(grouped_kfold(exdf, by=by, n_splits=n_splits, seed=seed)):
        te_pos = ex["pos"].to_numpy()[te]
        held = set(key_all[te_pos])
        keep = np.ones(len(t), dtype=bool)
        keep[te_pos] = False
        if strict:
            keep &= ~np.isin(key_all, list(held))
        else:
            keep &= ~(np.isin(key_all, list(held)) & is_exp)
        pred, secs = _train_and_predict(cfg, data, keep, te_pos, log, oracle)
        pred["fold"] = k
        pred["exp_row"] = t.loc[te_pos, "source_row"].to_numpy()
        pred["group"] = key_all[te_pos]
        pred["seconds"] = secs
        m = regression_metrics(pred["y"], pred["pred"])
        log(f"{by}-grouped fold {k}: R2 {m['r2']:.3f} RMSE {m['rmse']:.3f} (n={m['n']}, {len(held)} {by}s held out, {secs:.0f} s)")
        outs.append(pred)
    return pd.concat(outs, ignore_index=True)


def cosmo_baseline(pred: pd.DataFrame) -> pd.DataFrame:
    """Attach COSMO-RS chi (data_COSMO.csv) to prediction rows by data_Chi.csv row and T."""
    m = matched_rows()[["row", "chi_cosmors"]].drop_duplicates("row")
    return pred.merge(m, left_on="exp_row", right_on="row", how="left", suffixes=("", "_m")).drop(columns=["row_m"], errors="ignore")


def summarize(pred: pd.DataFrame, by: str | None, std_scale: float = 1.0) -> dict:
    """Metrics per split (``by`` column) and pooled, COSMO-RS on the same rows, uncertainty."""
    out: dict = {}
    pc = cosmo_baseline(pred)
    groups = sorted(pred[by].unique()) if by else []
    per = []
    for g in groups:
        d = pc[pc[by] == g]
        mm = regression_metrics(d["y"], d["pred"])
        cm = d[d["chi_cosmors"].notna()]
        mm["model_on_cosmo_rows"] = regression_metrics(cm["y"], cm["pred"])
        mm["cosmo_rs"] = regression_metrics(cm["y"], cm["chi_cosmors"])
        mm[by] = int(g)
        per.append(mm)
    if per:
        out["per_split"] = per
        out["mean"] = {k: float(np.mean([p[k] for p in per])) for k in ("r2", "rmse", "mae")}
        out["mean_cosmo_rs"] = {k: float(np.mean([p["cosmo_rs"][k] for p in per])) for k in ("r2", "rmse", "mae")}
        out["mean_model_on_cosmo_rows"] = {k: float(np.mean([p["model_on_cosmo_rows"][k] for p in per])) for k in ("r2", "rmse", "mae")}
    out["pooled"] = regression_metrics(pc["y"], pc["pred"])
    cm = pc[pc["chi_cosmors"].notna()]
    out["pooled_cosmo_rs"] = regression_metrics(cm["y"], cm["chi_cosmors"])
    out["pooled_model_on_cosmo_rows"] = regression_metrics(cm["y"], cm["pred"])
    out["uncertainty_raw"] = uncertainty_metrics(pc["y"], pc["pred"], pc["std"])
    if by and len(groups) > 1:
        # cross-fitted recalibration: the std factor of every split is fitted on the other splits
        scaled = pc["std"].to_numpy(dtype=float).copy()
        factors = []
        for g in groups:
            m = (pc[by] == g).to_numpy()
            f = uncertainty_metrics(pc.loc[~m, "y"], pc.loc[~m, "pred"], pc.loc[~m, "std"]).get("scale_68", 1.0)
            factors.append(f)
            scaled[m] *= f
        out["uncertainty_crossfit_scaled"] = {**uncertainty_metrics(pc["y"], pc["pred"], scaled),
                                              "factors": [float(f) for f in factors]}
    if std_scale != 1.0:
        out["uncertainty_scaled"] = uncertainty_metrics(pc["y"], pc["pred"], pc["std"] * std_scale)
        out["std_scale_applied"] = std_scale
    out["train_seconds_mean"] = float(pred.groupby(by)["seconds"].first().mean()) if by else float("nan")
    return out


def parity_plot(pred: pd.DataFrame, path: str | Path, title: str, with_cosmo: bool = True) -> Path:
    """Parity plot of experimental vs predicted chi (and COSMO-RS on the same rows)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pc = cosmo_baseline(pred) if with_cosmo else pred
    m = regression_metrics(pc["y"], pc["pred"])
    fig, ax = plt.subplots(figsize=(5.2, 5))
    if with_cosmo and pc["chi_cosmors"].notna().any():
        c = pc[pc["chi_cosmors"].notna()]
        cm = regression_metrics(c["y"], c["chi_cosmors"])
        ax.scatter(c["y"], c["chi_cosmors"], s=8, alpha=0.35, c="tab:gray", label=f"COSMO-RS (R2 {cm['r2']:.2f})")
    ax.errorbar(pc["y"], pc["pred"], yerr=pc["std"], fmt="o", ms=3, alpha=0.5, elinewidth=0.5, c="tab:blue",
                label=f"model (R2 {m['r2']:.2f}, RMSE {m['rmse']:.2f})")
    lo = float(np.nanmin([pc["y"].min(), pc["pred"].min()])) - 0.1
    hi = float(np.nanmax([pc["y"].max(), pc["pred"].max()])) + 0.1
    ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, max(hi, lo + 0.5))
    ax.set_xlabel("experimental chi")
    ax.set_ylabel("predicted chi")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, dpi=120)
    plt.close(fig)
    return p


def solubility_holdout(cfg: TrainConfig, data: TrainingData, test_size: float = 0.2, seed: int = 0,
                       log: Callable | None = None, oracle=None) -> dict:
    """AUC and accuracy of P(soluble) on a polymer-grouped held-out split of the solubility labels
    (every row of the held-out polymers is removed from all tasks; ``oracle``: per-fold refit of
    the chi_oracle labels, as in :func:`evaluate_official`)."""
    from sklearn.metrics import accuracy_score, roc_auc_score
    from sklearn.model_selection import GroupShuffleSplit

    log = log or log_.info
    if "soluble" not in data.tasks:
        raise InvalidInputError("solubility evaluation needs the soluble task")
    r = data.tasks["soluble"]
    poly = np.array(data.polymer_keys)[r.pi]
    gss = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    _, te = next(gss.split(np.zeros(len(r)), groups=poly))
    held = set(poly[te])
    keep = ~data.table[POLYMER_KEY].isin(held).to_numpy()
    sub = (oracle.relabel(keep) if oracle is not None else data).subset_rows(keep)
    res = train_ensemble(cfg, sub, log=log, progress=False)
    pred = ensemble_predict_rows(res.ensemble, data, r.row[te], "soluble")
    y = pred["y"].to_numpy().astype(int)
    p = pred["pred"].to_numpy()
    out = {"n_test": int(len(te)), "n_test_polymers": len(held), "positive_rate": float(y.mean()),
           "auc": float(roc_auc_score(y, p)) if len(set(y)) == 2 else float("nan"),
           "accuracy": float(accuracy_score(y, p >= 0.5)), "majority_baseline_accuracy": float(max(y.mean(), 1 - y.mean())),
           "seconds": res.seconds}
    log(f"solubility (polymer-grouped holdout, {len(held)} polymers, {len(te)} rows): AUC {out['auc']:.3f} "
        f"accuracy {out['accuracy']:.3f} (majority {out['majority_baseline_accuracy']:.3f})")
    return out


def solubility_cv(cfg: TrainConfig, data: TrainingData, n_splits: int = 5, seed: int = 0,
                  log: Callable | None = None, oracle=None) -> dict:
    """Polymer-grouped K-fold of the solubility labels (every row of the held-out polymers removed
    from all tasks); AUC and accuracy pooled over folds and per fold. ``oracle``: per-fold refit
    of the chi_oracle labels, as in :func:`evaluate_official`."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    log = log or log_.info
    r = data.tasks["soluble"]
    lab = pd.DataFrame({POLYMER_KEY: np.array(data.polymer_keys)[r.pi], SOLVENT_KEY: np.array(data.solvent_keys)[r.si]})
    preds, per = [], []
    for k, (_, te) in enumerate(grouped_kfold(lab, by="polymer", n_splits=n_splits, seed=seed)):
        held = set(lab[POLYMER_KEY].iloc[te])
        keep = ~data.table[POLYMER_KEY].isin(held).to_numpy()
        base = oracle.relabel(keep) if oracle is not None else data
        res = train_ensemble(cfg, base.subset_rows(keep), log=log, progress=False)
        p = ensemble_predict_rows(res.ensemble, data, r.row[te], "soluble")
        y = p["y"].to_numpy().astype(int)
        auc = float(roc_auc_score(y, p["pred"])) if len(set(y)) == 2 else float("nan")
        per.append({"fold": k, "n": int(len(te)), "auc": auc, "accuracy": float(accuracy_score(y, p["pred"] >= 0.5))})
        log(f"solubility fold {k}: AUC {auc:.3f} accuracy {per[-1]['accuracy']:.3f} (n={len(te)}, {len(held)} polymers)")
        preds.append(p)
    p = pd.concat(preds, ignore_index=True)
    y = p["y"].to_numpy().astype(int)
    return {"pooled_auc": float(roc_auc_score(y, p["pred"])), "pooled_accuracy": float(accuracy_score(y, p["pred"] >= 0.5)),
            "mean_fold_auc": float(np.nanmean([f["auc"] for f in per])), "majority_baseline_accuracy": float(max(y.mean(), 1 - y.mean())),
            "per_fold": per, "n": int(len(y))}


__all__ = ["regression_metrics", "uncertainty_metrics", "ensemble_predict_rows", "evaluate_official",
           "evaluate_grouped", "summarize", "parity_plot", "solubility_holdout", "solubility_cv", "write_json"]
