"""Training data for the multitask model: one long label table, featurized once per molecule.

The label table has one row per observation and the columns ``polymer_smiles``,
``solvent_smiles``, ``temperature_K`` and any of the label columns ``chi`` (experimental chi),
``chi_computed`` (computed chi, e.g. COSMO-RS) and ``soluble`` (0/1); a row may carry any subset
of labels. Task ``chi_exp`` uses the rows with ``chi``, ``chi_comp`` those with ``chi_computed``,
``soluble`` those with ``soluble``.
"""
from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chiscreen.data import load_cosmo_chi, load_experimental_chi, normalize_pairs, read_table
from chiscreen.errors import FeaturizationError, InvalidInputError
from chiscreen.model.config import DataConfig

LABEL_OF_TASK = {"chi_exp": "chi", "chi_comp": "chi_computed", "soluble": "soluble"}
SOLUBILITY_T_K = 298.15


@dataclass
class TaskRows:
    """Rows of one task. pi / si index the molecule tables; T in Kelvin; y the label;
    groups the pair identity (for grouped validation splits); row the label-table position."""

    pi: np.ndarray
    si: np.ndarray
    T: np.ndarray
    y: np.ndarray
    groups: np.ndarray
    row: np.ndarray

    def __len__(self) -> int:
        return len(self.y)

    def subset(self, idx: np.ndarray) -> "TaskRows":
        return TaskRows(self.pi[idx], self.si[idx], self.T[idx], self.y[idx], self.groups[idx], self.row[idx])


@dataclass
class TrainingData:
    """Featurized training data.

    Attributes:
        table: the label table (one row per observation, with polymer_key / solvent_key).
        polymer_keys, solvent_keys: canonical identities, one per molecule row of Xp / Xs.
        Xp, Xs: raw descriptors (M_p, F), (M_s, F) float32 (NaN allowed).
        tasks: task name -> TaskRows.
        featurizer, featurizer_version, representation, feature_names: provenance.
    """

    table: pd.DataFrame
    polymer_keys: list[str]
    solvent_keys: list[str]
    Xp: np.ndarray
    Xs: np.ndarray
    tasks: dict[str, TaskRows]
    featurizer: str
    featurizer_version: str
    representation: str
    feature_names: list[str] = field(default_factory=list)
    dropped: pd.DataFrame | None = None

    def hash(self) -> str:
        return table_hash(self.table)

    def subset_rows(self, keep: np.ndarray) -> "TrainingData":
        """Same molecules, only label-table rows where ``keep`` (bool, len(table)) is True."""
        keep = np.asarray(keep, dtype=bool)
        tasks = {t: r.subset(keep[r.row]) for t, r in self.tasks.items()}
        pos = np.cumsum(keep) - 1
        for r in tasks.values():
            r.row = pos[r.row]
        return TrainingData(self.table[keep].reset_index(drop=True), self.polymer_keys, self.solvent_keys,
                            self.Xp, self.Xs, tasks, self.featurizer, self.featurizer_version,
                            self.representation, self.feature_names, self.dropped)

    def counts(self) -> dict[str, int]:
        return {t: len(r) for t, r in self.tasks.items()}


def table_hash(df: pd.DataFrame) -> str:
    """sha256 (first 16 hex) of the label columns, independent of row order."""
    cols = [c for c in ("polymer_key", "solvent_key", "temperature_K", "chi", "chi_computed", "soluble") if c in df.columns]
    t = df[cols].copy()
    if "temperature_K" in t:
        t["temperature_K"] = t["temperature_K"].round(4)
    t = t.sort_values(cols).reset_index(drop=True)
    return hashlib.sha256(t.to_csv(index=False, float_format="%.6g").encode()).hexdigest()[:16]


def build_label_table(cfg: DataConfig) -> pd.DataFrame:
    """Collect the label rows the config asks for into one validated table (strict: a bad row
    raises InvalidInputError naming its source and row)."""
    parts = []
    exp = None
    if cfg.experimental == "reference" and "chi_exp" in cfg.tasks:
        exp = load_experimental_chi()
        parts.append(pd.DataFrame({"polymer_smiles": exp["polymer_smiles"], "solvent_smiles": exp["solvent_smiles"],
                                   "temperature_K": exp["temperature_K"], "chi": exp["chi"], "source": "mtl_chi/data_Chi.csv",
                                   "source_row": exp["row"]}))
    if cfg.computed == "reference" and "chi_comp" in cfg.tasks:
        exp = exp if exp is not None else load_experimental_chi()
        cos = load_cosmo_chi(exp=exp)
        parts.append(pd.DataFrame({"polymer_smiles": cos["polymer_smiles"], "solvent_smiles": cos["solvent_smiles"],
                                   "temperature_K": cos["temperature_K"], "chi_computed": cos["chi"],
                                   "source": "mtl_chi/data_COSMO.csv", "source_row": np.arange(len(cos))}))
    if cfg.solubility == "polysol" and "soluble" in cfg.tasks:
        from chiscreen.data.polysol import load_solubility_labels

        lab = load_solubility_labels()
        parts.append(pd.DataFrame({"polymer_smiles": lab["polymer_smiles"], "solvent_smiles": lab["solvent_smiles"],
                                   "temperature_K": SOLUBILITY_T_K, "soluble": lab["soluble"].astype(float),
                                   "source": "polysol (curated)", "source_row": np.arange(len(lab))}))
    for path in cfg.extra_tables:
        raw = read_table(path)
        labels = [c for c in ("chi", "chi_computed", "soluble") if c in raw.columns]
        if not labels:
            raise InvalidInputError(f"{path}: no label column; expected at least one of chi, chi_computed, soluble")
        if "temperature_K" not in raw.columns and "temperature_C" not in raw.columns:
            if "soluble" in raw.columns and not {"chi", "chi_computed"} & set(raw.columns):
                raw = raw.assign(temperature_K=SOLUBILITY_T_K)
        t = normalize_pairs(raw, strict=True, source=str(path))
        keep = ["polymer_smiles", "solvent_smiles", "temperature_K", *labels]
        parts.append(t[keep].assign(source=str(path), source_row=np.arange(len(t))))
    if not parts:
        raise InvalidInputError(f"no training data: tasks {cfg.tasks} with experimental={cfg.experimental!r}, "
                                f"computed={cfg.computed!r}, solubility={cfg.solubility!r} and no extra_tables")
    df = pd.concat(parts, ignore_index=True)
    for c in ("chi", "chi_computed", "soluble"):
        if c not in df.columns:
            df[c] = np.nan
    df = normalize_pairs(df, strict=True, source="training table")
    return df.drop(columns=["status", "reason"])


def featurize_training(df: pd.DataFrame, cfg: DataConfig, progress: bool = True, log=None) -> TrainingData:
    """Featurize the molecules of a label table (cached). Rows whose polymer or solvent cannot be
    featurized (timeout, RDKit failure) are dropped and listed in ``dropped``."""
    from chiscreen.features import featurize

    log = log or (lambda m: print(m, file=sys.stderr))
    pkeys = list(dict.fromkeys(df["polymer_key"]))
    skeys = list(dict.fromkeys(df["solvent_key"]))
    fp = featurize(pkeys, kind="polymer", featurizer=cfg.featurizer, representation=cfg.polymer_representation,
                   timeout_s=cfg.featurize_timeout_s, progress=progress)
    fs = featurize(skeys, kind="solvent", featurizer=cfg.featurizer, timeout_s=cfg.featurize_timeout_s, progress=progress)
    bad_p = {k: r for k, s, r in zip(pkeys, fp.status, fp.reason) if s != "ok"}
    bad_s = {k: r for k, s, r in zip(skeys, fs.status, fs.reason) if s != "ok"}
    bad_row = df["polymer_key"].isin(bad_p) | df["solvent_key"].isin(bad_s)
    dropped = None
    if bad_row.any():
        dropped = df[bad_row].copy()
        dropped["reason"] = [bad_p.get(p) or bad_s.get(s) for p, s in zip(dropped["polymer_key"], dropped["solvent_key"])]
        log(f"featurization failed for {len(bad_p)} polymer(s) and {len(bad_s)} solvent(s); "
            f"{int(bad_row.sum())} label row(s) dropped (first: {dropped['reason'].iloc[0]})")
        df = df[~bad_row].reset_index(drop=True)
    if len(df) == 0:
        raise FeaturizationError("no training row left after featurization")
    pk = list(dict.fromkeys(df["polymer_key"]))
    sk = list(dict.fromkeys(df["solvent_key"]))
    prow = {k: i for i, k in enumerate(pkeys)}
    srow = {k: i for i, k in enumerate(skeys)}
    Xp = fp.X[[prow[k] for k in pk]]
    Xs = fs.X[[srow[k] for k in sk]]
    pidx = {k: i for i, k in enumerate(pk)}
    sidx = {k: i for i, k in enumerate(sk)}
    pi_all = df["polymer_key"].map(pidx).to_numpy()
    si_all = df["solvent_key"].map(sidx).to_numpy()
    pair = (df["polymer_key"].astype(str) + "_" + df["solvent_key"].astype(str)).to_numpy()
    tasks = {}
    for task in cfg.tasks:
        col = LABEL_OF_TASK[task]
        y = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        rows = np.flatnonzero(np.isfinite(y))
        if len(rows):
            tasks[task] = TaskRows(pi_all[rows], si_all[rows], df["temperature_K"].to_numpy(dtype=float)[rows],
                                   y[rows], pair[rows], rows)
    if not tasks:
        raise InvalidInputError(f"no labelled rows for tasks {cfg.tasks}")
    return TrainingData(df, pk, sk, Xp, Xs, tasks, fp.featurizer, fp.version, fp.representation,
                        list(fp.feature_names), dropped)


def load_training_data(cfg: DataConfig, progress: bool = True) -> TrainingData:
    return featurize_training(build_label_table(cfg), cfg, progress=progress)
