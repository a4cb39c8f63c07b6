"""Oracle cost of candidate pairs: the sigma profiles a pair still needs, plus the chi solve.

A pair's cost (seconds) = cost of its polymer's profile if the profile store lacks it (~1-7 s
for a polymer: xtb on its cyclic oligomer) + its solvent's if lacking (~0.05 s) + ``pair_s`` (~1 ms, two
segment-activity solves). Costs are marginal: once a batch pays for a molecule, the other
pairs with it cost only ``pair_s``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chiscreen.errors import ConfigError


@dataclass
class CostConfig:
    """Seconds per oracle unit (defaults: the oracle bench's measured order of magnitude).

    Attributes:
        polymer_s: one new polymer profile (xtb on its cyclic oligomer), seconds.
        solvent_s: one new solvent profile, seconds.
        pair_s: chi of one (pair, T) from stored profiles, seconds.
    """

    polymer_s: float = 5.0
    solvent_s: float = 0.05
    pair_s: float = 0.001

    def __post_init__(self) -> None:
        for k in ("polymer_s", "solvent_s", "pair_s"):
            if getattr(self, k) < 0:
                raise ConfigError(f"cost.{k} = {getattr(self, k)}: expected >= 0 seconds")


class CostModel:
    """Marginal oracle cost of pool rows given which molecules have profiles.

    Args:
        pi, si: (N,) molecule indices of the rows; have_p (P,), have_s (S,): bool, profile stored.
    """

    def __init__(self, pi: np.ndarray, si: np.ndarray, have_p: np.ndarray, have_s: np.ndarray,
                 cfg: CostConfig | None = None) -> None:
        self.cfg = cfg or CostConfig()
        self.pi, self.si = np.asarray(pi), np.asarray(si)
        self.have_p = np.asarray(have_p, dtype=bool).copy()
        self.have_s = np.asarray(have_s, dtype=bool).copy()

    def row_cost(self, rows: np.ndarray | None = None) -> np.ndarray:
        """Marginal cost (s) of each row now."""
        pi = self.pi if rows is None else self.pi[rows]
        si = self.si if rows is None else self.si[rows]
        c = self.cfg
        return c.pair_s + c.polymer_s * ~self.have_p[pi] + c.solvent_s * ~self.have_s[si]

    def pay(self, row: int) -> float:
        """Mark row's molecules as profiled; returns what it cost."""
        cost = float(self.row_cost(np.array([row]))[0])
        self.have_p[self.pi[row]] = True
        self.have_s[self.si[row]] = True
        return cost

    def batch_cost(self, rows: np.ndarray) -> float:
        """Total cost of a batch (each new molecule paid once)."""
        c = self.cfg
        rows = np.asarray(rows, dtype=int)
        newp = np.unique(self.pi[rows][~self.have_p[self.pi[rows]]])
        news = np.unique(self.si[rows][~self.have_s[self.si[rows]]])
        return float(len(rows) * c.pair_s + len(newp) * c.polymer_s + len(news) * c.solvent_s)

    def copy(self) -> "CostModel":
        return CostModel(self.pi, self.si, self.have_p, self.have_s, self.cfg)
