import math

import pytest

from chiscreen.errors import InvalidInputError
from chiscreen.thermo import chi_critical, chi_critical_array, miscibility_verdict, n_ratio_from_mw


def test_chi_critical_long_chain_and_finite():
    assert chi_critical() == 0.5
    assert chi_critical(float("inf")) == 0.5
    assert chi_critical(1.0) == pytest.approx(2.0)
    assert chi_critical(100.0) == pytest.approx(0.5 * 1.1 ** 2)
    assert chi_critical(1e4) > chi_critical(1e6) > 0.5


def test_chi_critical_rejects_bad_n():
    for bad in (0, -1, float("nan")):
        with pytest.raises(InvalidInputError):
            chi_critical(bad)


def test_chi_critical_array_nan_is_long_chain():
    out = chi_critical_array([float("nan"), 100.0])
    assert out[0] == 0.5 and math.isclose(out[1], chi_critical(100.0))


def test_n_ratio_from_mw():
    assert n_ratio_from_mw(1e5, 1.0, 100.0) == pytest.approx(1000.0)
    with pytest.raises(InvalidInputError):
        n_ratio_from_mw(-5, 1.0, 100.0)


def test_verdict():
    assert miscibility_verdict(0.3, 0.05) == "miscible"
    assert miscibility_verdict(0.7, 0.05) == "immiscible"
    assert miscibility_verdict(0.48, 0.05) == "borderline"
