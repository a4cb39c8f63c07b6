"""Descriptor scaling: median imputation, constant-column removal, Yeo-Johnson + standardisation.

Fitted with scikit-learn's :class:`~sklearn.preprocessing.PowerTransformer` on training rows;
the fitted state is a handful of arrays (kept-column mask, medians, Yeo-Johnson lambdas, means,
scales) stored in the artifact as ``.npz`` (read with ``allow_pickle=False``) -- never a pickle.
The transform is re-implemented here in float64 so loading needs no sklearn object.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from chiscreen.errors import ArtifactError, InvalidInputError

_FIELDS = ("keep", "median", "lambdas", "mean", "scale")


@dataclass
class DescriptorScaler:
    """Fitted scaler for one molecule kind.

    Attributes:
        keep: bool (F_raw,) columns used (not constant and not all-NaN on the training rows).
        median: float64 (F_raw,) training median per column (NaN imputation value).
        lambdas, mean, scale: float64 (F_kept,) Yeo-Johnson lambdas and standardisation.
        clip: transformed values are clipped to [-clip, clip] (extrapolation guard).
    """

    keep: np.ndarray
    median: np.ndarray
    lambdas: np.ndarray
    mean: np.ndarray
    scale: np.ndarray
    clip: float = 8.0

    @property
    def n_in(self) -> int:
        return int(self.keep.shape[0])

    @property
    def n_out(self) -> int:
        return int(self.keep.sum())

    @classmethod
    def fit(cls, X: np.ndarray, clip: float = 8.0) -> "DescriptorScaler":
        """Fit on raw descriptors X (N, F) (NaN allowed). Rows that are all-NaN are ignored."""
        from sklearn.preprocessing import PowerTransformer

        X = np.asarray(X, dtype=np.float64)
        rows = ~np.all(np.isnan(X), axis=1)
        if rows.sum() < 2:
            raise InvalidInputError(f"cannot fit a descriptor scaler on {int(rows.sum())} valid row(s)")
        Xr = X[rows]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            median = np.nanmedian(Xr, axis=0)
        median = np.where(np.isfinite(median), median, 0.0)
        Xi = np.where(np.isnan(Xr), median, Xr)
        span = Xi.max(axis=0) - Xi.min(axis=0)
        keep = span > 1e-12 * np.maximum(1.0, np.abs(Xi).max(axis=0))
        pt = PowerTransformer(method="yeo-johnson", standardize=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pt.fit(Xi[:, keep])
        lambdas = pt.lambdas_.astype(np.float64)
        mean = pt._scaler.mean_.astype(np.float64)
        scale = pt._scaler.scale_.astype(np.float64)
        # a column whose transform collapses (overflow, near-constant) is dropped too
        good = np.isfinite(lambdas) & np.isfinite(mean) & np.isfinite(scale) & (scale > 0)
        if not good.all():
            idx = np.flatnonzero(keep)
            keep[idx[~good]] = False
            lambdas, mean, scale = lambdas[good], mean[good], scale[good]
        return cls(keep=keep, median=median, lambdas=lambdas, mean=mean, scale=scale, clip=float(clip))

    def transform(self, X: np.ndarray) -> np.ndarray:
        """Raw (N, F_raw) -> scaled float32 (N, F_kept). NaN -> training median first."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise InvalidInputError(
                f"descriptor matrix has shape {X.shape}, expected (N, {self.n_in}) as from the "
                "artifact's featurizer"
            )
        X = np.where(np.isfinite(X), X, self.median)[:, self.keep]
        Y = yeo_johnson(X, self.lambdas)
        Y = (Y - self.mean) / self.scale
        Y = np.nan_to_num(Y, nan=0.0, posinf=self.clip, neginf=-self.clip)
        return np.clip(Y, -self.clip, self.clip).astype(np.float32)

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        out = {f"{prefix}_{k}": np.asarray(getattr(self, k)) for k in _FIELDS}
        out[f"{prefix}_clip"] = np.asarray([self.clip])
        return out

    @classmethod
    def from_arrays(cls, arrays, prefix: str, source: str = "scalers") -> "DescriptorScaler":
        try:
            kw = {k: np.asarray(arrays[f"{prefix}_{k}"]) for k in _FIELDS}
            clip = float(np.asarray(arrays[f"{prefix}_clip"])[0])
        except KeyError as exc:
            raise ArtifactError(f"{source}: missing array {exc.args[0]!r}") from None
        kw["keep"] = kw["keep"].astype(bool)
        n = int(kw["keep"].sum())
        for k in ("lambdas", "mean", "scale"):
            if kw[k].shape != (n,):
                raise ArtifactError(f"{source}: array {prefix}_{k} has shape {kw[k].shape}, expected ({n},)")
        if kw["median"].shape != kw["keep"].shape:
            raise ArtifactError(f"{source}: {prefix}_median and {prefix}_keep differ in shape")
        return cls(clip=clip, **{k: v.astype(np.float64) if k != "keep" else v for k, v in kw.items()})


def yeo_johnson(X: np.ndarray, lambdas: np.ndarray) -> np.ndarray:
    """The Yeo-Johnson transform, column-wise, as scikit-learn computes it (float64).

    Computed with one ``power`` over the whole matrix and column fix-ups for lambda ~ 0 / ~ 2
    (same operations per element as the case-by-case form, so the same values; no boolean
    fancy indexing, which dominated the cost of encoding a screen shard)."""
    X = np.asarray(X, dtype=np.float64)
    lam = np.asarray(lambdas, dtype=np.float64).reshape(-1)
    if X.ndim != 2 or X.shape[1] != lam.shape[0]:
        lam = np.broadcast_to(lam, X.shape)
        return _yeo_johnson_masked(X, lam)
    eps = np.spacing(1.0)
    pos = X >= 0
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        base = np.where(pos, X + 1.0, -X + 1.0)
        lam2 = 2.0 - lam
        expo = np.where(pos, lam, lam2)
        p = np.power(base, expo)
        p -= 1.0
        out = np.where(pos, p / lam, -(p / lam2))
        for j in np.flatnonzero(np.abs(lam) < eps):        # lambda ~ 0: log1p on the positive side
            m = pos[:, j]
            out[m, j] = np.log1p(X[m, j])
        for j in np.flatnonzero(np.abs(lam - 2.0) <= eps):  # lambda ~ 2: -log1p(-x) on the negative side
            m = ~pos[:, j]
            out[m, j] = -np.log1p(-X[m, j])
    return out


def _yeo_johnson_masked(X: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """Case-by-case form for arbitrary broadcast ``lam`` (X.shape)."""
    out = np.empty_like(X)
    pos = X >= 0
    eps = np.spacing(1.0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        a = pos & (np.abs(lam) >= eps)
        out[a] = (np.power(X[a] + 1.0, lam[a]) - 1.0) / lam[a]
        b = pos & (np.abs(lam) < eps)
        out[b] = np.log1p(X[b])
        c = ~pos & (np.abs(lam - 2.0) > eps)
        out[c] = -(np.power(-X[c] + 1.0, 2.0 - lam[c]) - 1.0) / (2.0 - lam[c])
        e = ~pos & (np.abs(lam - 2.0) <= eps)
        out[e] = -np.log1p(-X[e])
    return out
