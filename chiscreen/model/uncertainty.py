"""Uncertainty metrics of an ensemble's predictions (no training, no I/O).

    um = uncertainty_metrics(y, mean, std)      # arrays (N,), same units (chi dimensionless)
    um["coverage_1sd"], um["scale_68"]
"""
from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr


def uncertainty_metrics(y, mean, std) -> dict[str, float]:
    """Coverage of mean +- 1 and 2 std, Spearman(std, |error|), and the std factor that gives
    68.3 % coverage (``scale_68``) and the RMS z-score (``rms_z``). Rows with a non-finite value
    or std <= 0 are ignored; fewer than 3 rows left -> {}."""
    y, mean, std = (np.asarray(a, dtype=float) for a in (y, mean, std))
    ok = np.isfinite(y) & np.isfinite(mean) & np.isfinite(std) & (std > 0)
    err = np.abs(y[ok] - mean[ok])
    s = std[ok]
    if len(err) < 3:
        return {}
    z = err / s
    return {
        "coverage_1sd": float((z <= 1).mean()), "coverage_2sd": float((z <= 2).mean()),
        "spearman_std_abs_err": float(spearmanr(s, err).statistic),
        "scale_68": float(np.quantile(z, 0.6827)), "rms_z": float(np.sqrt((z ** 2).mean())),
        "mean_std": float(s.mean()),
    }


def std_factor(y, mean, std, floor: float = 1e-3) -> float:
    """The factor on ``std`` that makes mean +- 1 scaled std cover 68.3 % of the errors
    (1.0 when there are too few rows)."""
    return float(max(uncertainty_metrics(y, mean, std).get("scale_68", 1.0), floor))
