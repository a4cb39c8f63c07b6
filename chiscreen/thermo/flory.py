"""Flory-Huggins lattice theory: critical chi, chain-length ratios, free energy of mixing,
spinodal, binodal (common tangent) and the critical point.

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


# ---------------------------------------------------------------- two-component Flory-Huggins
# Component 1 has chain length N1 and volume fraction phi, component 2 chain length N2 and 1 - phi.
# A polymer solution is N1 = N (polymer), N2 = 1 (solvent); a blend has both N large.


def _check_n(n1: float, n2: float) -> tuple[float, float]:
    for name, v in (("N1", n1), ("N2", n2)):
        if not (math.isfinite(float(v)) and float(v) > 0):
            raise InvalidInputError(f"chain length {name} = {v!r} must be a positive finite number")
    return float(n1), float(n2)


def free_energy_mixing(phi, chi: float, n1: float, n2: float = 1.0) -> np.ndarray:
    """Flory-Huggins free energy of mixing per lattice site, in units of kT:

        f = phi/N1 ln phi + (1-phi)/N2 ln(1-phi) + chi phi (1-phi)

    ``phi`` (volume fraction of component 1, any shape) in [0, 1]; the end points give 0.
    """
    n1, n2 = _check_n(n1, n2)
    p = np.asarray(phi, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise InvalidInputError("volume fraction phi must lie in [0, 1]")
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(p > 0, p / n1 * np.log(np.where(p > 0, p, 1.0)), 0.0)
        b = np.where(p < 1, (1 - p) / n2 * np.log(np.where(p < 1, 1 - p, 1.0)), 0.0)
    return a + b + chi * p * (1 - p)


def chemical_potentials(phi, chi: float, n1: float, n2: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Exchange chemical potentials (kT per molecule) of components 1 and 2 relative to the pure
    components, at volume fraction phi of component 1 (0 < phi < 1)::

        mu1 = ln phi     + (1 - N1/N2)(1-phi) + N1 chi (1-phi)^2
        mu2 = ln(1-phi)  + (1 - N2/N1) phi    + N2 chi phi^2
    """
    n1, n2 = _check_n(n1, n2)
    p = np.asarray(phi, dtype=float)
    mu1 = np.log(p) + (1 - n1 / n2) * (1 - p) + n1 * chi * (1 - p) ** 2
    mu2 = np.log1p(-p) + (1 - n2 / n1) * p + n2 * chi * p ** 2
    return mu1, mu2


def critical_point(n1: float, n2: float = 1.0) -> tuple[float, float]:
    """(phi_c, chi_c) of the two-component system:
    phi_c = sqrt(N2) / (sqrt(N1) + sqrt(N2)), chi_c = 0.5 (1/sqrt(N1) + 1/sqrt(N2))^2."""
    n1, n2 = _check_n(n1, n2)
    s1, s2 = math.sqrt(n1), math.sqrt(n2)
    return s2 / (s1 + s2), 0.5 * (1 / s1 + 1 / s2) ** 2


def spinodal_chi(phi, n1: float, n2: float = 1.0) -> np.ndarray:
    """chi on the spinodal at composition phi: 0.5 (1/(N1 phi) + 1/(N2 (1-phi)))."""
    n1, n2 = _check_n(n1, n2)
    p = np.asarray(phi, dtype=float)
    return 0.5 * (1 / (n1 * p) + 1 / (n2 * (1 - p)))


def spinodal(chi: float, n1: float, n2: float = 1.0) -> tuple[float, float] | None:
    """The two spinodal compositions (phi_low, phi_high) at chi, or None when chi <= chi_c
    (one phase at every composition). Roots of 2 chi phi^2 - (2 chi + 1/N1 - 1/N2) phi + 1/N1 = 0."""
    n1, n2 = _check_n(n1, n2)
    _, chi_c = critical_point(n1, n2)
    if not math.isfinite(chi) or chi <= chi_c:
        return None
    a, b, c = 2 * chi, -(2 * chi + 1 / n1 - 1 / n2), 1 / n1
    disc = max(b * b - 4 * a * c, 0.0)
    q = -0.5 * (b - math.sqrt(disc))          # stable quadratic roots (b < 0)
    r1, r2 = q / a, c / q
    return (min(r1, r2), max(r1, r2))


def _logit(p: float) -> float:
    return math.log(p) - math.log1p(-p)


def _expit(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


def _mu_logit(x: float, chi: float, n1: float, n2: float) -> tuple[float, float]:
    """chemical_potentials at phi = expit(x), with ln(phi) and ln(1-phi) taken from x directly so
    that phases as dilute as phi ~ 1e-1000 (underflowing to 0.0) stay exact."""
    ln_p = -math.log1p(math.exp(-x)) if x > -700 else x          # ln expit(x)
    ln_q = -math.log1p(math.exp(x)) if x < 700 else -x           # ln (1 - expit(x))
    p, q = _expit(x), _expit(-x)
    mu1 = ln_p + (1 - n1 / n2) * q + n1 * chi * q * q
    mu2 = ln_q + (1 - n2 / n1) * p + n2 * chi * p * p
    return mu1, mu2


def _binodal_solve(chi: float, n1: float, n2: float, guess: tuple[float, float]) -> tuple[float, float] | None:
    """Newton on equal chemical potentials in logit coordinates (keeps both phases inside (0, 1))."""
    from scipy.optimize import root

    def resid(x):
        m1a, m2a = _mu_logit(float(x[0]), chi, n1, n2)
        m1b, m2b = _mu_logit(float(x[1]), chi, n1, n2)
        return [m1a - m1b, m2a - m2b]

    x0 = [_logit(min(max(guess[0], 1e-300), 1 - 1e-16)), _logit(min(max(guess[1], 1e-300), 1 - 1e-16))]
    sol = root(resid, x0, method="hybr", options={"xtol": 1e-13, "maxfev": 2000})
    xa, xb = sorted(float(v) for v in sol.x)
    if not (xb - xa > 1e-7) or max(abs(v) for v in resid([xa, xb])) > 1e-8:
        return None
    return _expit(xa), _expit(xb)


def _hull_guess(chi: float, n1: float, n2: float, phi_c: float) -> tuple[float, float] | None:
    """Coexistence estimate from the lower convex hull of f on a logit-spaced grid: the hull edge
    that bridges the concave region around phi_c."""
    x = np.linspace(-60.0, 37.0, 1501)
    phi = 1 / (1 + np.exp(-x))
    phi = phi[(phi > 0) & (phi < 1)]
    f = free_energy_mixing(phi, chi, n1, n2)
    hull: list[int] = []
    for i in range(len(phi)):                       # monotone chain, lower hull
        while len(hull) >= 2:
            j, k = hull[-2], hull[-1]
            if (f[k] - f[j]) * (phi[i] - phi[j]) >= (f[i] - f[j]) * (phi[k] - phi[j]):
                hull.pop()
            else:
                break
        hull.append(i)
    best = None
    for j, k in zip(hull[:-1], hull[1:]):
        if k - j > 1 and phi[j] <= phi_c <= phi[k] and (best is None or k - j > best[1] - best[0]):
            best = (j, k)
    if best is None:
        gaps = [(k - j, j, k) for j, k in zip(hull[:-1], hull[1:]) if k - j > 1]
        if not gaps:
            return None
        _, j, k = max(gaps)
        best = (j, k)
    return float(phi[best[0]]), float(phi[best[1]])


def binodal(chi: float, n1: float, n2: float = 1.0, guess: tuple[float, float] | None = None) -> tuple[float, float] | None:
    """The coexisting compositions (phi_a < phi_b) at chi by a common-tangent solve, or None when
    chi <= chi_c (one phase at every composition).

    Robust far from and near the critical point: a first estimate comes from the lower convex hull
    of f(phi) on a logit-spaced grid (phi from 1e-26 to 1 - 1e-16), then Newton on equal chemical
    potentials of both components with logit(phi) as unknowns (so a dilute phase of phi ~ 1e-30 is
    as easy as phi ~ 0.1). Very close to chi_c (chi - chi_c < 1e-6 chi_c) the Landau estimate
    phi_c -+ sqrt(3) x the spinodal half-width is returned. Raises InvalidInputError when no
    solution is found. ``guess`` (a neighbouring solution, e.g. at the previous temperature) is
    tried first.
    """
    n1, n2 = _check_n(n1, n2)
    phi_c, chi_c = critical_point(n1, n2)
    if not math.isfinite(chi) or chi <= chi_c:
        return None
    sp = spinodal(chi, n1, n2)
    w = math.sqrt(3.0)
    landau = (max(phi_c - w * (phi_c - sp[0]), 1e-300), min(phi_c + w * (sp[1] - phi_c), 1 - 1e-16))
    if chi - chi_c < 1e-6 * chi_c:
        return landau
    def ok(cur):
        return cur is not None and cur[0] < sp[0] * (1 + 1e-9) and cur[1] > sp[1] * (1 - 1e-9)

    if guess is not None and all(math.isfinite(g) for g in guess):
        cur = _binodal_solve(chi, n1, n2, guess)
        if ok(cur):
            return cur
    for g in (_hull_guess(chi, n1, n2, phi_c), landau):
        if g is None:
            continue
        cur = _binodal_solve(chi, n1, n2, g)
        if ok(cur):
            return cur
    raise InvalidInputError(f"binodal: common-tangent solve failed at chi = {chi:.6g} (N1={n1:g}, N2={n2:g})")
