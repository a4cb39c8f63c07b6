"""Applicability domain: how far a pair is from what the ensemble was trained on.

    from chiscreen.model import load_ensemble
    ens = load_ensemble()
    post = ens.posterior(Xp, Xs, T_K)          # every prediction carries the score
    post.ad, post.ad_polymer, post.ad_solvent  # (N,) each; NaN when the artifact has no domain stats

Definition (documented in README "Reading the uncertainty"):

- Reference: the polymers and solvents of the training rows of the measured chi tasks
  (experimental and COSMO-RS chi; ``calibration.reference: measured``), or of every chi task
  with chi_oracle (``chi``: the behaviour before the key) or of every task (``all``), stored
  with the artifact (:func:`domain_for_training`).
- Latent distance. Member e's towers map a molecule to u_e = [s, r] (2d values). The distance of
  a molecule x to the training set is the nearest-neighbour Euclidean distance in that latent
  space, averaged over members::

      dist(x) = mean_e  min_j || u_e(x) - u_e(x_j) ||      x_j: the training molecules of its kind

  (computed separately for polymers, with the polymer tower, and for solvents.)
- Normalisation. ``scale`` is the median, over the training molecules, of the same distance
  with the molecule itself left out (its leave-one-out nearest-neighbour distance). The
  per-molecule score is ``ad_polymer = dist(p) / scale_polymer`` and ``ad_solvent = dist(s) /
  scale_solvent``: 0 for a training molecule, about 1 for a new molecule as close to the
  training set as training molecules are to each other (typical, in domain), 3 or more for one
  clearly outside it.
- Pair score: ``ad = max(ad_polymer, ad_solvent)`` (a pair is as far out as its less familiar
  molecule).

The std inflation fitted on it (:func:`fit_inflation`, stored as ``DomainStats.inflation``) and
applied by :class:`~chiscreen.model.posterior.EnsemblePrediction`::

    calibrated_std = raw_std x std_scale[task] x (1 + slope[task] x min(ad, cap[task]))
    95 % interval  = mean +- k95[task] x calibrated_std

Reference molecules are stored as raw descriptors (``domain.npz`` in the artifact, a few hundred
KB); their latents are recomputed by the loaded network, so they always match it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np
import torch

log = logging.getLogger("chiscreen.model")

# distances are computed for this many query molecules at a time (bounds an (E, B, N_ref) array)
_BATCH = 2048
COVERAGE_1SD = 0.6827


@dataclass
class DomainStats:
    """Training-set reference for the applicability-domain score, and its std calibration.

    Attributes:
        Xp_ref: (Np, F_p) float32 raw descriptors of the training polymers (NaN allowed).
        Xs_ref: (Ns, F_s) float32 raw descriptors of the training solvents.
        scale_polymer, scale_solvent: median leave-one-out nearest-neighbour latent distance of
            the training polymers / solvents (the unit of ad_polymer / ad_solvent).
        inflation: per chi task {"slope": b, "cap": c, "k95": k} (see the module docstring);
            tasks without an entry get factor 1 and no interval.
        info: provenance of the calibration (rows, folds, per-bin coverage; not hashed).
    """

    Xp_ref: np.ndarray
    Xs_ref: np.ndarray
    scale_polymer: float
    scale_solvent: float
    inflation: dict[str, dict[str, float]] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.Xp_ref = np.ascontiguousarray(self.Xp_ref, dtype=np.float32)
        self.Xs_ref = np.ascontiguousarray(self.Xs_ref, dtype=np.float32)
        self._ref: dict[str, tuple[int, torch.Tensor]] = {}

    # ------------------------------------------------------------------ reference latents
    def _ref_latents(self, ens, kind: str) -> torch.Tensor:
        """(E, N_ref, 2d) latents of the reference molecules, cached per network object."""
        key = id(ens.net)
        hit = self._ref.get(kind)
        if hit is not None and hit[0] == key and hit[1].device == ens.device:
            return hit[1]
        U = ens.encode_polymers(self.Xp_ref) if kind == "polymer" else ens.encode_solvents(self.Xs_ref)
        self._ref[kind] = (key, U)
        return U

    def polymer_scores(self, ens, Up: torch.Tensor) -> np.ndarray:
        """ad_polymer (P,) of polymer latents (E, P, 2d) from ``ens.encode_polymers``."""
        return nn_distance(Up, self._ref_latents(ens, "polymer")) / self.scale_polymer

    def solvent_scores(self, ens, Us: torch.Tensor) -> np.ndarray:
        """ad_solvent (S,) of solvent latents (E, S, 2d)."""
        return nn_distance(Us, self._ref_latents(ens, "solvent")) / self.scale_solvent

    # ------------------------------------------------------------------ inflation
    def factor(self, task: str, ad) -> np.ndarray:
        """Std inflation factor 1 + slope x min(ad, cap) for chi task ``task`` (1 where the task
        has no calibration or ad is NaN)."""
        ad = np.asarray(ad, dtype=np.float64)
        p = self.inflation.get(task)
        if not p:
            return np.ones_like(ad)
        f = 1.0 + float(p["slope"]) * np.minimum(ad, float(p["cap"]))
        return np.where(np.isfinite(f), f, 1.0)

    def k95(self, task: str) -> float:
        """Half-width of the calibrated 95 % interval in calibrated stds (NaN: not calibrated)."""
        p = self.inflation.get(task) or {}
        return float(p.get("k95", float("nan")))

    # ------------------------------------------------------------------ storage
    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"Xp_ref": self.Xp_ref, "Xs_ref": self.Xs_ref}

    def to_config(self) -> dict:
        """Prediction-relevant scalars (hashed with the artifact)."""
        return {"scale_polymer": float(self.scale_polymer), "scale_solvent": float(self.scale_solvent),
                "n_polymers": int(len(self.Xp_ref)), "n_solvents": int(len(self.Xs_ref)), "combine": "max",
                "inflation": {t: {k: float(v) for k, v in p.items()} for t, p in sorted(self.inflation.items())}}

    @classmethod
    def from_stored(cls, cfg: Mapping, arrays: Mapping[str, np.ndarray], info: dict | None = None) -> "DomainStats":
        return cls(np.asarray(arrays["Xp_ref"]), np.asarray(arrays["Xs_ref"]), float(cfg["scale_polymer"]),
                   float(cfg["scale_solvent"]), {t: dict(p) for t, p in (cfg.get("inflation") or {}).items()},
                   dict(info or {}))


def nn_distance(U: torch.Tensor, R: torch.Tensor, exclude_self: bool = False) -> np.ndarray:
    """Member-averaged nearest-neighbour Euclidean distance of latents U (E, N, 2d) to the
    reference latents R (E, M, 2d): (N,) float64. ``exclude_self`` (U is R): each molecule's
    distance to its nearest *other* reference molecule (leave-one-out). M = 0 -> inf."""
    U = U.detach().double()
    R = R.detach().double().to(U.device)
    E, N, _ = U.shape
    if R.shape[1] == 0:
        return np.full(N, np.inf)
    out = np.empty(N)
    for i in range(0, N, _BATCH):
        D = torch.cdist(U[:, i:i + _BATCH], R)                    # (E, b, M)
        if exclude_self:
            b = D.shape[1]
            idx = torch.arange(i, i + b, device=D.device)
            D[:, torch.arange(b, device=D.device), idx] = float("inf")
        out[i:i + _BATCH] = D.min(2).values.mean(0).cpu().numpy()
    return out


def loo_scale(U: torch.Tensor) -> float:
    """Median leave-one-out nearest-neighbour distance of the reference latents (E, M, 2d)
    (the distance unit of the score); 1.0 when there are fewer than 2 molecules or it is 0."""
    if U.shape[1] < 2:
        return 1.0
    d = nn_distance(U, U, exclude_self=True)
    s = float(np.median(d))
    return s if np.isfinite(s) and s > 1e-12 else 1.0


def build_domain(ens, Xp_ref: np.ndarray, Xs_ref: np.ndarray, inflation: dict | None = None,
                 info: dict | None = None) -> DomainStats:
    """DomainStats for ``ens`` from the raw descriptors of its training polymers and solvents
    (rows that are all NaN, i.e. failed featurization, are dropped)."""
    Xp_ref = np.asarray(Xp_ref, dtype=np.float32)
    Xs_ref = np.asarray(Xs_ref, dtype=np.float32)
    Xp_ref = Xp_ref[~np.isnan(Xp_ref).all(1)] if len(Xp_ref) else Xp_ref
    Xs_ref = Xs_ref[~np.isnan(Xs_ref).all(1)] if len(Xs_ref) else Xs_ref
    sp = loo_scale(ens.encode_polymers(Xp_ref))
    ss = loo_scale(ens.encode_solvents(Xs_ref))
    return DomainStats(Xp_ref, Xs_ref, sp, ss, dict(inflation or {}), dict(info or {}))


REFERENCES = ("measured", "chi", "all")


def reference_tasks(data, tasks: str = "measured") -> list[str]:
    """The tasks whose training rows make the domain reference (see :func:`domain_for_training`)."""
    import chiscreen.model.tasks as _tasks

    if tasks not in REFERENCES:
        raise ValueError(f"domain reference {tasks!r}: expected one of {REFERENCES}")
    have = [t for t, r in data.tasks.items() if len(r)]
    if tasks == "all":
        return have
    chi = [t for t in have if _tasks.get_task(t).is_chi]
    if tasks == "measured":   # experimental / COSMO-RS chi: not the model's own oracle labels
        meas = [t for t in chi if _tasks.get_task(t).head != "oracle"]
        chi = meas or chi
    return chi or have


def domain_for_training(ens, data, tasks: str = "measured") -> DomainStats:
    """DomainStats from the molecules that the training rows of ``data`` (a TrainingData) use.

    ``tasks``: "measured" (default) the rows of the chi tasks with measured or literature labels
    (experimental and COSMO-RS chi; not chi_oracle: a polymer known only from chiscreen's own
    oracle labels is not "seen" for the experimental chi head, and counting it made the score
    smaller where the errors are not -- docs/model.md "Applicability domain"); "chi": the rows of
    every chi task (chi_oracle included); "all": every task (solubility too). Falls back to the
    wider set when the narrower one has no rows. Raises ValueError for another name."""
    rows = [data.tasks[t] for t in reference_tasks(data, tasks)]
    used_p = np.unique(np.concatenate([r.pi for r in rows] or [np.zeros(0, np.int64)]))
    used_s = np.unique(np.concatenate([r.si for r in rows] or [np.zeros(0, np.int64)]))
    return build_domain(ens, data.Xp[used_p], data.Xs[used_s], info={"reference": tasks})


def combine(ad_polymer, ad_solvent) -> np.ndarray:
    """Pair score from the two molecule scores: the larger one (NaN if either is NaN)."""
    a = np.asarray(ad_polymer, dtype=np.float64)
    b = np.asarray(ad_solvent, dtype=np.float64)
    return np.where(np.isnan(a) | np.isnan(b), np.nan, np.maximum(a, b))


# ---------------------------------------------------------------------- calibration of the inflation
SLOPES = np.concatenate([np.linspace(0.0, 1.0, 41), np.linspace(1.1, 4.0, 30)])


def _bin_edges(ad: np.ndarray, n_bins: int) -> np.ndarray:
    qs = np.quantile(ad, np.linspace(0, 1, n_bins + 1))
    return np.unique(qs)


def binned_coverage(ad, z, n_bins: int = 5, level: float = 1.0) -> list[dict]:
    """Coverage of |z| <= level in AD quantile bins: [{"lo", "hi", "n", "coverage"}]."""
    ad = np.asarray(ad, float)
    z = np.abs(np.asarray(z, float))
    edges = _bin_edges(ad, n_bins)
    out = []
    for k in range(len(edges) - 1):
        m = (ad >= edges[k]) & ((ad < edges[k + 1]) if k < len(edges) - 2 else (ad <= edges[k + 1]))
        if m.sum():
            out.append({"lo": float(edges[k]), "hi": float(edges[k + 1]), "n": int(m.sum()),
                        "coverage": float((z[m] <= level).mean())})
    return out


FIT_METHODS = ("pooled", "unseen", "split")


def _flattest(err, s, a, cap, n_bins, slopes):
    """(slope, f0) with pooled 1-std coverage 68.3 % and the flattest coverage across AD bins."""
    edges = _bin_edges(a, n_bins)
    which = np.clip(np.searchsorted(edges, a, side="right") - 1, 0, max(len(edges) - 2, 0))
    best = None
    for b in slopes:
        z = err / (s * (1.0 + b * np.minimum(a, cap)))
        f0 = float(np.quantile(z, COVERAGE_1SD))
        cov = z <= f0
        loss = sum((cov[which == k].mean() - COVERAGE_1SD) ** 2 for k in np.unique(which))
        if best is None or loss < best[0] - 1e-9:
            best = (loss, float(b), f0)
    return best[1], best[2]


def _slope_for_coverage(err, s, a, cap, f0, target=COVERAGE_1SD, hi=50.0):
    """The slope b >= 0 at which std x f0 x (1 + b min(a, cap)) covers ``target`` of the rows
    (coverage grows with b; bisection). 0 when f0 alone already covers it."""
    cov = lambda b: float((err <= s * f0 * (1.0 + b * np.minimum(a, cap))).mean())  # noqa: E731
    if cov(0.0) >= target:
        return 0.0
    if cov(hi) < target:
        return hi
    lo = 0.0
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if cov(mid) < target else (lo, mid)
    return hi


def fit_inflation(y, mean, std, ad, n_bins: int = 5, slopes=SLOPES, unseen=None, method: str = "pooled") -> dict:
    """Fit calibrated_std = std x f0 x (1 + slope x min(ad, cap)) on held-out rows.

    Args:
        y, mean, std, ad: (N,) labels, ensemble means, RAW ensemble stds and AD scores of rows
            predicted by models that had not seen them (chi units; ad dimensionless).
        unseen: (N,) bool, True where the row's polymer was held out entirely (no row of it in
            that model's training); None = all rows unseen. Used by "unseen" and "split".
        method:
            "pooled" (format-3 artifacts before this option): every row; cap = 95th percentile
            of ad; for each slope on the grid f0 makes the pooled 1-std coverage 68.3 %, and the
            slope kept is the one whose coverage is flattest across ``n_bins`` AD quantile bins;
            k95 = 95 % quantile of |error| / calibrated std over every row.
            "unseen": the same fit on the unseen-polymer rows only (cap and k95 from them too).
            "split": f0 = the 68.3 % factor of the seen-polymer rows (the std at ad ~ 0: a pair
            of a training polymer), then the slope that makes the unseen-polymer rows' 1-std
            coverage 68.3 % (one equation, no binning); cap and k95 from the unseen rows. Without
            seen rows it falls back to "unseen", without unseen rows to "pooled".
    Returns:
        {"std_scale": f0, "slope": b, "cap": c, "k95": k, "n": N, "n_unseen": n, "method": m,
        "bins": per-bin coverage of the rows the fit used}. Fewer than 20 usable rows (for
        "unseen"/"split": unseen rows) -> the pooled fit; fewer than 20 in all -> slope 0, f0
        from the pooled rows, k95 NaN. Raises ValueError for an unknown method.
    """
    if method not in FIT_METHODS:
        raise ValueError(f"calibration fit {method!r}: expected one of {FIT_METHODS}")
    y, mean, std, ad = (np.asarray(a, dtype=np.float64) for a in (y, mean, std, ad))
    un = np.ones(len(y), dtype=bool) if unseen is None else np.asarray(unseen, dtype=bool)
    ok = np.isfinite(y) & np.isfinite(mean) & np.isfinite(std) & (std > 0) & np.isfinite(ad)
    err, s, a, un = np.abs(y[ok] - mean[ok]), std[ok], ad[ok], un[ok]
    n, nu = int(ok.sum()), int(un.sum())
    if n < 20:
        f0 = float(np.quantile(err / s, COVERAGE_1SD)) if n >= 3 else 1.0
        return {"std_scale": max(f0, 1e-3), "slope": 0.0, "cap": 0.0, "k95": float("nan"), "n": n,
                "n_unseen": nu, "method": "constant", "bins": []}
    if method != "pooled" and nu < 20:
        method = "pooled"
    if method == "split" and nu == n:
        method = "unseen"
    use = un if method in ("unseen", "split") else np.ones(n, dtype=bool)
    cap = float(np.quantile(a[use], 0.95))
    if method == "split":
        f0 = float(np.quantile(err[~un] / s[~un], COVERAGE_1SD))
        b = _slope_for_coverage(err[un], s[un], a[un], cap, f0)
    else:
        b, f0 = _flattest(err[use], s[use], a[use], cap, n_bins, slopes)
    zc = err / (s * f0 * (1.0 + b * np.minimum(a, cap)))
    return {"std_scale": max(f0, 1e-3), "slope": float(b), "cap": cap, "k95": float(np.quantile(zc[use], 0.95)),
            "n": n, "n_unseen": nu, "method": method, "bins": binned_coverage(a[use], zc[use], n_bins)}
