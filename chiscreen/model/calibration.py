"""Std calibration: fit ``std_scale`` per chi task on grouped held-out folds, and the std
inflation with the applicability-domain score (:mod:`chiscreen.model.domain`).

    cal = calibrate_std(cfg, data)          # {"std_scale": {"chi_exp": f, ...}, "domain_inflation": {...}, ...}
    ens.std_scale.update(cal["std_scale"])

For ``use_folds`` of the ``n_splits`` folds of a grouped K-fold (by pair, polymer, or "mixed":
the fold's polymers plus a pair-grouped fold of the other polymers' pairs, so one training gives
both unseen-polymer and seen-polymer residuals) an ensemble of the same config is trained
without the fold (every row of the held-out groups removed from all tasks) and predicts it,
with AD scores against that fold model's own training molecules. Without the domain fit
(``calibration.domain: false``) std_scale[task] is the factor that makes mean +- 1 scaled std
cover 68.3 % of the held-out errors (:func:`~chiscreen.model.uncertainty.std_factor`); with it
(default) std_scale, the inflation slope and cap and the 95 % interval scale k95 come from
:func:`chiscreen.model.domain.fit_inflation` on the same rows (``calibration.fit``: every row,
or the rows of the held-out polymers, which is what a new polymer is), with AD scores against
``calibration.reference``. Each held-out row is marked ``unseen`` when no row of its polymer was
in that fold model's training.
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
    out = pd.DataFrame({"row": rows, "y": r.y[sel], "pred": post.mean_of(key), "std": post.std_of(key),
                        TEMPERATURE_K: r.T[sel]})
    if ens.domain is not None:   # applicability domain and the calibrated std / 95 % interval
        out["ad"], out["ad_polymer"], out["ad_solvent"] = post.ad, post.ad_polymer, post.ad_solvent
        out["std_cal"] = post.calibrated_std_of(key)
        lo, hi = post.interval_of(key)
        out["lo95"], out["hi95"] = lo, hi
    return out


def calibration_folds(data: TrainingData, by: str, n_splits: int, seed: int) -> list[np.ndarray]:
    """Held-out masks over the label table (one bool (len(table),) array per fold) of a grouped
    K-fold over the rows with a chi label: by "pair", "polymer" or "mixed" (the fold's polymers
    plus the k-th pair-grouped fold of the remaining polymers' pairs)."""
    from chiscreen.data.splits import grouped_kfold

    t = data.table
    poly = t[POLYMER_KEY].to_numpy()
    pair = (t[POLYMER_KEY] + "_" + t[SOLVENT_KEY]).to_numpy()
    has_label = np.zeros(len(t), dtype=bool)
    for task in _tasks.chi_tasks():   # rows with any chi label (as format v1 did), whatever was trained
        col = _tasks.get_task(task).label
        if col in t.columns:
            has_label |= t[col].notna().to_numpy()
    lab = t[has_label].reset_index()
    idx = lab["index"].to_numpy()
    if by in ("pair", "polymer"):
        key = poly if by == "polymer" else pair
        return [np.isin(key, list(set(key[idx[te]])))
                for _, te in grouped_kfold(lab, by=by, n_splits=n_splits, seed=seed)]
    if by != "mixed":
        raise ValueError(f"calibration.by = {by!r}")
    out = []
    pfolds = list(grouped_kfold(lab, by="polymer", n_splits=n_splits, seed=seed))
    for k, (_, te) in enumerate(pfolds):
        held_p = set(poly[idx[te]])
        rest = lab[~np.isin(lab[POLYMER_KEY].to_numpy(), list(held_p))].reset_index(drop=True)
        held = np.isin(poly, list(held_p))
        if len(rest) and rest[POLYMER_KEY].str.cat(rest[SOLVENT_KEY], sep="_").nunique() >= n_splits:
            _, te2 = list(grouped_kfold(rest, by="pair", n_splits=n_splits, seed=seed + 1))[k]
            held |= np.isin(pair, list(set(pair[rest["index"].to_numpy()[te2]])))
        out.append(held)
    return out


def calibrate_std(cfg: TrainConfig, data: TrainingData, log: Callable[[str], None] | None = None) -> dict:
    """Fit std_scale (and, with ``calibration.domain``, the AD inflation) on grouped held-out
    folds (see CalibrationConfig). Returns a dict with 'std_scale' (one factor per chi task
    trained), 'domain_inflation' ({task: {slope, cap, k95}}; empty without the domain fit) and
    the raw held-out uncertainty metrics."""
    from chiscreen.model.domain import domain_for_training, fit_inflation

    say = log or (lambda m: logging.getLogger("chiscreen.model").info(m))
    cal = cfg.calibration
    chi = [t for t in _tasks.chi_tasks() if t in data.tasks]
    if cal.by == "none":
        return {"std_scale": {t: 1.0 for t in chi}, "by": "none", "domain_inflation": {}}
    use_domain = bool(getattr(cal, "domain", False))
    out = {"by": cal.by, "n_splits": cal.n_splits, "use_folds": cal.use_folds, "std_scale": {},
           "domain_inflation": {}}
    # the reference order (chi_exp before chi_comp), then any other chi task
    order = [x for x in ("chi_exp", "chi_comp") if x in chi] + [x for x in chi if x not in ("chi_exp", "chi_comp")]
    preds = {task: [] for task in order}
    folds = calibration_folds(data, cal.by, cal.n_splits, cfg.seed)
    for k, held in enumerate(folds[: cal.use_folds]):
        keep = ~held
        sub = data.subset_rows(keep)
        res = train_ensemble(cfg, sub, log=say, progress=False)
        if use_domain:
            res.ensemble.domain = domain_for_training(res.ensemble, sub, getattr(cal, "reference", "chi"))
        seen = set(sub.table[POLYMER_KEY])
        for task in preds:
            r = data.tasks[task]
            rows = r.row[~keep[r.row]]
            if len(rows):
                p = predict_task_rows(res.ensemble, data, rows, task)
                p["fold"] = k
                p["unseen"] = ~np.isin(data.table[POLYMER_KEY].to_numpy()[rows], list(seen))
                preds[task].append(p)
    for task, ps in preds.items():
        if not ps:
            continue
        p = pd.concat(ps, ignore_index=True)
        um = uncertainty_metrics(p["y"], p["pred"], p["std"])
        out[f"{task}_heldout_raw"] = um
        if use_domain:
            fit = fit_inflation(p["y"], p["pred"], p["std"], p["ad"], unseen=p["unseen"].to_numpy(bool),
                                method=getattr(cal, "fit", "pooled"))
            out["std_scale"][task] = fit["std_scale"]
            out[f"{task}_std_scale_without_domain"] = std_factor(p["y"], p["pred"], p["std"])
            out["domain_inflation"][task] = {"slope": fit["slope"], "cap": fit["cap"], "k95": fit["k95"]}
            out[f"{task}_domain_fit"] = {"n": fit["n"], "n_unseen": fit["n_unseen"], "method": fit["method"],
                                         "reference": getattr(cal, "reference", "chi"), "bins": fit["bins"],
                                         "spearman_ad_abs_err": _spearman(p["ad"], (p["y"] - p["pred"]).abs())}
            say(f"calibration ({cal.by}-grouped, {len(p)} held-out {task} rows, {fit['n_unseen']} of held-out "
                f"polymers; fit {fit['method']}): raw coverage 1sd "
                f"{um.get('coverage_1sd', float('nan')):.2f} -> std_scale {fit['std_scale']:.2f} x (1 + {fit['slope']:.2f} "
                f"min(ad, {fit['cap']:.2f})), 95 % interval +- {fit['k95']:.2f} calibrated std")
        else:
            out["std_scale"][task] = std_factor(p["y"], p["pred"], p["std"])
            say(f"calibration ({cal.by}-grouped, {len(p)} held-out {task} rows): raw coverage 1sd {um.get('coverage_1sd', float('nan')):.2f}, "
                f"2sd {um.get('coverage_2sd', float('nan')):.2f} -> std_scale {out['std_scale'][task]:.2f}")
    return out


def _spearman(a, b) -> float:
    from scipy.stats import spearmanr

    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = np.isfinite(a) & np.isfinite(b)
    return float(spearmanr(a[ok], b[ok]).statistic) if ok.sum() > 2 else float("nan")
