"""Training data for the multitask model: one long label table, featurized once per molecule.

The label table has one row per observation and the columns ``polymer_smiles``,
``solvent_smiles``, ``temperature_K`` and any of the tasks' label columns (``TaskSpec.label``:
``chi`` experimental chi, ``chi_computed`` computed chi, e.g. COSMO-RS, ``soluble`` 0/1, ...);
a row may carry any subset of labels. Each task uses the rows where its label is finite.

Label tables may come from files (``DataConfig``) or from memory:
:func:`training_data_from_table` featurizes a DataFrame directly (what retraining in a loop uses).
"""
from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chiscreen.data import load_cosmo_chi, load_experimental_chi, normalize_pairs, read_table
from chiscreen.errors import FeaturizationError, InvalidInputError
import chiscreen.model.tasks as _tasks
from chiscreen.model.config import DataConfig
from chiscreen.schema import (
    POLYMER_KEY, POLYMER_SMILES, REASON, SOLVENT_KEY, SOLVENT_SMILES, STATUS, TEMPERATURE_C, TEMPERATURE_K,
)

log = logging.getLogger("chiscreen.model")

SOLUBILITY_T_K = _tasks.get_task("soluble").label_T_K


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
        pair_x: optional per-row pair inputs (len(table), m) float32 (opt-in physics inputs,
            e.g. the oracle's chi of the row's pair at its T); a model trained on data with
            ``pair_x`` needs the same inputs for every row it predicts.
        pair_x_names: names of the m pair inputs.
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
    pair_x: np.ndarray | None = None
    pair_x_names: list[str] = field(default_factory=list)

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
                            self.representation, self.feature_names, self.dropped,
                            None if self.pair_x is None else self.pair_x[keep], list(self.pair_x_names))

    def with_task_values(self, task: str, values: np.ndarray) -> "TrainingData":
        """Same rows with the labels of ``task`` replaced: ``values`` (len(table),) float, NaN =
        no label (the row leaves the task). The table column is updated too (so the training
        data hash follows). Used to relabel chi_oracle with a parameter set refitted per fold.
        Raises InvalidInputError for a wrong length."""
        values = np.asarray(values, dtype=float)
        if len(values) != len(self.table):
            raise InvalidInputError(f"{task}: {len(values)} values for {len(self.table)} label rows")
        col = _tasks.get_task(task).label
        table = self.table.copy()
        table[col] = values
        tasks = dict(self.tasks)
        rows = np.flatnonzero(np.isfinite(values))
        pi = table[POLYMER_KEY].map({k: i for i, k in enumerate(self.polymer_keys)}).to_numpy()
        si = table[SOLVENT_KEY].map({k: i for i, k in enumerate(self.solvent_keys)}).to_numpy()
        if len(rows):
            pair = (table[POLYMER_KEY].astype(str) + "_" + table[SOLVENT_KEY].astype(str)).to_numpy()
            tasks[task] = TaskRows(pi[rows].astype(np.int64), si[rows].astype(np.int64),
                                   table[TEMPERATURE_K].to_numpy(dtype=float)[rows], values[rows], pair[rows], rows)
        else:
            tasks.pop(task, None)
        return TrainingData(table, self.polymer_keys, self.solvent_keys, self.Xp, self.Xs, tasks, self.featurizer,
                            self.featurizer_version, self.representation, self.feature_names, self.dropped,
                            self.pair_x, list(self.pair_x_names))

    def with_pair_inputs(self, x: np.ndarray | None, names: list[str] | None = None) -> "TrainingData":
        """Same data with per-row pair inputs ``x`` (len(table), m) (None: none). Raises
        InvalidInputError for a wrong shape or non-finite values (encode missing values
        explicitly, e.g. 0 plus an indicator column)."""
        if x is not None:
            x = np.asarray(x, dtype=np.float32)
            if x.ndim != 2 or len(x) != len(self.table):
                raise InvalidInputError(f"pair inputs of shape {x.shape}; expected ({len(self.table)}, m)")
            if not np.isfinite(x).all():
                raise InvalidInputError("pair inputs must be finite (encode a missing value with an indicator)")
        names = list(names) if names is not None else ([f"x{i}" for i in range(x.shape[1])] if x is not None else [])
        return TrainingData(self.table, self.polymer_keys, self.solvent_keys, self.Xp, self.Xs, dict(self.tasks),
                            self.featurizer, self.featurizer_version, self.representation, self.feature_names,
                            self.dropped, x, names)

    def counts(self) -> dict[str, int]:
        return {t: len(r) for t, r in self.tasks.items()}


def table_hash(df: pd.DataFrame) -> str:
    """sha256 (first 16 hex) of the label columns, independent of row order."""
    cols = [c for c in (POLYMER_KEY, SOLVENT_KEY, TEMPERATURE_K, *_tasks.label_columns()) if c in df.columns]
    t = df[cols].copy()
    if TEMPERATURE_K in t:
        t[TEMPERATURE_K] = t[TEMPERATURE_K].round(4)
    t = t.sort_values(cols).reset_index(drop=True)
    return hashlib.sha256(t.to_csv(index=False, float_format="%.6g").encode()).hexdigest()[:16]


def build_label_table(cfg: DataConfig) -> pd.DataFrame:
    """Collect the label rows the config asks for into one validated table (strict: a bad row
    raises InvalidInputError naming its source and row)."""
    parts = []
    exp = None
    if cfg.experimental == "reference" and "chi_exp" in cfg.tasks:
        exp = load_experimental_chi()
        parts.append(pd.DataFrame({POLYMER_SMILES: exp[POLYMER_SMILES], SOLVENT_SMILES: exp[SOLVENT_SMILES],
                                   TEMPERATURE_K: exp[TEMPERATURE_K], "chi": exp["chi"], "source": "mtl_chi/data_Chi.csv",
                                   "source_row": exp["row"]}))
    if cfg.computed == "reference" and "chi_comp" in cfg.tasks:
        exp = exp if exp is not None else load_experimental_chi()
        cos = load_cosmo_chi(exp=exp)
        parts.append(pd.DataFrame({POLYMER_SMILES: cos[POLYMER_SMILES], SOLVENT_SMILES: cos[SOLVENT_SMILES],
                                   TEMPERATURE_K: cos[TEMPERATURE_K], "chi_computed": cos["chi"],
                                   "source": "mtl_chi/data_COSMO.csv", "source_row": np.arange(len(cos))}))
    if cfg.solubility == "polysol" and "soluble" in cfg.tasks:
        from chiscreen.data.polysol import load_solubility_labels

        lab = load_solubility_labels()
        parts.append(pd.DataFrame({POLYMER_SMILES: lab[POLYMER_SMILES], SOLVENT_SMILES: lab[SOLVENT_SMILES],
                                   TEMPERATURE_K: SOLUBILITY_T_K, "soluble": lab["soluble"].astype(float),
                                   "source": "polysol (curated)", "source_row": np.arange(len(lab))}))
    for path in cfg.extra_tables:
        parts.append(_label_part(read_table(path), str(path)))
    if not parts:
        raise InvalidInputError(f"no training data: tasks {cfg.tasks} with experimental={cfg.experimental!r}, "
                                f"computed={cfg.computed!r}, solubility={cfg.solubility!r} and no extra_tables")
    return _finish_label_table(parts)


def _label_kinds() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(numeric label columns, binary label columns) of every registered task."""
    num = tuple(_tasks.TASKS[t].label for t in _tasks.chi_tasks())
    binary = tuple(_tasks.TASKS[t].label for t in _tasks.binary_tasks())
    return num, binary


def _label_part(raw: pd.DataFrame, source: str) -> pd.DataFrame:
    """Validate one user label table (strict) -> the rows with its label columns, source, source_row."""
    all_labels = _tasks.label_columns()
    labels = [c for c in all_labels if c in raw.columns]
    if not labels:
        raise InvalidInputError(f"{source}: no label column; expected at least one of {', '.join(all_labels)}")
    if TEMPERATURE_K not in raw.columns and TEMPERATURE_C not in raw.columns:
        specs = [_tasks.task_of_label(c) for c in labels]
        if all(s is not None and s.label_T_K is not None for s in specs):
            raw = raw.assign(temperature_K=specs[0].label_T_K)
    num, binary = _label_kinds()
    t = normalize_pairs(raw, strict=True, source=source, numeric_labels=num, binary_labels=binary)
    keep = [POLYMER_SMILES, SOLVENT_SMILES, TEMPERATURE_K, *labels]
    src = raw["source"].to_numpy() if "source" in raw.columns else source
    row = raw["source_row"].to_numpy() if "source_row" in raw.columns else np.arange(len(t))
    return t[keep].assign(source=src, source_row=row)


def _finish_label_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    df = pd.concat(parts, ignore_index=True)
    for c in _tasks.label_columns():
        if c not in df.columns:
            df[c] = np.nan
    num, binary = _label_kinds()
    df = normalize_pairs(df, strict=True, source="training table", numeric_labels=num, binary_labels=binary)
    return df.drop(columns=[STATUS, REASON])


def label_table_from_frames(*tables: pd.DataFrame, source: str = "in-memory labels") -> pd.DataFrame:
    """One validated label table from in-memory DataFrames (columns as for ``extra_tables``;
    optional ``source`` / ``source_row`` columns are kept). Strict: a bad row raises
    InvalidInputError naming the table and row."""
    if not tables:
        raise InvalidInputError("no label table given")
    return _finish_label_table([_label_part(t.reset_index(drop=True), f"{source} [{i}]") for i, t in enumerate(tables)])


def featurize_training(df: pd.DataFrame, cfg: DataConfig, progress: bool = True, log=None) -> TrainingData:
    """Featurize the molecules of a label table (cached). Rows whose polymer or solvent cannot be
    featurized (timeout, RDKit failure) are dropped and listed in ``dropped``."""
    from chiscreen.features import featurize

    log = log or _warn
    pkeys = list(dict.fromkeys(df[POLYMER_KEY]))
    skeys = list(dict.fromkeys(df[SOLVENT_KEY]))
    fp = featurize(pkeys, kind="polymer", featurizer=cfg.featurizer, representation=cfg.polymer_representation,
                   timeout_s=cfg.featurize_timeout_s, progress=progress)
    fs = featurize(skeys, kind="solvent", featurizer=cfg.featurizer, timeout_s=cfg.featurize_timeout_s, progress=progress)
    bad_p = {k: r for k, s, r in zip(pkeys, fp.status, fp.reason) if s != "ok"}
    bad_s = {k: r for k, s, r in zip(skeys, fs.status, fs.reason) if s != "ok"}
    bad_row = df[POLYMER_KEY].isin(bad_p) | df[SOLVENT_KEY].isin(bad_s)
    dropped = None
    if bad_row.any():
        dropped = df[bad_row].copy()
        dropped[REASON] = [bad_p.get(p) or bad_s.get(s) for p, s in zip(dropped[POLYMER_KEY], dropped[SOLVENT_KEY])]
        log(f"featurization failed for {len(bad_p)} polymer(s) and {len(bad_s)} solvent(s); "
            f"{int(bad_row.sum())} label row(s) dropped (first: {dropped['reason'].iloc[0]})")
        df = df[~bad_row].reset_index(drop=True)
    if len(df) == 0:
        raise FeaturizationError("no training row left after featurization")
    pk = list(dict.fromkeys(df[POLYMER_KEY]))
    sk = list(dict.fromkeys(df[SOLVENT_KEY]))
    prow = {k: i for i, k in enumerate(pkeys)}
    srow = {k: i for i, k in enumerate(skeys)}
    Xp = fp.X[[prow[k] for k in pk]]
    Xs = fs.X[[srow[k] for k in sk]]
    pidx = {k: i for i, k in enumerate(pk)}
    sidx = {k: i for i, k in enumerate(sk)}
    pi_all = df[POLYMER_KEY].map(pidx).to_numpy()
    si_all = df[SOLVENT_KEY].map(sidx).to_numpy()
    pair = (df[POLYMER_KEY].astype(str) + "_" + df[SOLVENT_KEY].astype(str)).to_numpy()
    tasks = {}
    for task in cfg.tasks:
        col = _tasks.get_task(task).label
        if col not in df.columns:
            continue
        y = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=float)
        rows = np.flatnonzero(np.isfinite(y))
        if len(rows):
            tasks[task] = TaskRows(pi_all[rows], si_all[rows], df[TEMPERATURE_K].to_numpy(dtype=float)[rows],
                                   y[rows], pair[rows], rows)
    if not tasks:
        raise InvalidInputError(f"no labelled rows for tasks {cfg.tasks}")
    return TrainingData(df, pk, sk, Xp, Xs, tasks, fp.featurizer, fp.version, fp.representation,
                        list(fp.feature_names), dropped)


def _warn(msg: str) -> None:
    log.warning(msg)


def load_training_data(cfg: DataConfig, progress: bool = True) -> TrainingData:
    """Build the label table ``cfg`` names (files) and featurize it."""
    return featurize_training(build_label_table(cfg), cfg, progress=progress)


def training_data_from_table(table: pd.DataFrame, cfg: DataConfig, progress: bool = True,
                             validated: bool = False) -> TrainingData:
    """Featurize an in-memory label table (no files): columns polymer_smiles, solvent_smiles,
    temperature_K or temperature_C and any task label columns. ``validated=True``: ``table``
    already came from :func:`build_label_table` / :func:`label_table_from_frames`."""
    df = table if validated else label_table_from_frames(table)
    return featurize_training(df, cfg, progress=progress)
