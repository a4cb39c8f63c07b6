import math

import numpy as np
import pytest

from chiscreen.thermo import (
    ChiT, PolymerFacts, SolventFacts, dissolution_verdict, miscibility_verdict, miscibility_verdict_array,
)

PE = PolymerFacts("PE", 0.7, 414.6, 8220.0, 32.8)
PS = PolymerFacts("PS", 0.0)
XYL = SolventFacts("o-xylene", 417.65, 121.2)


def test_array_and_scalar_verdicts_agree():
    chi = np.array([0.1, 0.45, 0.5, 0.55, 0.9, np.nan, 0.38])
    std = np.array([0.1, 0.1, 0.0, 0.01, 0.1, 0.1, 0.38])
    arr = miscibility_verdict_array(chi, std, 0.5)
    assert list(arr) == [miscibility_verdict(c, s, 0.5) for c, s in zip(chi, std)]
    assert arr[-1] == "borderline"          # PET / pinacolone 0.38 +- 0.38
    assert arr[5] == "unknown"


def test_semicrystalline_needs_heat_to_dissolve():
    chi_T = ChiT(0.23, 44.0)
    cold = dissolution_verdict(chi_T(298.15), 0.09, 298.15, 0.5, chi_T, PE, XYL)
    hot = dissolution_verdict(chi_T(403.15), 0.06, 403.15, 0.5, chi_T, PE, XYL)
    assert cold.miscibility == "miscible" and cold.dissolves == "no" and cold.crystals == "not melted"
    assert hot.dissolves == "yes" and hot.above_boiling == "no"
    assert 360 < hot.T_dissolve_K < 414.6 and hot.T_dissolve_lo_K <= hot.T_dissolve_K <= hot.T_dissolve_hi_K
    near = dissolution_verdict(chi_T(hot.T_dissolve_K), 0.09, hot.T_dissolve_K, 0.5, chi_T, PE, XYL)
    assert near.dissolves == "borderline"


def test_amorphous_follows_chi_and_unknown_never_defaults():
    assert dissolution_verdict(0.3, 0.05, 298.15, polymer=PS, solvent=XYL).dissolves == "yes"
    assert dissolution_verdict(0.9, 0.05, 298.15, polymer=PS, solvent=XYL).dissolves == "no"
    unk = dissolution_verdict(0.3, 0.05, 298.15, polymer=PolymerFacts("PP"), solvent=XYL)
    assert unk.dissolves == "unknown" and "crystallinity" in unk.reason and math.isnan(unk.T_dissolve_K)
    # a clear "no" from chi alone needs no facts
    assert dissolution_verdict(0.9, 0.05, 298.15, polymer=PolymerFacts("PP")).dissolves == "no"
    # semicrystalline with a missing fact: unknown, naming it
    v = dissolution_verdict(0.3, 0.05, 298.15, polymer=PolymerFacts("X", 0.4, 500.0), solvent=XYL)
    assert v.dissolves == "unknown" and "heat of fusion" in v.reason
    # boiling point unknown: explicit, never "liquid"
    nb = dissolution_verdict(0.3, 0.05, 298.15, polymer=PS, solvent=SolventFacts("x", float("nan"), 100.0))
    assert nb.above_boiling == "unknown" and "boiling point unknown" in nb.reason
    above = dissolution_verdict(0.3, 0.05, 450.0, polymer=PS, solvent=XYL)
    assert above.above_boiling == "yes" and above.bp_headroom_K < 0 and "pressure" in above.reason


def test_ucst_like_amorphous_dissolution_temperature():
    chi_T = ChiT(0.2, 120.0)                   # chi = 0.5 at 400 K
    v = dissolution_verdict(chi_T(300.0), 0.0, 300.0, 0.5, chi_T, PS, XYL)
    assert v.dissolves == "no" and v.T_dissolve_K == pytest.approx(400.0, abs=0.01)
