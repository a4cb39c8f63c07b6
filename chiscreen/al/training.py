"""Training sets, (re)training and evaluation of an AL run's ensemble.

The training table of a cycle: experimental chi of the reference data (``chi_exp``), the
curated solubility labels (``soluble``), the run's oracle rows (``chi_oracle``, carried by
:data:`~chiscreen.al.adapters.ORACLE_HEAD`) of the current method version (others only when
the config says so), and lab rows; rows of the evaluation polymers are left out unless the
config includes them, and held-out oracle rows are always left out. The reference COSMO-RS
values are never in it.

Retraining (the model layer's trainer): cold (:func:`train_initial` on everything) or warm
(:func:`finetune`: a fixed number of Adam steps from the last ensemble, scalers kept; the
``chi_oracle`` head joins the model at its first rows).
"""
from __future__ import annotations

import logging
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
from chiscreen.al.adapters import ORACLE_HEAD
from chiscreen.al.config import ALConfig
from chiscreen.errors import InvalidInputError

log = logging.getLogger("chiscreen.al")
SOLUBILITY_T_K = 298.15
LABEL_OF = {"chi_exp": "chi", ORACLE_HEAD: "chi_oracle", "soluble": "soluble"}
NUMERIC_LABELS = ("chi", "chi_computed", "chi_oracle")


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


# ---------------------------------------------------------------------------- reference rows
def experimental_rows() -> pd.DataFrame:
    """Experimental chi rows: polymer_smiles, solvent_smiles, polymer_key, solvent_key, temperature_K, chi."""
    from chiscreen.data import load_experimental_chi

    e = load_experimental_chi()
    return e[["polymer_smiles", "solvent_smiles", "polymer_key", "solvent_key", "temperature_K", "chi"]].copy()


def solubility_rows() -> pd.DataFrame:
    from chiscreen.data.polysol import load_solubility_labels

    s = load_solubility_labels()
    out = pd.DataFrame({"polymer_smiles": s["polymer_smiles"], "solvent_smiles": s["solvent_smiles"],
                        "temperature_K": SOLUBILITY_T_K, "soluble": s["soluble"].astype(float)})
    return out


def pick_eval_polymers(cfg: ALConfig, exp: pd.DataFrame) -> list[str]:
    """Canonical keys of the evaluation polymers (configured, or ``n_polymers`` picked by seed
    among experimental polymers with >= 5 rows)."""
    from chiscreen.chem import RepeatUnit

    ev = cfg.evaluation
    if ev.polymers:
        keys = []
        for s in ev.polymers:
            k = RepeatUnit.from_smiles(s).canonical
            if k not in set(exp["polymer_key"]):
                raise InvalidInputError(f"evaluation.polymers: {s!r} has no experimental chi rows in the reference data")
            keys.append(k)
        return keys
    counts = exp["polymer_key"].value_counts()
    cand = sorted(counts[counts >= 5].index)
    rng = np.random.default_rng(ev.seed)
    return sorted(rng.choice(cand, size=min(ev.n_polymers, len(cand)), replace=False).tolist())


# ---------------------------------------------------------------------------- training data
def training_table(exp: pd.DataFrame, sol: pd.DataFrame | None, oracle: pd.DataFrame, lab: pd.DataFrame,
                   eval_polymers: list[str], include_eval: bool, method_version: str, mix_versions: bool,
                   param_set: str | None = None) -> pd.DataFrame:
    """One long label table (polymer_smiles, solvent_smiles, temperature_K, chi, chi_oracle, soluble).

    Oracle rows (``status`` ok, not held out) enter through :func:`chiscreen.qc.results.label_rows`
    (the ``chi_oracle`` task's rows); unless ``mix_versions``, only rows of ``method_version``
    (profile method) and, when given, ``param_set`` (COSMO-SAC parameter set) are used."""
    from chiscreen.data import normalize_pairs
    from chiscreen.qc.results import label_rows

    parts = [exp.assign(source="reference:chi_exp")[["polymer_smiles", "solvent_smiles", "temperature_K", "chi", "source"]]]
    if sol is not None and len(sol):
        parts.append(sol.assign(source="reference:polysol"))
    if len(oracle):
        o = oracle[(oracle["status"] == "ok") & ~oracle["holdout"].astype(bool)]
        if not mix_versions:
            same = o["method_version"] == method_version
            if param_set is not None and "param_set" in o.columns:
                same &= o["param_set"] == param_set
            o = o[same]
        lr = label_rows(o.rename(columns={"polymer_key": "polymer_smiles", "solvent_key": "solvent_smiles"}),
                        source="oracle")
        parts.append(lr[["polymer_smiles", "solvent_smiles", "temperature_K", "chi_oracle", "source"]])
    if len(lab):
        parts.append(pd.DataFrame({"polymer_smiles": lab["polymer_key"], "solvent_smiles": lab["solvent_key"],
                                   "temperature_K": lab["temperature_K"].astype(float),
                                   "chi": pd.to_numeric(lab["chi"], errors="coerce"),
                                   "soluble": pd.to_numeric(lab["soluble"], errors="coerce"), "source": "lab"}))
    df = pd.concat(parts, ignore_index=True)
    for c in (*NUMERIC_LABELS, "soluble"):
        if c not in df.columns:
            df[c] = np.nan
    df = normalize_pairs(df, strict=True, source="AL training table", numeric_labels=NUMERIC_LABELS,
                         binary_labels=("soluble",)).drop(columns=["status", "reason"])
    if not include_eval and eval_polymers:
        df = df[~df["polymer_key"].isin(set(eval_polymers))].reset_index(drop=True)
    return df


def featurize_table(df: pd.DataFrame, tasks: list[str], representation: str = "cyclic:3", featurizer: str = "rdkit2d"):
    """TrainingData for a label table (descriptors cached per molecule)."""
    from chiscreen.model.config import DataConfig
    from chiscreen.model.data import featurize_training

    cfg = DataConfig(tasks=tasks, experimental="none", computed="none", solubility="none",
                     featurizer=featurizer, polymer_representation=representation)
    return featurize_training(df, cfg, progress=False, log=lambda m: log.warning(m))


def _train_config(cfg: ALConfig, tasks: list[str], steps: int, lr: float | None = None, warm: bool = False):
    from chiscreen.model.config import (CalibrationConfig, DataConfig, LossConfig, ModelConfig, OptimConfig,
                                        TrainConfig)

    m = cfg.model
    w = {t: float(v) for t, v in m.weights.items() if t in tasks}
    if not any(v > 0 for v in w.values()):
        raise InvalidInputError(f"model.weights: no positive weight for the tasks with rows {tasks}")
    steps = max(1, int(steps))
    # warm: a fixed number of steps, one validation at the end (a member keeps its start weights
    # only if the fine-tune made its validation loss worse)
    optim = (OptimConfig(max_steps=steps, lr=lr or m.lr, lr_step=10 * steps, eval_every=steps, patience=1)
             if warm else OptimConfig(max_steps=steps, lr_step=steps))
    return TrainConfig(seed=m.seed, n_members=m.n_members, threads=m.threads, device="cpu",
                       calibration=CalibrationConfig(by="none"), model=ModelConfig(activation=m.activation),
                       loss=LossConfig(weights=w), optim=optim,
                       data=DataConfig(tasks=tasks, experimental="none", computed="none", solubility="none"))


def train_initial(cfg: ALConfig, data, steps: int | None = None):
    """Cold training of a fresh ensemble on ``data`` (a TrainingData). Returns a ChiEnsemble."""
    from chiscreen.model.train import train_ensemble

    tc = _train_config(cfg, list(data.tasks), steps or cfg.model.init_steps)
    return train_ensemble(tc, data, log=lambda msg: log.info(msg), progress=False).ensemble


def finetune(ens, data, steps: int, lr: float, cfg: ALConfig, seed: int = 0):
    """Warm retrain with the model layer's trainer: ``steps`` Adam steps from ``ens`` (weights
    copied, a new task head initialised there, descriptor scalers kept). Returns a new ChiEnsemble."""
    from dataclasses import replace

    from chiscreen.model.train import train_ensemble

    tc = _train_config(cfg, list(data.tasks), steps, lr=lr, warm=True)
    tc = replace(tc, seed=int(seed))
    return train_ensemble(tc, data, log=lambda msg: log.info(msg), progress=False, init=ens, scalers="keep").ensemble


# ---------------------------------------------------------------------------- evaluation
@dataclass
class EvalSet:
    name: str
    data: object  # TrainingData
    task: str     # head


def _metrics(y: np.ndarray, mean: np.ndarray, std: np.ndarray) -> dict:
    if len(y) == 0:
        return {"n": 0}
    err = mean - y
    ss = float(np.sum((y - y.mean()) ** 2))
    return {"n": int(len(y)), "rmse": float(np.sqrt(np.mean(err ** 2))), "mae": float(np.mean(np.abs(err))),
            "r2": float(1 - np.sum(err ** 2) / ss) if ss > 0 else float("nan"),
            "coverage_1sd": float(np.mean(np.abs(err) <= std)) if len(std) else float("nan")}


def evaluate_rows(ens, data, head: str) -> dict:
    """RMSE / MAE / R2 / 1-sd coverage of ``head`` ("chi_exp" or ORACLE_HEAD) on a TrainingData's task rows."""
    if head not in data.tasks:
        return {"n": 0}
    if head not in ens.tasks:
        return {"n": 0}
    r = data.tasks[head]
    post = ens.posterior(data.Xp[r.pi], data.Xs[r.si], r.T)
    return _metrics(r.y, post.mean_of(head), post.calibrated_std_of(head))
