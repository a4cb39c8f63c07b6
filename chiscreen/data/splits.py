"""Train/test splits: the five official splits and grouped K-fold splits.

Grouping by ``pair`` keeps every temperature of a (polymer, solvent) pair on one side; by
``polymer`` (leave-polymer-out) or ``solvent`` tests generalisation to unseen molecules.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np
import pandas as pd

from chiscreen.errors import InvalidInputError

GROUPINGS = ("pair", "polymer", "solvent")


def groups_for(df: pd.DataFrame, by: str) -> np.ndarray:
    """Group label per row: canonical keys where present, else the SMILES columns."""
    if by not in GROUPINGS:
        raise InvalidInputError(f"unknown grouping {by!r}, expected one of {GROUPINGS}")
    p = df["polymer_key"] if "polymer_key" in df else df["polymer_smiles"]
    s = df["solvent_key"] if "solvent_key" in df else df["solvent_smiles"]
    if by == "polymer":
        return p.astype(str).to_numpy()
    if by == "solvent":
        return s.astype(str).to_numpy()
    return (p.astype(str) + "_" + s.astype(str)).to_numpy()


def grouped_kfold(df: pd.DataFrame, by: str = "polymer", n_splits: int = 5, seed: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """GroupKFold over shuffled groups: yields (train positions, test positions)."""
    from sklearn.model_selection import GroupKFold  # imported on use: every CLI command loads data/

    g = groups_for(df, by)
    uniq = np.unique(g)
    if len(uniq) < n_splits:
        raise InvalidInputError(f"{len(uniq)} distinct {by} groups, fewer than n_splits={n_splits}")
    rng = np.random.default_rng(seed)
    perm = {u: i for i, u in enumerate(rng.permutation(uniq))}
    codes = np.array([perm[x] for x in g])
    yield from GroupKFold(n_splits=n_splits).split(np.zeros(len(df)), groups=codes)


def grouped_holdout(df: pd.DataFrame, by: str = "pair", test_size: float = 0.2, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """One grouped train/test (or train/validation) split of positions."""
    from sklearn.model_selection import GroupShuffleSplit

    g = groups_for(df, by)
    gss = GroupShuffleSplit(n_splits=1, test_size=test_size, random_state=seed)
    tr, te = next(gss.split(np.zeros(len(df)), groups=g))
    return tr, te
