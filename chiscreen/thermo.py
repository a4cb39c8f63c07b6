"""Flory-Huggins helpers: the critical interaction parameter and chain-length ratios.

A polymer solution is miscible over all compositions when chi < chi_c with

    chi_c = 0.5 * (1 + 1/sqrt(N))**2

where N is the ratio of the polymer's molar volume to the solvent's molar volume (the number of
solvent-sized lattice sites per chain). For long chains N -> inf and chi_c -> 0.5, the default
whenever no molecular weight is known.

    chi_critical()                    # 0.5
    chi_critical(100.0)               # 0.605
    n_ratio_from_mw(1e5, 1.05, 89.4)  # polystyrene 100 kg/mol in toluene -> N ~ 1065
"""
from __future__ import annotations

import math

import numpy as np

from chiscreen.errors import InvalidInputError

CHI_C_LONG_CHAIN = 0.5


def chi_critical(n_ratio: float | None = None) -> float:
    """Critical chi for a polymer of N = ``n_ratio`` solvent-sized segments.

    ``None`` (or ``inf``) gives the long-chain limit 0.5. Raises InvalidInputError for N <= 0
    or NaN.
    """
    if n_ratio is None:
        return CHI_C_LONG_CHAIN
    n = float(n_ratio)
    if math.isinf(n) and n > 0:
        return CHI_C_LONG_CHAIN
    if not math.isfinite(n) or n <= 0:
        raise InvalidInputError(f"chain-length ratio N = {n_ratio!r} must be a positive number")
    return 0.5 * (1.0 + 1.0 / math.sqrt(n)) ** 2


def chi_critical_array(n_ratio) -> np.ndarray:
    """Vectorised :func:`chi_critical`; NaN entries give the long-chain limit 0.5."""
    n = np.asarray(n_ratio, dtype=float)
    out = np.full(n.shape, CHI_C_LONG_CHAIN)
    ok = np.isfinite(n) & (n > 0)
    out[ok] = 0.5 * (1.0 + 1.0 / np.sqrt(n[ok])) ** 2
    return out


def n_ratio_from_mw(mw_polymer: float, polymer_density: float = 1.0, solvent_molar_volume: float = 100.0) -> float:
    """N = V_polymer / V_solvent from a molecular weight.

    Args:
        mw_polymer: polymer molar mass in g/mol (number average).
        polymer_density: polymer density in g/cm3 (default 1.0, typical amorphous polymers 0.9-1.4).
        solvent_molar_volume: solvent molar volume in cm3/mol (default 100; toluene 106.3,
            water 18.0).
    """
    for name, v in (("mw_polymer", mw_polymer), ("polymer_density", polymer_density),
                    ("solvent_molar_volume", solvent_molar_volume)):
        if not (isinstance(v, (int, float, np.floating, np.integer)) and math.isfinite(float(v)) and float(v) > 0):
            raise InvalidInputError(f"{name} = {v!r} must be a positive number")
    return float(mw_polymer) / float(polymer_density) / float(solvent_molar_volume)


def n_ratio_from_dp(degree_of_polymerisation: float, unit_molar_volume: float, solvent_molar_volume: float = 100.0) -> float:
    """N from a degree of polymerisation and the repeat unit's molar volume (cm3/mol)."""
    return n_ratio_from_mw(float(degree_of_polymerisation) * float(unit_molar_volume), 1.0, solvent_molar_volume)


def miscibility_verdict(chi_mean: float, chi_std: float, chi_c: float = CHI_C_LONG_CHAIN) -> str:
    """"miscible" (chi + std < chi_c), "immiscible" (chi - std > chi_c) or "borderline"."""
    if not (math.isfinite(chi_mean)):
        return "unknown"
    s = chi_std if math.isfinite(chi_std) else 0.0
    if chi_mean + s < chi_c:
        return "miscible"
    if chi_mean - s > chi_c:
        return "immiscible"
    return "borderline"
