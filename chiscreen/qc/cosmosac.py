"""COSMO-SAC 2010 activity coefficients (Hsieh, Sandler, Lin, Fluid Phase Equilib. 2010, 297, 90).

Profiles enter as :class:`~chiscreen.qc.sigma.SigmaProfile` (areas in A^2 over 3 x 51 bins).
Temperatures are in Kelvin. ``ln gamma`` is dimensionless (mole-fraction based).

Constants: A_ES 6525.69, B_ES 1.4859e8 (electrostatic term (A_ES + B_ES/T^2)(s_m + s_n)^2, in
kcal A^4 / (mol e^2)), hydrogen-bonding c_OH-OH 4013.78, c_OT-OT 932.31, c_OH-OT 3016.43
(kcal A^4 / (mol e^2)), a_eff 7.25 A^2, Staverman-Guggenheim q0 79.53 A^2, r0 66.69 A^3, z 10.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from chiscreen.errors import OracleError
from chiscreen.qc.sigma import A_EFF, N_BINS, SIGMA_GRID, SigmaProfile

#: Gas constant, kcal/(mol K).
R_KCAL = 0.0019872043011606513
A_ES = 6525.69
B_ES = 1.4859e8
C_HB = np.array([[0.0, 0.0, 0.0], [0.0, 4013.78, 3016.43], [0.0, 3016.43, 932.31]])
Q0 = 79.53
R0 = 66.69
Z_COORD = 10.0
N_SEG = 3 * N_BINS


@lru_cache(maxsize=64)
def _minus_dw(t_kelvin: float) -> np.ndarray:
    w = -delta_w_over_rt(t_kelvin)
    w.setflags(write=False)
    return w


def delta_w_over_rt(t_kelvin: float) -> np.ndarray:
    """Segment-pair exchange energy Delta W(m, n) / RT, shape (153, 153) (3 kinds x 51 bins)."""
    if not t_kelvin > 0:
        raise OracleError(f"temperature must be > 0 K, got {t_kelvin}")
    es = np.add.outer(SIGMA_GRID, SIGMA_GRID) ** 2
    hb = (np.outer(SIGMA_GRID, SIGMA_GRID) < 0) * np.subtract.outer(SIGMA_GRID, SIGMA_GRID) ** 2
    a = A_ES + B_ES / t_kelvin**2
    w = np.block([[a * es - C_HB[s, t] * hb for t in range(3)] for s in range(3)])
    return w / (R_KCAL * t_kelvin)


def _logsumexp_rows(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise log-sum-exp of ``z`` (m, n) and the row-normalised weights (softmax)."""
    mx = z.max(axis=1)
    ex = np.exp(z - mx[:, None])
    s = ex.sum(axis=1)
    return mx + np.log(s), ex / s[:, None]


def segment_ln_gamma(p_norm: np.ndarray, t_kelvin: float, tol: float = 1e-11,
                     max_iter: int = 200, minus_dw: np.ndarray | None = None,
                     y0: np.ndarray | None = None) -> np.ndarray:
    """Segment activity coefficients ln Gamma(sigma) in a liquid with normalised profile
    ``p_norm`` (shape (153,), sums to 1), at ``t_kelvin`` (K). Returns shape (153,) (204 with
    the ``minus_dw`` of a four-kind parameter set).

    ``minus_dw``: -Delta W / RT (153, 153) of another parameter set
    (:meth:`chiscreen.qc.params.CosmoSacParams.minus_dw`); default the 2010 constants.
    ``y0``: a starting guess (153,) for ln Gamma (e.g. the solution at nearby parameters).

    Solves ln Gamma_m = -ln sum_n p_n Gamma_n exp(-Delta W_mn / RT) on the bins where the
    liquid has area, by Newton's method in log space with a backtracking line search (stable
    down to 150 K, ~0.5 ms); the other bins follow from one application of the equation.
    Raises OracleError if it does not converge in ``max_iter`` steps.
    """
    p = np.asarray(p_norm, dtype=float).ravel()
    mw = _minus_dw(float(t_kelvin)) if minus_dw is None else minus_dw
    if p.shape != (mw.shape[0],):
        raise OracleError(f"profile must have {mw.shape[0]} entries, got {p.shape}")
    sup = np.flatnonzero(p > 0)
    if sup.size == 0:
        raise OracleError("empty sigma profile")
    logp = np.log(p[sup])
    base = mw[np.ix_(sup, sup)] + logp[None, :]
    eye = np.eye(sup.size)
    y = np.zeros(sup.size) if y0 is None else np.array(np.asarray(y0, dtype=float)[sup])
    lse, w = _logsumexp_rows(base + y[None, :])
    r = y + lse
    nr = float(np.max(np.abs(r)))
    for _ in range(max_iter):
        if nr < tol:
            break
        dy = np.linalg.solve(eye + w, -r)
        lam = 1.0
        while True:
            lse2, w2 = _logsumexp_rows(base + (y + lam * dy)[None, :])
            r2 = y + lam * dy + lse2
            n2 = float(np.max(np.abs(r2)))
            if (np.isfinite(n2) and n2 < nr * (1.0 - 1e-4 * lam)) or lam < 1e-6:
                break
            lam *= 0.5
        y = y + lam * dy
        r, w, nr = r2, w2, n2
    else:
        raise OracleError(f"segment activity coefficients did not converge at {t_kelvin} K")
    if not nr < tol:
        raise OracleError(f"segment activity coefficients did not converge at {t_kelvin} K")
    lse_full, _ = _logsumexp_rows(mw[:, sup] + (logp + y)[None, :])
    return -lse_full


def _profile_arrays(profiles: Sequence[SigmaProfile]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    P = np.array([pr.p.ravel() for pr in profiles])
    A = np.array([pr.area for pr in profiles], dtype=float)
    V = np.array([pr.volume for pr in profiles], dtype=float)
    if np.any(A <= 0) or np.any(V <= 0):
        raise OracleError("profiles need positive area and volume")
    return P, A, V


def ln_gamma(
    profiles: Sequence[SigmaProfile], x: Sequence[float], t_kelvin: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ln gamma of every component of a mixture of mole fractions ``x`` (n_comp,) at T (K).

    Returns (ln_gamma, combinatorial part, residual part), each shape (n_comp,). Components with
    x = 0 get their infinite-dilution values.
    """
    x = np.asarray(x, dtype=float)
    P, A, V = _profile_arrays(profiles)
    if x.shape != (len(profiles),) or np.any(x < 0) or x.sum() <= 0:
        raise OracleError(f"bad mole fractions {x!r} for {len(profiles)} components")
    x = x / x.sum()
    p_mix = (x @ P) / (x @ A)
    ln_g_mix = segment_ln_gamma(p_mix, t_kelvin)
    res = np.empty(len(profiles))
    for i in range(len(profiles)):
        p_i = P[i] / A[i]
        res[i] = A[i] / A_EFF * np.sum(p_i * (ln_g_mix - segment_ln_gamma(p_i, t_kelvin)))
    q, r = A / Q0, V / R0
    xs = np.where(x > 0, x, 1e-300)
    theta, phi = xs * q / (xs @ q), xs * r / (xs @ r)
    ell = Z_COORD / 2 * (r - q) - (r - 1)
    comb = np.log(phi / xs) + Z_COORD / 2 * q * np.log(theta / phi) + ell - phi / xs * (xs @ ell)
    return comb + res, comb, res


def ln_gamma_comb_inf(
    a_solute: np.ndarray | float, v_solute: np.ndarray | float,
    a_liquid: np.ndarray | float, v_liquid: np.ndarray | float,
) -> np.ndarray:
    """Staverman-Guggenheim ln gamma^inf of a solute (area A^2, volume A^3) in a pure liquid.

    Broadcasts over its arguments.
    """
    q1, r1 = np.asarray(a_solute) / Q0, np.asarray(v_solute) / R0
    q2, r2 = np.asarray(a_liquid) / Q0, np.asarray(v_liquid) / R0
    l1 = Z_COORD / 2 * (r1 - q1) - (r1 - 1)
    l2 = Z_COORD / 2 * (r2 - q2) - (r2 - 1)
    return np.log(r1 / r2) + Z_COORD / 2 * q1 * np.log(q1 * r2 / (q2 * r1)) + l1 - r1 / r2 * l2


def ln_gamma_inf(solute: SigmaProfile, liquid: SigmaProfile, t_kelvin: float) -> tuple[float, float]:
    """ln gamma^inf of ``solute`` at infinite dilution in the pure ``liquid`` at T (K).

    Returns (ln gamma^inf, residual part).
    """
    p1 = solute.p.ravel() / solute.area
    res = solute.area / A_EFF * float(np.sum(
        p1 * (segment_ln_gamma(liquid.p.ravel() / liquid.area, t_kelvin)
              - segment_ln_gamma(p1, t_kelvin))))
    comb = float(ln_gamma_comb_inf(solute.area, solute.volume, liquid.area, liquid.volume))
    return comb + res, res

