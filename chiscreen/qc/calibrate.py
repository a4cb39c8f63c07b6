"""Calibration: a fitted monotone map from oracle chi to experimental chi.

Fit on training rows only (the caller decides which rows; the benchmark uses a polymer-grouped
split), stored as JSON with its provenance (what it was fitted on, with which oracle settings,
when, and its training-set fit quality). Two kinds: ``linear`` (least squares, sklearn
LinearRegression) and ``isotonic`` (sklearn IsotonicRegression, clipped outside the fitted
range; stored as its breakpoints and applied by linear interpolation).
"""
from __future__ import annotations

import datetime as _dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from chiscreen.errors import ArtifactError, ConfigError
from chiscreen.io import atomic_write_text

KINDS = ("linear", "isotonic")
FORMAT = "chiscreen-oracle-calibration/1"


@dataclass(slots=True)
class Calibration:
    """A fitted map chi_oracle -> chi_experiment.

    Attributes:
        kind: "linear" or "isotonic".
        params: linear: {"slope", "intercept"}; isotonic: {"x", "y"} breakpoints (ascending x).
        provenance: free-form facts about the fit (rows, polymers, oracle method version, ...).
    """

    kind: str
    params: dict
    provenance: dict = field(default_factory=dict)

    @classmethod
    def fit(cls, chi_oracle: np.ndarray, chi_exp: np.ndarray, kind: str = "linear",
            provenance: dict | None = None) -> "Calibration":
        """Fit on paired arrays of shape (n,); non-finite rows are ignored."""
        if kind not in KINDS:
            raise ConfigError(f"calibration kind must be one of {KINDS}, got {kind!r}")
        x = np.asarray(chi_oracle, dtype=float).ravel()
        y = np.asarray(chi_exp, dtype=float).ravel()
        if x.shape != y.shape:
            raise ConfigError(f"chi_oracle {x.shape} and chi_exp {y.shape} differ in shape")
        ok = np.isfinite(x) & np.isfinite(y)
        x, y = x[ok], y[ok]
        if len(x) < 3:
            raise ConfigError(f"need at least 3 finite rows to calibrate, got {len(x)}")
        import sklearn

        if kind == "linear":
            from sklearn.linear_model import LinearRegression

            m = LinearRegression().fit(x[:, None], y)
            params = {"slope": float(m.coef_[0]), "intercept": float(m.intercept_)}
        else:
            from sklearn.isotonic import IsotonicRegression

            m = IsotonicRegression(out_of_bounds="clip").fit(x, y)
            params = {"x": [float(v) for v in m.X_thresholds_],
                      "y": [float(v) for v in m.y_thresholds_]}
        cal = cls(kind, params)
        pred = cal.apply(x)
        prov = {"format": FORMAT, "fitted_at": _dt.datetime.now(_dt.timezone.utc).isoformat(),
                "sklearn": sklearn.__version__, "n_rows": int(len(x)),
                "train_mae": float(np.mean(np.abs(pred - y))),
                "train_pearson_r": float(np.corrcoef(pred, y)[0, 1]) if np.std(pred) > 0 else None}
        prov.update(provenance or {})
        cal.provenance = prov
        return cal

    def apply(self, chi: np.ndarray | float) -> np.ndarray:
        """Calibrated chi, same shape as ``chi``."""
        x = np.asarray(chi, dtype=float)
        if self.kind == "linear":
            return self.params["slope"] * x + self.params["intercept"]
        return np.interp(x, self.params["x"], self.params["y"])

    def to_dict(self) -> dict:
        return {"format": FORMAT, "kind": self.kind, "params": self.params,
                "provenance": self.provenance}

    def save(self, path: str | os.PathLike) -> Path:
        """Write JSON (atomically); returns the path."""
        return atomic_write_text(path, json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "Calibration":
        """Read a calibration JSON; raises ArtifactError if it is not one."""
        try:
            d = json.loads(Path(path).read_text())
            if d.get("format") != FORMAT or d.get("kind") not in KINDS:
                raise ValueError(f"format {d.get('format')!r}, kind {d.get('kind')!r}")
            return cls(d["kind"], d["params"], d.get("provenance", {}))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ArtifactError(f"{path} is not a chiscreen oracle calibration: {exc}") from exc
