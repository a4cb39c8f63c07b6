"""Backbone descriptors (``rdkit2d_periodic_bb``): known values on simple polymers, NaN for solvents."""
import numpy as np
import pytest
from rdkit import Chem

from chiscreen.chem import canonical_key
from chiscreen.features import FEATURIZERS, get_featurizer
from chiscreen.features.backbone import BACKBONE_NAMES, backbone_descriptors
from chiscreen.features.periodic import periodic_ring


def _bb(smiles):
    return dict(zip(BACKBONE_NAMES, backbone_descriptors(periodic_ring(canonical_key("polymer", smiles)))))


def test_vinyl_and_main_chain_polymers():
    ps = _bb("*CC(*)c1ccccc1")                      # polystyrene: 2 backbone atoms, phenyl side group
    assert (ps["bb_atoms"], ps["sc_heavy"], ps["sc_branch_points"], ps["sc_aromatic"]) == (2, 6, 1, 6)
    assert ps["bb_fraction"] == pytest.approx(0.25) and ps["sc_max_depth"] == 4
    peo = _bb("*OCC*")                               # PEO: everything is backbone
    assert (peo["bb_atoms"], peo["sc_heavy"], peo["bb_fraction"], peo["bb_hetero"]) == (3, 0, 1.0, 1)
    assert peo["sc_mean_size"] == 0 and peo["bb_single_frac"] == 1.0
    pmma = _bb("*CC(*)(C)C(=O)OC")
    assert pmma["sc_polar"] == 2 and pmma["sc_heavy"] == 5
    pet = _bb("*OC(=O)c1ccc(C(=O)OCC*)cc1")          # the phenylene lies in the chain
    assert pet["bb_aromatic_frac"] > 0.3 and pet["bb_ring_frac"] > 0.3 and pet["bb_atoms"] == 10


def test_featurizer_extends_rdkit2d_periodic_and_solvents_get_nan():
    assert "rdkit2d_periodic_bb" in FEATURIZERS.keys()
    f, base = get_featurizer("rdkit2d_periodic_bb"), get_featurizer("rdkit2d_periodic")
    assert len(f) == len(base) + len(BACKBONE_NAMES) == len(f.feature_names)
    m = periodic_ring(canonical_key("polymer", "*CC(*)C(=O)OC"))
    v = f(m)
    assert v.dtype == np.float32 and np.allclose(v[: len(base)], base(m), equal_nan=True)
    assert np.isfinite(v[len(base):]).all()
    s = f(Chem.MolFromSmiles("CCO"))
    assert np.isnan(s[len(base):]).all() and np.isfinite(s[: len(base)]).sum() > 100
