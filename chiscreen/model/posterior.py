"""The ensemble posterior: per-member values, mean, std and calibrated std -- computed here only.

    from chiscreen.model import load_ensemble
    ens = load_ensemble()
    post = ens.posterior(Xp, Xs, T_K)                # raw descriptors, aligned pairs (N rows)
    post.values                                      # (E, N, m) per-member values
    post.mean, post.std, post.calibrated_std         # (N, m) each
    post["chi_exp"]                                  # (E, N) per-member chi_exp(T)
    post.mean_of("chi_exp"), post.calibrated_std_of("chi_exp")   # (N,)

Candidate pools (batch acquisition, Thompson sampling): encode every molecule once, then ask
for per-member values of arbitrary (polymer, solvent, T) rows; the product P x S is never
materialised, memory is O(E x batch x d)::

    Up = ens.encode_polymers(Xp_all)                 # (E, P, 2d), once per polymer
    Us = ens.encode_solvents(Xs_all)                 # (E, S, 2d), once per solvent
    post = ens.posterior_pool(Up, Us, pi, si, T_K)   # pi, si: (N,) int row indices; T_K: (N,) Kelvin
    draws = post["chi_exp"]                          # (E, N): member e is one posterior sample

Quantities (``post.names``): every head output ("logit", "A_exp", "B_exp", ...), chi(T) of every
chi task of the model (by task name, e.g. "chi_exp", "chi_comp"), and the probability of every
binary task (its result prefix, "p_soluble"). Units: chi dimensionless, A dimensionless, B in
Kelvin, C in Kelvin^2, probabilities in [0, 1]; T always in Kelvin.

Statistics: ``std`` is the sample std over members (ddof=1; 0 for one member);
``calibrated_std`` = std x std_scale[task] x inflation(ad) for chi quantities of a task with a
fitted factor (:func:`std_scale_of`), std otherwise. ``ad`` is the applicability-domain score of
every row (:mod:`chiscreen.model.domain`: 0 = training molecules, ~1 = typical distance, larger =
farther out; NaN when the model has no domain statistics, then the inflation is 1), and
inflation(ad) = 1 + slope x min(ad, cap), fitted with std_scale on held-out rows. The calibrated
95 % interval is mean +- k95[task] x calibrated_std (:meth:`EnsemblePrediction.interval_of`; NaN
without domain statistics). Nothing else in chiscreen applies std_scale or the inflation: the
screen's fast GEMM path (``chiscreen.screen.scoring.BlockScorer``) keeps running sums but takes
its factors from :func:`std_scale_of` and ``DomainStats.factor`` and is tested equal to this module.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np


def member_mean_std(values: np.ndarray, axis: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Mean and sample std (ddof=1; zeros for one member) over the member axis."""
    v = np.asarray(values)
    m = v.mean(axis)
    s = v.std(axis, ddof=1) if v.shape[axis] > 1 else np.zeros_like(m)
    return m, s


def std_scale_of(std_scale: Mapping[str, float], quantity: str) -> float:
    """The calibration factor of a quantity: ``std_scale[task]`` for the chi(T) of a chi task
    (quantity = task name), 1.0 for everything else (head outputs, probabilities)."""
    import chiscreen.model.tasks as _tasks

    spec = _tasks.TASKS.get(quantity)
    if spec is None or not spec.is_chi:
        return 1.0
    return float(std_scale.get(spec.std_scale_key, 1.0))


def _chi_task_names() -> set[str]:
    import chiscreen.model.tasks as _tasks

    return set(_tasks.chi_tasks())


@dataclass
class EnsemblePrediction:
    """Per-member values of m quantities for N rows and their ensemble statistics.

    Attributes:
        names: the m quantity names.
        values: (E, N, m) float64 per-member values.
        std_scale: (m,) factor applied to the raw std (1.0 where uncalibrated).
        mean, std, calibrated_std: (N, m) float64.
        ad, ad_polymer, ad_solvent: (N,) applicability-domain scores (NaN: no domain statistics).
        k95: (m,) half-width of the calibrated 95 % interval in calibrated stds (NaN: none).
    """

    names: tuple[str, ...]
    values: np.ndarray
    std_scale: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    calibrated_std: np.ndarray
    ad: np.ndarray | None = None
    ad_polymer: np.ndarray | None = None
    ad_solvent: np.ndarray | None = None
    k95: np.ndarray | None = None

    def __post_init__(self) -> None:
        n, m = self.values.shape[1], self.values.shape[2]
        for k in ("ad", "ad_polymer", "ad_solvent"):
            if getattr(self, k) is None:
                setattr(self, k, np.full(n, np.nan))
        if self.k95 is None:
            self.k95 = np.full(m, np.nan)

    @classmethod
    def from_members(cls, names: Sequence[str], values: np.ndarray,
                     std_scale: Mapping[str, float] | None = None, domain=None,
                     ad_polymer=None, ad_solvent=None) -> "EnsemblePrediction":
        """Statistics of per-member values (E, N, m); ``std_scale``: the ensemble's dict.

        ``domain`` (a :class:`~chiscreen.model.domain.DomainStats`) with ``ad_polymer`` /
        ``ad_solvent`` ((N,) scores of each row's molecules) adds the domain scores, the std
        inflation and the 95 % interval scale; without them ad is NaN and the inflation 1."""
        from chiscreen.model.domain import combine

        v = np.asarray(values, dtype=np.float64)
        names = tuple(names)
        if v.ndim != 3 or v.shape[2] != len(names):
            raise ValueError(f"values have shape {v.shape}, expected (E, N, {len(names)})")
        n = v.shape[1]
        m, s = member_mean_std(v, 0)
        f = np.array([std_scale_of(std_scale or {}, q) for q in names], dtype=np.float64)
        if domain is None or ad_polymer is None or ad_solvent is None:
            return cls(names, v, f, m, s, s * f)
        ap = np.broadcast_to(np.asarray(ad_polymer, dtype=np.float64), (n,)).copy()
        as_ = np.broadcast_to(np.asarray(ad_solvent, dtype=np.float64), (n,)).copy()
        ad = combine(ap, as_)
        cal = s * f
        chi = _chi_task_names()
        k95 = np.full(len(names), np.nan)
        for j, q in enumerate(names):
            if q in chi:
                cal[:, j] *= domain.factor(q, ad)
                k95[j] = domain.k95(q)
        return cls(names, v, f, m, s, cal, ad, ap, as_, k95)

    @property
    def n_members(self) -> int:
        return int(self.values.shape[0])

    def __len__(self) -> int:
        return int(self.values.shape[1])

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no quantity {name!r}; have {list(self.names)}") from None

    def __getitem__(self, name: str) -> np.ndarray:
        """Per-member values (E, N) of ``name``."""
        return self.values[..., self.index(name)]

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def mean_of(self, name: str) -> np.ndarray:
        return self.mean[:, self.index(name)]

    def std_of(self, name: str) -> np.ndarray:
        """Raw ensemble std (N,) of ``name``."""
        return self.std[:, self.index(name)]

    def calibrated_std_of(self, name: str) -> np.ndarray:
        return self.calibrated_std[:, self.index(name)]

    def interval_of(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated 95 % interval (lo, hi) of ``name``: mean -+ k95 x calibrated std, each (N,);
        NaN when the model has no calibrated interval (no domain statistics)."""
        j = self.index(name)
        hw = self.k95[j] * self.calibrated_std[:, j]
        return self.mean[:, j] - hw, self.mean[:, j] + hw

    def members(self) -> dict[str, np.ndarray]:
        """{name: (E, N)} -- the layout of ``ChiEnsemble.predict_arrays``."""
        return {n: self.values[..., k] for k, n in enumerate(self.names)}
