"""Flory-Huggins toolkit against its closed forms."""
import math

import numpy as np
import pytest

from chiscreen.errors import InvalidInputError
from chiscreen.thermo import (
    ChiT, binodal, chemical_potentials, chi_critical, critical_point, critical_temperatures,
    dissolution_temperature, free_energy_mixing, melting_point_depressed, spinodal, spinodal_chi,
)
from chiscreen.thermo.temperature import R_GAS


@pytest.mark.parametrize("n1,n2", [(1, 1), (100, 1), (1000, 1), (50, 200), (1e6, 1)])
def test_critical_point_closed_form(n1, n2):
    phi_c, chi_c = critical_point(n1, n2)
    assert chi_c == pytest.approx(0.5 * (1 / math.sqrt(n1) + 1 / math.sqrt(n2)) ** 2)
    assert phi_c == pytest.approx(math.sqrt(n2) / (math.sqrt(n1) + math.sqrt(n2)))
    # the critical point is the minimum of the spinodal curve
    assert spinodal_chi(phi_c, n1, n2) == pytest.approx(chi_c)
    grid = np.linspace(0.001, 0.999, 999)
    assert spinodal_chi(grid, n1, n2).min() >= chi_c * (1 - 1e-9)
    if n2 == 1:
        assert chi_c == pytest.approx(chi_critical(n1))


def test_free_energy_second_derivative_vanishes_on_spinodal():
    n1, chi = 100.0, 0.7
    a, b = spinodal(chi, n1)
    h = 1e-5
    for p in (a, b):
        d2 = (free_energy_mixing(p + h, chi, n1) - 2 * free_energy_mixing(p, chi, n1)
              + free_energy_mixing(p - h, chi, n1)) / h ** 2
        assert abs(d2) < 1e-3
    assert free_energy_mixing(0.0, chi, n1) == 0.0 and free_energy_mixing(1.0, chi, n1) == 0.0
    assert spinodal(0.5, n1) is None and binodal(0.5, n1) is None


@pytest.mark.parametrize("N", [1, 10, 1000])
@pytest.mark.parametrize("chiN", [2.1, 2.5, 4.0, 10.0, 40.0])
def test_symmetric_blend_binodal_closed_form(N, chiN):
    """N1 = N2 = N: the binodal phi satisfies chi N = ln(phi/(1-phi)) / (2 phi - 1), phases symmetric."""
    a, b = binodal(chiN / N, N, N)
    assert a + b == pytest.approx(1.0, abs=1e-9)
    assert math.log((1 - a) / a) / (1 - 2 * a) == pytest.approx(chiN, rel=1e-7)   # dilute side: exact in floats


@pytest.mark.parametrize("n1,chi", [(100, 0.61), (100, 0.7), (1000, 0.6), (1000, 3.0), (1e5, 1.0), (30, 0.3 * 30 / 30 + 0.5)])
def test_polymer_solution_binodal_is_a_common_tangent(n1, chi):
    a, b = binodal(chi, n1)
    s = spinodal(chi, n1)
    phi_c, _ = critical_point(n1)
    assert a <= s[0] < phi_c < s[1] <= b < 1
    if a > 1e-300:   # both chemical potentials equal in both phases
        m1a, m2a = chemical_potentials(a, chi, n1)
        m1b, m2b = chemical_potentials(b, chi, n1)
        assert m1a == pytest.approx(m1b, abs=1e-7) and m2a == pytest.approx(m2b, abs=1e-7)
        # tangent: f'(a) = f'(b) = (f(b) - f(a)) / (b - a)
        fa, fb = free_energy_mixing(a, chi, n1), free_energy_mixing(b, chi, n1)

        def fp(p, h=1e-7):
            return (free_energy_mixing(min(p + h * p, 1), chi, n1) - free_energy_mixing(p - h * p, chi, n1)) / (2 * h * p)

        assert fp(b) == pytest.approx((fb - fa) / (b - a), rel=1e-4, abs=1e-8)


def test_binodal_near_critical_matches_landau():
    n1 = 100.0
    phi_c, chi_c = critical_point(n1)
    a, b = binodal(chi_c * (1 + 1e-4), n1)
    s = spinodal(chi_c * (1 + 1e-4), n1)
    assert (b - a) / (s[1] - s[0]) == pytest.approx(math.sqrt(3), rel=0.02)


def test_bad_chain_lengths_rejected():
    for bad in (0, -3, float("nan"), float("inf")):
        with pytest.raises(InvalidInputError):
            critical_point(bad, 1)
    with pytest.raises(InvalidInputError):
        free_energy_mixing(1.5, 0.5, 10)


def test_ucst_lcst_from_chi_of_T():
    # chi = A + B/T: with B > 0 chi falls with T -> UCST at B / (chi_c - A)
    assert critical_temperatures(ChiT(0.2, 90.0), 0.5) == [(pytest.approx(300.0), "UCST")]
    # B < 0: chi rises with T -> LCST
    assert critical_temperatures(ChiT(0.8, -90.0), 0.5) == [(pytest.approx(300.0), "LCST")]
    # with C: chi = A + B/T + C/T^2, two crossings (a closed loop)
    T1, T2 = 300.0, 450.0
    x1, x2 = 1 / T1, 1 / T2
    C = -50000.0
    B = -C * (x1 + x2)
    A = 0.5 + C * x1 * x2
    roots = critical_temperatures(ChiT(A, B, C), 0.5)
    assert [r[0] for r in roots] == [pytest.approx(T1), pytest.approx(T2)]
    assert critical_temperatures(ChiT(0.1, 0.0), 0.5) == []


def test_flory_melting_point_depression_closed_form():
    Tm0, dHu, Vu, V1 = 414.6, 8220.0, 32.8, 121.0
    for chi, phi1 in ((0.0, 1.0), (0.4, 0.95), (0.8, 0.5)):
        Tm = melting_point_depressed(Tm0, dHu, Vu, V1, chi, phi1)
        assert 1 / Tm - 1 / Tm0 == pytest.approx(R_GAS / dHu * Vu / V1 * (phi1 - chi * phi1 ** 2))
        assert Tm < Tm0 or phi1 - chi * phi1 ** 2 <= 0
    assert melting_point_depressed(Tm0, dHu, Vu, V1, 0.4, 0.0) == pytest.approx(Tm0)
    # with chi(T) constant the root solve gives the closed form
    assert dissolution_temperature(Tm0, dHu, Vu, V1, ChiT(0.4, 0.0), phi1=0.95) == \
        pytest.approx(melting_point_depressed(Tm0, dHu, Vu, V1, 0.4, 0.95), rel=1e-8)
    # with chi = A + B/T the root is the linear closed form in 1/T
    A, B, phi1 = 0.2, 50.0, 0.95
    k = R_GAS / dHu * Vu / V1
    x = (1 / Tm0 + k * (phi1 - A * phi1 ** 2)) / (1 + k * B * phi1 ** 2)    # x = 1/T
    assert dissolution_temperature(Tm0, dHu, Vu, V1, ChiT(A, B), phi1=phi1) == pytest.approx(1 / x, rel=1e-8)
    with pytest.raises(InvalidInputError):
        melting_point_depressed(float("nan"), dHu, Vu, V1, 0.4)
