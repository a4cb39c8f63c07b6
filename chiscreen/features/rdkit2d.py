"""RDKit 2D descriptors and Morgan count fingerprints."""
from __future__ import annotations

import math

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors, rdFingerprintGenerator

from chiscreen.features.base import FEATURIZERS, to_float32


@FEATURIZERS.register("rdkit2d")
class RDKit2D:
    """All descriptors of ``rdkit.Chem.Descriptors.descList``, in that order.

    ``Ipc`` (which spans hundreds of orders of magnitude on oligomers) is replaced by its natural
    log and named ``log_Ipc``. Failures and non-finite values give NaN (see base module).
    RDKit 2D descriptors do not distinguish cis from trans isomers.
    """

    name = "rdkit2d"
    version = "1"

    def __init__(self) -> None:
        self._funcs = list(Descriptors.descList)
        self._names = ["log_Ipc" if n == "Ipc" else n for n, _ in self._funcs]

    @property
    def feature_names(self) -> list[str]:
        return list(self._names)

    def __len__(self) -> int:
        return len(self._funcs)

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        out = np.empty(len(self._funcs), dtype=np.float64)
        with rdBase.BlockLogs():
            for i, (name, fn) in enumerate(self._funcs):
                try:
                    v = float(fn(mol))
                    if name == "Ipc":
                        v = math.log(v) if v > 0 else float("nan")
                except Exception:
                    v = float("nan")
                out[i] = v
        return to_float32(out)


@FEATURIZERS.register("morgan")
class MorganCounts:
    """Morgan (ECFP-like) count fingerprint, folded to ``n_bits``."""

    name = "morgan"
    version = "1"

    def __init__(self, radius: int = 2, n_bits: int = 2048) -> None:
        self.radius = radius
        self.n_bits = n_bits
        self._gen = rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)

    @property
    def feature_names(self) -> list[str]:
        return [f"morgan{self.radius}_{i}" for i in range(self.n_bits)]

    def __len__(self) -> int:
        return self.n_bits

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        return self._gen.GetCountFingerprintAsNumPy(mol).astype(np.float32)
