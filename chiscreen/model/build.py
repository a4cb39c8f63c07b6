"""Featurize, calibrate, train and save: what ``chiscreen train`` runs.

    res = train_and_save(cfg, "runs/default")               # files of cfg.data
    res = train_and_save(cfg, "runs/next", labels=df, init=load_ensemble("runs/default"))
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

import chiscreen.model.tasks as _tasks
from chiscreen.model.artifact import save_artifact
from chiscreen.model.calibration import calibrate_std
from chiscreen.model.config import TrainConfig
from chiscreen.model.data import load_training_data, training_data_from_table
from chiscreen.model.domain import domain_for_training
from chiscreen.model.ensemble import ChiEnsemble
from chiscreen.model.train import train_ensemble

log = logging.getLogger("chiscreen.model")


@dataclass
class TrainAndSaveResult:
    ensemble: ChiEnsemble
    seconds: float
    featurize_seconds: float
    calibration: dict
    path: str


def train_and_save(cfg: TrainConfig, out, progress: bool = True, log: Callable[[str], None] | None = None,
                   labels: pd.DataFrame | None = None, init: ChiEnsemble | None = None,
                   scalers: str = "auto") -> TrainAndSaveResult:
    """Featurize (``labels`` in memory, else the files of ``cfg.data``), calibrate std_scale
    (``cfg.calibration``), train on all rows (optionally warm-started from ``init``, see
    :func:`~chiscreen.model.train.train_ensemble`) and write the artifact to ``out``."""
    say = log or (lambda m: logging.getLogger("chiscreen.model").info(m))
    t0 = time.perf_counter()
    if labels is not None:
        data = training_data_from_table(labels, cfg.data, progress=progress)
    else:
        data = load_training_data(cfg.data, progress=progress)
    tf = time.perf_counter() - t0
    say(f"training data: {data.counts()} rows, {len(data.polymer_keys)} polymers, {len(data.solvent_keys)} solvents "
        f"({data.featurizer} v{data.featurizer_version}, {data.representation}); featurized in {tf:.1f} s")
    tc = time.perf_counter()
    cal = calibrate_std(cfg, data, say)
    cal["seconds"] = time.perf_counter() - tc
    res = train_ensemble(cfg, data, log=say, progress=progress, init=init, scalers=scalers)
    ens = res.ensemble
    ens.std_scale = {**{t: 1.0 for t in _tasks.chi_tasks(ens.tasks)}, **cal.get("std_scale", {})}
    # applicability domain: reference molecules of the final training rows + the fitted inflation
    ens.domain = domain_for_training(ens, data, cfg.calibration.reference)
    ens.domain.inflation = dict(cal.get("domain_inflation") or {})
    say(f"applicability domain: {len(ens.domain.Xp_ref)} polymers, {len(ens.domain.Xs_ref)} solvents; "
        f"latent distance units {ens.domain.scale_polymer:.3g} / {ens.domain.scale_solvent:.3g}; inflation "
        + (", ".join(f"{t}: slope {p['slope']:.2f} cap {p['cap']:.2f} k95 {p['k95']:.2f}" for t, p in ens.domain.inflation.items())
           or "none (calibration.domain off)"))
    metrics = {"train_seconds": res.seconds, "featurize_seconds": tf, "best_steps": res.best_steps,
               "val_loss_per_member": res.val_loss, "rows": data.counts(), "calibration": cal,
               "n_polymers": len(data.polymer_keys), "n_solvents": len(data.solvent_keys),
               "dropped_rows": 0 if data.dropped is None else int(len(data.dropped))}
    if init is not None:
        metrics["warm_start"] = {"from": init.source, "initial_val_loss_per_member": res.initial_val_loss}
    save_artifact(ens, Path(out), metrics=metrics)
    ens.source = str(out)
    return TrainAndSaveResult(ens, res.seconds, tf, cal, str(out))
