"""Temperature dependence: chi(T) = A + B/T (+ C/T^2), critical solution temperatures and the Flory
melting-point depression of a semicrystalline polymer by a diluent.

    chi = ChiT(A=0.52, B=49.8)
    critical_temperatures(chi, chi_c=0.54)        # [(T_K, "UCST")] where chi(T) = chi_c
    melting_point_depressed(414.6, 8220, 32.8, 121.0, chi=0.38, phi1=0.95)   # K
    dissolution_temperature(414.6, 8220, 32.8, 121.0, chi)                     # K, chi(T) solved with T

Melting-point depression (Flory 1949; Flory, Principles of Polymer Chemistry, ch. XIII):

    1/Tm - 1/Tm0 = (R / dHu) (Vu / V1) (phi1 - chi phi1^2)

Tm0 (K) and dHu (J/mol) are the equilibrium melting point and heat of fusion per repeat unit, Vu and
V1 (cm3/mol) the molar volumes of the repeat unit and the solvent, phi1 the solvent volume fraction.
Above Tm the crystals melt in the solvent: for a semicrystalline polymer it is the lowest
temperature at which it can dissolve at that composition.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from chiscreen.errors import InvalidInputError

R_GAS = 8.314462618  # J / (mol K)


@dataclass(frozen=True)
class ChiT:
    """chi(T) = A + B/T + C/T^2 (T in K, B in K, C in K^2)."""

    A: float
    B: float
    C: float = 0.0

    def __call__(self, T_K):
        if isinstance(T_K, (float, int)):
            return self.A + self.B / T_K + self.C / (T_K * T_K)
        T = np.asarray(T_K, dtype=float)
        out = self.A + self.B / T + self.C / T ** 2
        return float(out) if out.ndim == 0 else out

    def dchi_dT(self, T_K: float) -> float:
        return -self.B / T_K ** 2 - 2 * self.C / T_K ** 3

    def shifted(self, d: float) -> "ChiT":
        """chi(T) + d (used for one-sigma bounds)."""
        return ChiT(self.A + d, self.B, self.C)


def critical_temperatures(chi: ChiT, chi_c: float, T_min: float = 1.0, T_max: float = 1e5) -> list[tuple[float, str]]:
    """Temperatures (K) where chi(T) = chi_c, each labelled "UCST" (chi falls with T there: one phase
    above) or "LCST" (chi rises with T: one phase below). Solved exactly in x = 1/T:
    C x^2 + B x + (A - chi_c) = 0. Only roots in [T_min, T_max] are returned, lowest T first;
    an empty list means chi(T) never crosses chi_c there."""
    a, b, c = chi.C, chi.B, chi.A - chi_c
    xs: list[float] = []
    if abs(a) < 1e-300:
        if abs(b) > 1e-300:
            xs = [-c / b]
    else:
        disc = b * b - 4 * a * c
        if disc >= 0:
            r = math.sqrt(disc)
            xs = [(-b - r) / (2 * a), (-b + r) / (2 * a)]
    out = []
    for x in xs:
        if x > 0 and T_min <= 1 / x <= T_max:
            T = 1 / x
            out.append((T, "UCST" if chi.dchi_dT(T) < 0 else "LCST"))
    return sorted(out)


def _check_melting(Tm0: float, dHu: float, Vu: float, V1: float) -> None:
    for name, v in (("Tm0", Tm0), ("dHu", dHu), ("Vu", Vu), ("V1", V1)):
        if not (isinstance(v, (int, float, np.floating)) and math.isfinite(float(v)) and float(v) > 0):
            raise InvalidInputError(f"melting-point depression: {name} = {v!r} must be a positive number")


def melting_point_depressed(Tm0: float, dHu: float, Vu: float, V1: float, chi: float, phi1: float = 1.0) -> float:
    """Depressed melting point (K) at constant chi: 1/Tm = 1/Tm0 + (R/dHu)(Vu/V1)(phi1 - chi phi1^2).

    Returns inf when the right-hand side is <= 0 (no crystal is stable in that solvent)."""
    _check_melting(Tm0, dHu, Vu, V1)
    if not 0.0 <= phi1 <= 1.0:
        raise InvalidInputError(f"solvent volume fraction phi1 = {phi1!r} must lie in [0, 1]")
    inv = 1 / Tm0 + R_GAS / dHu * Vu / V1 * (phi1 - chi * phi1 ** 2)
    return math.inf if inv <= 0 else 1 / inv


def dissolution_temperature(Tm0: float, dHu: float, Vu: float, V1: float, chi: ChiT | Callable[[float], float],
                            phi1: float = 0.95, T_lo: float = 150.0) -> float:
    """Temperature (K) above which the crystals of a semicrystalline polymer melt in the solvent at
    solvent volume fraction ``phi1``, with chi evaluated at that temperature: the root of

        g(T) = 1/T - 1/Tm0 - (R/dHu)(Vu/V1)(phi1 - chi(T) phi1^2)

    in [T_lo, Tm0 x 1.5]. g falls with T for the usual chi(T); when g > 0 at the top of the
    interval (chi so large that the solvent raises the melting point) it returns inf; when g < 0
    already at T_lo it returns T_lo (crystals would melt below any practical temperature)."""
    _check_melting(Tm0, dHu, Vu, V1)
    k = R_GAS / dHu * Vu / V1

    def g(T: float) -> float:
        return 1 / T - 1 / Tm0 - k * (phi1 - float(chi(T)) * phi1 ** 2)

    hi = Tm0 * 1.5
    if g(hi) > 0:
        return math.inf
    if g(T_lo) <= 0:
        return T_lo
    from scipy.optimize import brentq

    return float(brentq(g, T_lo, hi, xtol=1e-6))
