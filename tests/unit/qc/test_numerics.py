"""Cavity, conductor, sigma profiles, COSMO-SAC and Flory-Huggins: pure numerics, no xtb."""
from __future__ import annotations

import numpy as np
import pytest

from chiscreen.qc.cavity import build_cavity, multipole_potential, solve_conductor
from chiscreen.qc.chi import chi_flory_huggins, chi_from_terms, chi_matrix, flory_huggins_chi
from chiscreen.qc.cosmosac import (delta_w_over_rt, ln_gamma, ln_gamma_comb_inf, ln_gamma_inf,
                                   segment_ln_gamma)
from chiscreen.qc.sigma import (SIGMA_GRID, SigmaProfile, bin_profile, combine_profiles,
                                hb_classes, sigma_profile)

# water (Angstrom) with TIP3P-like charges, and a methanol-like molecule
WATER_Z = np.array([8, 1, 1])
WATER_X = np.array([[0.0, 0.0, 0.0], [0.9572, 0.0, 0.0], [-0.2400, 0.9266, 0.0]])
WATER_Q = np.array([-0.834, 0.417, 0.417])


def _water_profile(subdivision: int = 8) -> SigmaProfile:
    s = build_cavity(WATER_Z, WATER_X, 0.35, subdivision)
    solve_conductor(s, multipole_potential(s.positions, WATER_X, WATER_Q))
    return sigma_profile(WATER_Z, WATER_X, s)


def _profile(rng: np.random.Generator, area: float, hb: float = 0.0) -> SigmaProfile:
    p = np.zeros((3, 51))
    p[0, 15:36] = rng.random(21)
    p[1, 5:12] = hb * rng.random(7)
    p[1, 38:46] = hb * rng.random(8)
    p[2, 40:47] = 0.3 * rng.random(7)
    p *= area / p.sum()
    return SigmaProfile(p, area, 1.25 * area)


def test_single_sphere_area_volume_and_gauss_law():
    z, x = np.array([6]), np.zeros((1, 3))  # carbon sphere r = 2.00 A
    s = build_cavity(z, x, 0.2)
    assert s.total_area == pytest.approx(4 * np.pi * 4.0, rel=1e-9)
    assert s.volume == pytest.approx(4 / 3 * np.pi * 8.0, rel=2e-3)
    q = solve_conductor(s, multipole_potential(s.positions, x, np.array([1.0])))
    assert q.sum() == pytest.approx(-1.0, abs=2e-3)  # ideal conductor: Gauss's law


@pytest.mark.parametrize("subdivision", [1, 8])
def test_profile_area_and_charge_neutrality(subdivision):
    s = build_cavity(WATER_Z, WATER_X, 0.35, subdivision)
    q = solve_conductor(s, multipole_potential(s.positions, WATER_X, WATER_Q))
    assert abs(q.sum()) < 5e-3  # neutral molecule -> no net screening charge
    prof = sigma_profile(WATER_Z, WATER_X, s)
    assert prof.p.shape == (3, 51)
    assert prof.p.sum() == pytest.approx(s.total_area, rel=1e-10)
    assert prof.area == pytest.approx(s.total_area)
    assert abs(prof.net_charge) < 0.05
    assert prof.p[1].sum() > 0 and prof.p[2].sum() == 0  # water: OH class only, no OT


def test_subdivided_cavity_is_orientation_independent():
    rng = np.random.default_rng(3)
    areas = {1: [], 8: []}
    for _ in range(6):
        a, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        x = WATER_X @ a.T
        for sub in areas:
            areas[sub].append(build_cavity(WATER_Z, x, 0.35, sub).total_area)
    assert np.std(areas[8]) < np.std(areas[1])
    assert np.std(areas[8]) / np.mean(areas[8]) < 0.005


def test_bin_profile_conserves_area_and_first_moment():
    rng = np.random.default_rng(0)
    sig = rng.uniform(-0.02, 0.02, 500)
    a = rng.uniform(0.1, 0.5, 500)
    p = bin_profile(sig, a)
    assert p.sum() == pytest.approx(a.sum())
    assert (p * SIGMA_GRID).sum() == pytest.approx((a * sig).sum(), abs=1e-12)


def test_hb_classes_hydroxyl_and_other():
    # methanol-ish: C, O, H(O), H(C); plus an N with H far away
    z = np.array([6, 8, 1, 1, 7, 1])
    x = np.array([[0, 0, 0], [1.43, 0, 0], [1.75, 0.9, 0], [-0.5, 0.9, 0],
                  [10, 0, 0], [11.0, 0, 0]], dtype=float)
    assert hb_classes(z, x).tolist() == [0, 1, 1, 0, 2, 2]


def test_combine_profiles_weights():
    rng = np.random.default_rng(1)
    a, b = _profile(rng, 100), _profile(rng, 120)
    c = combine_profiles([a, b], np.array([3.0, 1.0]))
    assert c.area == pytest.approx(0.75 * 100 + 0.25 * 120)
    np.testing.assert_allclose(c.p, 0.75 * a.p + 0.25 * b.p)


def test_pure_liquid_gamma_is_one():
    rng = np.random.default_rng(2)
    pr = _profile(rng, 150, hb=0.2)
    for t in (200.0, 298.15, 500.0):
        lng, comb, res = ln_gamma([pr], [1.0], t)
        assert abs(lng[0]) < 1e-9
        lng2, _, _ = ln_gamma([pr, pr], [0.3, 0.7], t)  # two identical components
        np.testing.assert_allclose(lng2, 0.0, atol=1e-9)
        assert abs(ln_gamma_inf(pr, pr, t)[0]) < 1e-9


def test_infinite_dilution_matches_general_formula():
    rng = np.random.default_rng(4)
    s, p = _profile(rng, 120, 0.3), _profile(rng, 1400, 0.1)
    lng, comb, res = ln_gamma([s, p], [0.0, 1.0], 320.0)
    lng_inf, res_inf = ln_gamma_inf(s, p, 320.0)
    assert lng_inf == pytest.approx(lng[0], abs=1e-8)
    assert res_inf == pytest.approx(res[0], abs=1e-8)
    assert float(ln_gamma_comb_inf(s.area, s.volume, p.area, p.volume)) == pytest.approx(comb[0], abs=1e-8)


def test_segment_newton_matches_successive_substitution():
    rng = np.random.default_rng(5)
    pr = _profile(rng, 200, 0.4)
    p = pr.p.ravel() / pr.area
    for t in (160.0, 298.15, 650.0):
        e = np.exp(-delta_w_over_rt(t))
        g = np.ones(153)
        for _ in range(200000):
            gn = 1.0 / (e @ (p * g))
            if np.max(np.abs(gn - g) / g) < 1e-13:
                break
            g = 0.5 * (g + gn)
        np.testing.assert_allclose(segment_ln_gamma(p, t), np.log(gn), atol=1e-8)


def test_flory_huggins_limit_formula():
    # build ln gamma^inf from Flory-Huggins itself: ln(a1/x1) as x1 -> 0 equals
    # ln(V1/V2) + 1 - V1/V2 + chi; the oracle formula must return chi.
    v1, v2, chi = 100.0, 1500.0, 0.42
    lng = np.log(v1 / v2) + 1 - v1 / v2 + chi
    assert float(flory_huggins_chi(lng, v1, v2)) == pytest.approx(chi)
    # same liquid: chi = 0
    rng = np.random.default_rng(6)
    pr = _profile(rng, 300)
    assert chi_flory_huggins(pr, pr, 300.0)[0] == pytest.approx(0.0, abs=1e-9)


def test_chi_matrix_and_terms_match_pairwise():
    rng = np.random.default_rng(7)
    solvents = [_profile(rng, a, 0.2) for a in (80, 130)]
    polymers = [_profile(rng, a, 0.1) for a in (900, 1500, 2000)]
    temps = [280.0, 400.0]
    m = chi_matrix(solvents, polymers, temps)
    assert m.shape == (2, 3, 2)
    for i, s in enumerate(solvents):
        for j, p in enumerate(polymers):
            for k, t in enumerate(temps):
                ref = chi_flory_huggins(s, p, t)[0]
                assert m[i, j, k] == pytest.approx(ref, abs=1e-9)
                got = chi_from_terms(s.p.ravel(), s.area, s.volume,
                                     segment_ln_gamma(s.p.ravel() / s.area, t),
                                     p.area, p.volume, segment_ln_gamma(p.p.ravel() / p.area, t))
                assert float(got) == pytest.approx(ref, abs=1e-9)


def test_water_profile_is_physical():
    pr = _water_profile()
    # water's sigma profile has H (negative sigma) and O (positive sigma) peaks
    neg = pr.merged[SIGMA_GRID < -0.005].sum()
    pos = pr.merged[SIGMA_GRID > 0.005].sum()
    assert neg > 5 and pos > 5
    assert 30 < pr.area < 60 and 15 < pr.volume < 40
