"""Training sets, (re)training and evaluation of an AL run's ensemble.

The training table of a cycle: experimental chi of the reference data (``chi_exp``), the
curated solubility labels (``soluble``), the run's oracle rows (``chi_oracle``, carried by
:data:`~chiscreen.al.adapters.ORACLE_HEAD`) of the current method version (others only when
the config says so), and lab rows; rows of the evaluation polymers are left out unless the
config includes them, and held-out oracle rows are always left out. The reference COSMO-RS
values are never in it.

Retraining: cold (:func:`train_initial` on everything) or warm (:func:`finetune`: a fixed
number of Adam steps from the last ensemble, scalers kept; a head that had no rows before is
initialised from its new rows' mean and std).
"""
from __future__ import annotations

import copy
import logging
import sys
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from chiscreen.al.adapters import ORACLE_HEAD
from chiscreen.al.config import ALConfig
from chiscreen.errors import InvalidInputError

log = logging.getLogger("chiscreen.al")
SOLUBILITY_T_K = 298.15
LABEL_OF = {"chi_exp": "chi", ORACLE_HEAD: "chi_computed", "soluble": "soluble"}


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
                   eval_polymers: list[str], include_eval: bool, method_version: str, mix_versions: bool) -> pd.DataFrame:
    """One long label table (polymer_smiles, solvent_smiles, temperature_K, chi, chi_computed, soluble)."""
    from chiscreen.data import normalize_pairs

    parts = [exp.assign(source="reference:chi_exp")[["polymer_smiles", "solvent_smiles", "temperature_K", "chi", "source"]]]
    if sol is not None and len(sol):
        parts.append(sol.assign(source="reference:polysol"))
    if len(oracle):
        o = oracle[(oracle["status"] == "ok") & ~oracle["holdout"].astype(bool)]
        if not mix_versions:
            o = o[o["method_version"] == method_version]
        parts.append(pd.DataFrame({"polymer_smiles": o["polymer_key"], "solvent_smiles": o["solvent_key"],
                                   "temperature_K": o["temperature_K"].astype(float),
                                   "chi_computed": o["chi"].astype(float), "source": "oracle"}))
    if len(lab):
        parts.append(pd.DataFrame({"polymer_smiles": lab["polymer_key"], "solvent_smiles": lab["solvent_key"],
                                   "temperature_K": lab["temperature_K"].astype(float),
                                   "chi": pd.to_numeric(lab["chi"], errors="coerce"),
                                   "soluble": pd.to_numeric(lab["soluble"], errors="coerce"), "source": "lab"}))
    df = pd.concat(parts, ignore_index=True)
    for c in ("chi", "chi_computed", "soluble"):
        if c not in df.columns:
            df[c] = np.nan
    df = normalize_pairs(df, strict=True, source="AL training table").drop(columns=["status", "reason"])
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


def _loss_weights(w: dict[str, float]) -> tuple[float, float]:
    """Per-task weights -> the trainer's (a1, a2): a1 = soluble share, a2 = oracle share of chi."""
    ws, wo, we = w.get("soluble", 0.0), w.get("chi_oracle", 0.0), w.get("chi_exp", 0.0)
    tot = ws + wo + we
    if tot <= 0:
        raise InvalidInputError("model.weights: all task weights are zero")
    a1 = ws / tot
    a2 = wo / (wo + we) if wo + we > 0 else 0.5
    return a1, a2


def train_initial(cfg: ALConfig, data, steps: int | None = None):
    """Cold training of a fresh ensemble on ``data`` (a TrainingData). Returns a ChiEnsemble."""
    from chiscreen.model.config import (CalibrationConfig, DataConfig, LossConfig, ModelConfig, OptimConfig,
                                        TrainConfig)
    from chiscreen.model.train import train_ensemble

    m = cfg.model
    a1, a2 = _loss_weights(m.weights)
    tasks = list(data.tasks)
    tc = TrainConfig(seed=m.seed, n_members=m.n_members, threads=m.threads, device="cpu",
                     calibration=CalibrationConfig(by="none"), model=ModelConfig(activation=m.activation),
                     loss=LossConfig(a1=a1, a2=a2),
                     optim=OptimConfig(max_steps=int(steps or m.init_steps), lr_step=max(1, int(steps or m.init_steps))),
                     data=DataConfig(tasks=tasks, experimental="none", computed="none", solubility="none",
                                     polymer_representation=data.representation))
    res = train_ensemble(tc, data, log=lambda msg: log.info(msg), progress=False)
    return res.ensemble


def finetune(ens, data, steps: int, lr: float, weights: dict[str, float], seed: int = 0, batch: int = 64,
             threads: int = 1):
    """Warm retrain: ``steps`` Adam steps of every member from ``ens`` on ``data`` (scalers
    kept). Returns a new ChiEnsemble (``ens`` is unchanged)."""
    torch.set_num_threads(max(1, threads))
    new = copy.deepcopy(ens)
    net = new.net
    outs = new.outputs
    t_ref = new.model_config.t_ref_K
    Xp = torch.from_numpy(new.scaler_polymer.transform(data.Xp))
    Xs = torch.from_numpy(new.scaler_solvent.transform(data.Xs))
    w_of = {"chi_exp": weights.get("chi_exp", 0.0), ORACLE_HEAD: weights.get("chi_oracle", 0.0),
            "soluble": weights.get("soluble", 0.0)}
    tasks = {t: r for t, r in data.tasks.items() if len(r) and w_of.get(t, 0.0) > 0}
    if not tasks:
        raise InvalidInputError("warm retrain: no rows for any task with a positive weight")
    heads = {"chi_exp": ("A_exp", "B_exp"), "chi_comp": ("A_comp", "B_comp")}
    with torch.no_grad():
        for t in tasks:
            if t in heads and t not in new.target_scaling:
                y = tasks[t].y
                mu, sd = float(np.mean(y)), float(np.std(y) if np.std(y) > 1e-8 else 1.0)
                a, b = (outs.index(h) for h in heads[t])
                net.out_scale[a], net.out_shift[a] = sd, mu
                net.out_scale[b], net.out_shift[b] = sd * t_ref, 0.0
                new.target_scaling[t] = {"mean": mu, "std": sd}
                log.info(f"warm start: head {t} had no rows before; initialised from {len(y)} rows (mean {mu:.3f}, std {sd:.3f})")
    gen = torch.Generator().manual_seed(int(seed) + 4242)
    E = new.n_members
    tt = {t: {"pi": torch.from_numpy(r.pi.astype(np.int64)), "si": torch.from_numpy(r.si.astype(np.int64)),
              "T": torch.from_numpy(r.T.astype(np.float32)), "y": torch.from_numpy(r.y.astype(np.float32))}
          for t, r in tasks.items()}
    opt = torch.optim.Adam(net.parameters(), lr=lr, amsgrad=True)
    net.train()
    for _ in range(int(steps)):
        loss = 0.0
        for t, d in tt.items():
            idx = torch.randint(len(d["y"]), (E, batch), generator=gen)
            Up = net.tower_p(Xp[d["pi"][idx]])
            Us = net.tower_s(Xs[d["si"][idx]])
            Y = net.raw_head(Up, Us) * net.out_scale + net.out_shift        # physical units (E, B, K)
            y = d["y"][idx]
            if t == "soluble":
                lt = F.binary_cross_entropy_with_logits(Y[..., outs.index("logit")], y)
            else:
                a, b = (outs.index(h) for h in heads[t])
                chi = Y[..., a] + Y[..., b] / d["T"][idx]
                lt = (((chi - y) / new.target_scaling[t]["std"]) ** 2).mean()
            loss = loss + w_of[t] * lt * E
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    net.eval()
    new.invalidate_hash()
    return new


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
    r = data.tasks[head]
    P = ens.predict_arrays(data.Xp[r.pi], data.Xs[r.si], r.T)[head]
    s = float(ens.std_scale.get(head, 1.0))
    return _metrics(r.y, P.mean(0), s * P.std(0, ddof=1))
