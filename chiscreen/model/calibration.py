"""Std calibration: fit ``std_scale`` per chi task on grouped held-out folds.

    cal = calibrate_std(cfg, data)          # {"std_scale": {"chi_exp": f, ...}, ...}
    ens.std_scale.update(cal["std_scale"])

For ``use_folds`` of the ``n_splits`` folds of a grouped K-fold (by pair or polymer) an
ensemble of the same config is trained without the fold (every row of the held-out groups
removed from all tasks) and predicts it; std_scale[task] is the factor that makes
mean +- 1 scaled std cover 68.3 % of the held-out errors (:func:`~chiscreen.model.uncertainty.std_factor`).
"""
from __future__ import annotations

import logging
from typing import Callable

import numpy as np
import pandas as pd

import chiscreen.model.tasks as _tasks
from chiscreen.model.config import TrainConfig
from chiscreen.model.data import TrainingData
from chiscreen.model.ensemble import ChiEnsemble
from chiscreen.model.train import train_ensemble
from chiscreen.model.uncertainty import std_factor, uncertainty_metrics
from chiscreen.schema import POLYMER_KEY, SOLVENT_KEY, TEMPERATURE_K

log = logging.getLogger("chiscreen.model")


def predict_task_rows(ens: ChiEnsemble, data: TrainingData, rows: np.ndarray, task: str = "chi_exp") -> pd.DataFrame:
    """Mean and raw (uncalibrated) ensemble std of ``task`` for label-table rows ``rows``
    (columns row, y, pred, std, temperature_K); chi tasks in chi units, binary as probabilities."""
    r = data.tasks[task]
    pos = {int(x): i for i, x in enumerate(r.row)}
    sel = np.array([pos[int(x)] for x in rows], dtype=np.int64)
    post = ens.posterior(data.Xp[r.pi[sel]], data.Xs[r.si[sel]], r.T[sel])
    key = _tasks.get_task(task).prediction_key
    return pd.DataFrame({"row": rows, "y": r.y[sel], "pred": post.mean_of(key), "std": post.std_of(key),
                         TEMPERATURE_K: r.T[sel]})


def calibrate_std(cfg: TrainConfig, data: TrainingData, log: Callable[[str], None] | None = None) -> dict:
    """Fit std_scale on grouped held-out folds (see CalibrationConfig). Returns a dict with
    'std_scale' (one factor per chi task trained) and the raw held-out uncertainty metrics."""
    from chiscreen.data.splits import grouped_kfold

    say = log or (lambda m: logging.getLogger("chiscreen.model").info(m))
    cal = cfg.calibration
    chi = [t for t in _tasks.chi_tasks() if t in data.tasks]
    if cal.by == "none":
        return {"std_scale": {t: 1.0 for t in chi}, "by": "none"}
    t = data.table
    key_all = (t[POLYMER_KEY] if cal.by == "polymer" else t[POLYMER_KEY] + "_" + t[SOLVENT_KEY]).to_numpy()
    out = {"by": cal.by, "n_splits": cal.n_splits, "use_folds": cal.use_folds, "std_scale": {}}
    # the reference order (chi_exp before chi_comp), then any other chi task
    order = [x for x in ("chi_exp", "chi_comp") if x in chi] + [x for x in chi if x not in ("chi_exp", "chi_comp")]
    preds = {task: [] for task in order}
    has_label = np.zeros(len(t), dtype=bool)
    for task in _tasks.chi_tasks():   # rows with any chi label (as format v1 did), whatever was trained
        col = _tasks.get_task(task).label
        if col in t.columns:
            has_label |= t[col].notna().to_numpy()
    lab = t[has_label].reset_index()
    folds = list(grouped_kfold(lab, by="polymer" if cal.by == "polymer" else "pair", n_splits=cal.n_splits, seed=cfg.seed))
    for k, (_, te) in enumerate(folds[: cal.use_folds]):
        held = set(key_all[lab["index"].to_numpy()[te]])
        keep = ~np.isin(key_all, list(held))
        res = train_ensemble(cfg, data.subset_rows(keep), log=say, progress=False)
        for task in preds:
            r = data.tasks[task]
            rows = r.row[~keep[r.row]]
            if len(rows):
                preds[task].append(predict_task_rows(res.ensemble, data, rows, task))
    for task, ps in preds.items():
        if not ps:
            continue
        p = pd.concat(ps, ignore_index=True)
        um = uncertainty_metrics(p["y"], p["pred"], p["std"])
        out[f"{task}_heldout_raw"] = um
        out["std_scale"][task] = std_factor(p["y"], p["pred"], p["std"])
        say(f"calibration ({cal.by}-grouped, {len(p)} held-out {task} rows): raw coverage 1sd {um.get('coverage_1sd', float('nan')):.2f}, "
            f"2sd {um.get('coverage_2sd', float('nan')):.2f} -> std_scale {out['std_scale'][task]:.2f}")
    return out
