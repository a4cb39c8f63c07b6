"""Featurizers: pure functions from an RDKit Mol to a float32 vector.

A featurizer has a ``name``, a ``version`` (bumped whenever its output changes), a length and
``feature_names``; ``__call__`` does the work and does no parsing and no I/O. Featurizers are
registered in :data:`FEATURIZERS`; CLI choices are its keys. Caching is a separate layer
(:mod:`chiscreen.features.cache`).

NaN/inf policy: a descriptor that RDKit cannot compute, that is not finite, or whose magnitude
exceeds the float32 range is returned as NaN. Models impute NaN with the training median
(after which scaling applies); featurizers never invent values.
"""
from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np
from rdkit import Chem

from chiscreen.registry import Registry


@runtime_checkable
class Featurizer(Protocol):
    name: str
    version: str

    @property
    def feature_names(self) -> list[str]: ...

    def __len__(self) -> int: ...

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        """Return a float32 vector of shape (len(self),)."""
        ...


FEATURIZERS: Registry[type] = Registry("featurizer")

_F32_MAX = float(np.finfo(np.float32).max)


def to_float32(values) -> np.ndarray:
    """float64 values -> float32 with the NaN policy applied (non-finite or too large -> NaN)."""
    x = np.asarray(values, dtype=np.float64)
    bad = ~np.isfinite(x) | (np.abs(x) > _F32_MAX)
    x[bad] = np.nan
    return x.astype(np.float32)


def get_featurizer(name: str, **kwargs) -> Featurizer:
    """Instantiate a registered featurizer by name."""
    return FEATURIZERS[name](**kwargs)
