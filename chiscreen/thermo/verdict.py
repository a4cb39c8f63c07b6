"""The one verdict module: what predict, screen, queries, demo and campaigns all say about a pair.

Two verdicts:

- :func:`miscibility_verdict` (and :func:`miscibility_verdict_array`): chi against chi_c with the
  ensemble's one-sigma interval: "miscible" (chi + std < chi_c), "immiscible" (chi - std > chi_c),
  "borderline" (the interval straddles chi_c), "unknown" (no chi).
- :func:`dissolution_verdict`: does the polymer dissolve at T, as a process chemist needs it.
  ``dissolves`` is "yes" / "no" / "borderline" / "unknown":

  * the amorphous part must mix: the miscibility verdict above;
  * a semicrystalline polymer must also be above its depressed melting point (Flory), computed
    with chi(T) and with chi(T) +- std for the interval; "borderline" when T lies inside it;
  * "unknown" when a fact that decides the answer is missing (crystallinity, or Tm0 / heat of
    fusion / molar volumes of a semicrystalline polymer): a polymer is never silently treated as
    amorphous. A clear "no" from chi alone needs no facts.

  The boiling-point flag ``above_boiling`` is "yes" (T above the solvent's normal boiling point:
  needs a pressure vessel), "no", or "unknown" when the boiling point is not known: a solvent is
  never silently treated as liquid.

Temperatures in Kelvin; molar volumes cm3/mol; heats J/mol per repeat unit.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np

from chiscreen.thermo.flory import CHI_C_LONG_CHAIN
from chiscreen.thermo.temperature import ChiT, dissolution_temperature

NAN = float("nan")
T_SCAN_K = (200.0, 800.0)   # dissolution temperatures are searched in this range
DEFAULT_PHI1 = 0.95         # solvent volume fraction of a ~5 % solution (dissolution-precipitation)


def _finite(x) -> bool:
    try:
        return x is not None and math.isfinite(float(x))
    except (TypeError, ValueError):
        return False


def miscibility_verdict(chi_mean: float, chi_std: float, chi_c: float = CHI_C_LONG_CHAIN) -> str:
    """"miscible" (chi + std < chi_c), "immiscible" (chi - std > chi_c), "borderline", or "unknown"
    when chi (or chi_c) is not a number. A missing std counts as 0."""
    if not (_finite(chi_mean) and _finite(chi_c)):
        return "unknown"
    s = float(chi_std) if _finite(chi_std) else 0.0
    if chi_mean + s < chi_c:
        return "miscible"
    if chi_mean - s > chi_c:
        return "immiscible"
    return "borderline"


def miscibility_verdict_array(chi_mean, chi_std, chi_c=CHI_C_LONG_CHAIN) -> np.ndarray:
    """Vectorised :func:`miscibility_verdict` (same rules, same strings); arrays broadcast."""
    m = np.asarray(chi_mean, dtype=float)
    s = np.asarray(chi_std, dtype=float)
    c = np.asarray(chi_c, dtype=float)
    m, s, c = np.broadcast_arrays(m, s, c)
    s = np.where(np.isfinite(s), s, 0.0)
    out = np.full(m.shape, "borderline", dtype=object)
    out[m + s < c] = "miscible"
    out[m - s > c] = "immiscible"
    out[~(np.isfinite(m) & np.isfinite(c))] = "unknown"
    return out


@dataclass(frozen=True)
class PolymerFacts:
    """What the dissolution verdict needs to know about a polymer (NaN = unknown).

    crystallinity: typical mass fraction crystalline (0 = amorphous, NaN = unknown).
    Tm0_K: equilibrium melting point; dHu_J_mol: heat of fusion per repeat unit; Vu_cm3_mol: molar
    volume of the repeat unit; Tg_K: glass transition (reported, not used by the verdict)."""

    name: str = ""
    crystallinity: float = NAN
    Tm0_K: float = NAN
    dHu_J_mol: float = NAN
    Vu_cm3_mol: float = NAN
    Tg_K: float = NAN
    sources: dict = field(default_factory=dict, compare=False)

    @property
    def semicrystalline(self) -> bool | None:
        """True / False, or None when the crystallinity is unknown."""
        if not _finite(self.crystallinity):
            return None
        return float(self.crystallinity) > 0.0


@dataclass(frozen=True)
class SolventFacts:
    """bp_K: normal boiling point (NaN = unknown); V1_cm3_mol: molar volume; V1_source says how it
    was obtained ("density" or "estimate: ...")."""

    name: str = ""
    bp_K: float = NAN
    V1_cm3_mol: float = NAN
    V1_source: str = ""


@dataclass(frozen=True)
class DissolutionVerdict:
    """Result of :func:`dissolution_verdict` (temperatures in K; NaN = not applicable / unknown).

    T_dissolve_K: lowest temperature in 200-800 K where the mean chi(T) mixes and the crystals melt
    (inf: not in that range; 200 K: already at the bottom of it); T_dissolve_lo_K / _hi_K: the same
    with chi - std and chi + std. bp_headroom_K: boiling point - T."""

    dissolves: str
    miscibility: str
    crystals: str                  # "melted" / "not melted" / "borderline" / "amorphous" / "unknown"
    T_dissolve_K: float = NAN
    T_dissolve_lo_K: float = NAN
    T_dissolve_hi_K: float = NAN
    above_boiling: str = "unknown"
    bp_headroom_K: float = NAN
    reason: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


_T_GRID = np.linspace(T_SCAN_K[0], T_SCAN_K[1], int(T_SCAN_K[1] - T_SCAN_K[0]) + 1)


def _first_dissolving_T(chi: ChiT, chi_c: float, Td: float) -> float:
    lo, hi = T_SCAN_K
    T = _T_GRID
    ok = (np.asarray(chi(T)) < chi_c) & (T >= Td)
    if not ok.any():
        return math.inf
    i = int(np.argmax(ok))
    if i == 0:
        return lo
    from scipy.optimize import brentq

    # refine the edge between T[i-1] (not ok) and T[i] (ok): whichever condition switched
    a, b = T[i - 1], T[i]
    if a < Td <= b:
        return max(Td, a)
    try:
        return float(brentq(lambda t: chi(t) - chi_c, a, b))
    except ValueError:
        return float(b)


def dissolution_verdict(chi_mean: float, chi_std: float, T_K: float, chi_c: float = CHI_C_LONG_CHAIN,
                        chi_T: ChiT | None = None, polymer: PolymerFacts | None = None,
                        solvent: SolventFacts | None = None, phi1: float = DEFAULT_PHI1,
                        temperatures: bool = True) -> DissolutionVerdict:
    """Does the polymer dissolve in the solvent at T_K (see the module doc for the rules)?

    Args:
        chi_mean, chi_std: ensemble mean and calibrated std of chi at T_K.
        chi_c: critical chi (0.5 for long chains).
        chi_T: the mean chi(T) curve (A, B[, C] of the model); None: chi taken constant in T.
            The std at other temperatures is taken equal to ``chi_std``.
        polymer, solvent: facts (None = nothing known).
        phi1: solvent volume fraction for the melting-point depression (0.95: a 5 % solution).
        temperatures: False skips the T_dissolve_* search (NaN; faster on large grids).
    """
    mis = miscibility_verdict(chi_mean, chi_std, chi_c)
    s = float(chi_std) if _finite(chi_std) else 0.0
    reasons: list[str] = []
    if mis == "unknown":
        return DissolutionVerdict("unknown", mis, "unknown", reason="no chi prediction")
    curve = chi_T if chi_T is not None else ChiT(float(chi_mean), 0.0)
    # shift the curve so it passes through the prediction at T_K (A, B and chi are separate means)
    curve = curve.shifted(float(chi_mean) - float(curve(T_K)))
    pname = (polymer.name if polymer is not None and polymer.name else "the polymer")
    # crystals
    Td = Td_lo = Td_hi = NAN
    semi = polymer.semicrystalline if polymer is not None else None
    if semi is None:
        crystals = "unknown"
        reasons.append(f"crystallinity of {pname} unknown")
    elif not semi:
        crystals = "amorphous"
        Td = Td_lo = Td_hi = -math.inf
    else:
        V1 = solvent.V1_cm3_mol if solvent is not None else NAN
        missing = [n for n, v in (("Tm0", polymer.Tm0_K), ("heat of fusion", polymer.dHu_J_mol),
                                  ("repeat-unit molar volume", polymer.Vu_cm3_mol), ("solvent molar volume", V1))
                   if not _finite(v) or v <= 0]
        if missing:
            crystals = "unknown"
            reasons.append(f"{pname} is semicrystalline but {', '.join(missing)} unknown")
        else:
            args = (polymer.Tm0_K, polymer.dHu_J_mol, polymer.Vu_cm3_mol, V1)
            Td = dissolution_temperature(*args, curve, phi1=phi1)
            Td_lo = dissolution_temperature(*args, curve.shifted(-s), phi1=phi1)
            Td_hi = dissolution_temperature(*args, curve.shifted(+s), phi1=phi1)
            if T_K >= Td_hi:
                crystals = "melted"
            elif T_K < Td_lo:
                crystals = "not melted"
                reasons.append(f"below the depressed melting point {Td - 273.15:.0f} C")
            else:
                crystals = "borderline"
                reasons.append(f"near the depressed melting point {Td - 273.15:.0f} C "
                               f"({Td_lo - 273.15:.0f}-{Td_hi - 273.15:.0f} C)")
    if mis == "immiscible":
        reasons.insert(0, f"chi {chi_mean:.2f} +- {s:.2f} > chi_c {chi_c:.3f}")
    elif mis == "borderline":
        reasons.insert(0, f"chi {chi_mean:.2f} +- {s:.2f} straddles chi_c {chi_c:.3f}")
    if mis == "immiscible" or crystals == "not melted":
        dissolves = "no"
    elif mis == "miscible" and crystals in ("melted", "amorphous"):
        dissolves = "yes"
    elif crystals == "unknown":
        dissolves = "unknown"
    else:
        dissolves = "borderline"
    # dissolution temperatures (NaN when a needed fact is missing)
    if crystals == "unknown" or not temperatures:
        T_d = T_dlo = T_dhi = NAN
    else:
        T_d = _first_dissolving_T(curve, chi_c, Td)
        T_dlo = _first_dissolving_T(curve.shifted(-s), chi_c, Td_lo)
        T_dhi = _first_dissolving_T(curve.shifted(+s), chi_c, Td_hi)
    # boiling point
    bp = solvent.bp_K if solvent is not None else NAN
    if _finite(bp):
        above = "yes" if T_K > bp else "no"
        head = float(bp) - float(T_K)
        if above == "yes":
            reasons.append(f"above the solvent's boiling point {bp - 273.15:.0f} C: needs pressure")
    else:
        above, head = "unknown", NAN
        reasons.append("solvent boiling point unknown")
    return DissolutionVerdict(dissolves, mis, crystals, T_d, T_dlo, T_dhi, above, head, "; ".join(reasons))
