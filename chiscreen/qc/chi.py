"""Flory-Huggins chi from COSMO-SAC: the solvent at infinite dilution in the (oligomer) polymer.

From the Flory-Huggins activity of the solvent, ln(a_1/phi_1) -> 1 - V_1/V_2 + chi as phi_1 -> 0
(Patterson et al., Macromolecules 1971, 4, 356; the inverse-gas-chromatography route):

    chi = ln gamma_1^inf + ln(V_2/V_1) - 1 + V_1/V_2

with gamma_1^inf the mole-fraction activity coefficient of the solvent (1) in the polymer
liquid (2) and V the COSMO cavity volumes. Temperatures are in Kelvin.

For many pairs the expensive part, the segment activity coefficients of each pure liquid at
each temperature, is computed once per (molecule, T) (:func:`segment_terms`); a pair then costs
a dot product (:func:`chi_matrix`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from chiscreen.qc.cosmosac import ln_gamma_comb_inf, ln_gamma_inf, segment_ln_gamma
from chiscreen.qc.sigma import A_EFF, SigmaProfile


def flory_huggins_chi(ln_gamma_inf_solvent: np.ndarray | float, v_solvent: np.ndarray | float,
                      v_polymer: np.ndarray | float) -> np.ndarray:
    """chi = ln gamma_1^inf + ln(V_2/V_1) - 1 + V_1/V_2 (volumes in any common unit; broadcasts)."""
    ratio = np.asarray(v_polymer, dtype=float) / np.asarray(v_solvent, dtype=float)
    return np.asarray(ln_gamma_inf_solvent) + np.log(ratio) - 1.0 + 1.0 / ratio


def chi_flory_huggins(solvent: SigmaProfile, polymer: SigmaProfile, t_kelvin: float) -> tuple[float, float]:
    """chi of a solvent/polymer pair at T (K). Returns (chi, residual-only ln gamma_1^inf)."""
    lng, res = ln_gamma_inf(solvent, polymer, t_kelvin)
    return float(flory_huggins_chi(lng, solvent.volume, polymer.volume)), res


def segment_terms(profiles: Sequence[SigmaProfile], temps_k: Sequence[float]) -> np.ndarray:
    """ln Gamma of each profile's own pure liquid, shape (n_profiles, n_temps, 153)."""
    out = np.empty((len(profiles), len(temps_k), 153))
    for i, pr in enumerate(profiles):
        p = pr.p.ravel() / pr.area
        for j, t in enumerate(temps_k):
            out[i, j] = segment_ln_gamma(p, float(t))
    return out


def chi_matrix(
    solvents: Sequence[SigmaProfile], polymers: Sequence[SigmaProfile], temps_k: Sequence[float],
    solvent_terms: np.ndarray | None = None, polymer_terms: np.ndarray | None = None,
) -> np.ndarray:
    """chi for every (solvent, polymer, T): shape (n_solvents, n_polymers, n_temps).

    ``*_terms`` are precomputed :func:`segment_terms` (same temperatures) to reuse across calls.
    """
    temps = [float(t) for t in temps_k]
    ts = segment_terms(solvents, temps) if solvent_terms is None else solvent_terms
    tp = segment_terms(polymers, temps) if polymer_terms is None else polymer_terms
    ps = np.array([s.p.ravel() for s in solvents]) / A_EFF           # (n_s, 153)
    a_s = np.array([s.area for s in solvents]); v_s = np.array([s.volume for s in solvents])
    a_p = np.array([p.area for p in polymers]); v_p = np.array([p.volume for p in polymers])
    # residual: (A_s/a_eff) sum p_s/A_s (lnG_p - lnG_s)
    res = np.einsum("sk,ptk->spt", ps, tp) - np.einsum("sk,stk->s t", ps, ts)[:, None, :]
    comb = ln_gamma_comb_inf(a_s[:, None], v_s[:, None], a_p[None, :], v_p[None, :])
    lng = res + comb[:, :, None]
    return flory_huggins_chi(lng, v_s[:, None, None], v_p[None, :, None])


def combinatorial_chi(a_solvent, v_solvent, a_polymer, v_polymer, combinatorial: str = "sg",
                      fv_ln_ratio: float = 0.0) -> np.ndarray:
    """The combinatorial part of chi: ln gamma_comb^inf + ln(V_p/V_s) - 1 + V_s/V_p.

    ``"sg"``: Staverman-Guggenheim (COSMO-SAC 2010); it reduces to
    (z/2) q_s [ln(q_s r_p / (q_p r_s)) + r_s q_p / (r_p q_s) - 1], which depends on the polymer
    only through its area/volume ratio. ``"fh"``: Flory-Huggins with free volumes f V
    (ln(f_s/f_p) = ``fv_ln_ratio``): ln(f_s/f_p) + (V_s/V_p)(1 - f_s/f_p); 0 for equal f.
    Areas A^2, volumes A^3; broadcasts.
    """
    ratio = np.asarray(v_solvent, dtype=float) / np.asarray(v_polymer, dtype=float)
    fv = fv_ln_ratio + ratio * (1.0 - np.exp(fv_ln_ratio)) + 0.0 * np.asarray(a_solvent)
    if combinatorial in ("sg", "sg_fv"):
        comb = ln_gamma_comb_inf(a_solvent, v_solvent, a_polymer, v_polymer)
        sg = flory_huggins_chi(comb, v_solvent, v_polymer)
        return sg if combinatorial == "sg" else sg + fv
    return fv


def chi_from_terms(
    p_solvent: np.ndarray, a_solvent: np.ndarray | float, v_solvent: np.ndarray | float,
    lng_solvent: np.ndarray, a_polymer: np.ndarray | float, v_polymer: np.ndarray | float,
    lng_polymer: np.ndarray, combinatorial: str = "sg", fv_ln_ratio: float = 0.0,
) -> np.ndarray:
    """chi from precomputed segment terms; broadcasts over leading dimensions.
    ``combinatorial`` / ``fv_ln_ratio``: see :func:`combinatorial_chi`.

    Args:
        p_solvent: solvent profile areas, A^2, shape (..., 153).
        a_solvent, v_solvent: solvent cavity area (A^2) and volume (A^3).
        lng_solvent: ln Gamma in the pure solvent, shape (..., 153).
        a_polymer, v_polymer: polymer cavity area and volume.
        lng_polymer: ln Gamma in the pure polymer liquid, shape (..., 153).
    """
    res = np.sum(np.asarray(p_solvent) / A_EFF * (np.asarray(lng_polymer) - np.asarray(lng_solvent)),
                 axis=-1)
    return res + combinatorial_chi(a_solvent, v_solvent, a_polymer, v_polymer, combinatorial,
                                   fv_ln_ratio)
