"""The ``periodic`` representation and the per-repeat-unit ``rdkit2d_periodic`` featurizer."""
import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors

from chiscreen.chem import RepeatUnit
from chiscreen.errors import InvalidInputError
from chiscreen.features import FEATURIZERS, featurize, get_featurizer, parse_representation, polymer_molecule
from chiscreen.features.fast2d import DROPPED
from chiscreen.features.periodic import UNITS_PROP, periodic_ring, units_for
from chiscreen.features.representation import molecule_for

PS = "*CC(*)c1ccccc1"
PET = "*OCCOC(=O)c1ccc(cc1)C(*)=O"
NYLON6 = "*NCCCCCC(*)=O"
ARAMID = "*C(=O)Nc1ccc(Oc2ccc(C(C)(C)c3ccc(Oc4ccc(NC(=O)c5ccc(C(=O)c6ccc(*)cc6)cc5)cc4)cc3)cc2)cc1"
POLYMERS = [PS, PET, NYLON6, ARAMID, "*CC(*)(C)C(=O)OC", "*CC(*)Cl", "*C(F)(F)C(F)(F)*", "*Oc1ccc(cc1)S(=O)(=O)c1ccc(*)cc1",
            "*CC(*)C#N", "*[Si](C)(C)O*", "*CC(*)c1ccccn1", "*CC(*)[N+](C)(C)C", "*CC(*)OC(C)=O", "*C/C=C\\C*",
            "*CC(*)c1ccc(cc1)S(=O)(=O)O", "*c1ccc(Oc2ccc(N3C(=O)c4cc5C(=O)N(*)C(=O)c5cc4C3=O)cc2)cc1"]
SOLVENTS = ["Cc1ccccc1", "CCO", "ClC(Cl)Cl", "CS(C)=O", "O", "CC(=O)N(C)C", "c1ccncc1", "OP(=O)(O)O", "[Na+].[Cl-]"]


def _canon(s):
    return RepeatUnit.from_smiles(s).canonical


def test_registered_with_own_name_and_length():
    fz = get_featurizer("rdkit2d_periodic")
    assert "rdkit2d_periodic" in FEATURIZERS.keys() and "rdkit2d" in FEATURIZERS.keys()
    assert len(fz) == len(Descriptors.descList) - len(DROPPED) == len(fz.feature_names)
    assert not set(DROPPED) & set(fz.feature_names)


@pytest.mark.parametrize("backbone,k", [(1, 6), (2, 3), (3, 2), (4, 2), (5, 2), (6, 1), (14, 1)])
def test_units_for(backbone, k):
    assert units_for(backbone) == k


@pytest.mark.parametrize("smiles,k,atoms", [(PS, 3, 24), (PET, 1, 14), (NYLON6, 1, 8)])
def test_periodic_ring(smiles, k, atoms):
    m = polymer_molecule(smiles, "periodic")
    assert m.GetIntProp(UNITS_PROP) == k and m.GetNumAtoms() == atoms
    # every backbone atom is in the closing ring, nothing is left of the '*'
    assert all(a.GetAtomicNum() > 0 for a in m.GetAtoms())
    assert parse_representation("periodic") == ("periodic", 6, "")


def test_vinyl_periodic_ring_is_the_cyclic_trimer():
    a = Chem.MolToSmiles(polymer_molecule(PS, "periodic"))
    b = Chem.MolToSmiles(polymer_molecule(PS, "cyclic:3"))
    assert a == b


def test_aromatic_macrocycle_has_plain_sssr():
    """The symmetrized SSSR of this aramid's cyclic trimer holds 262,162 rings; the periodic
    ring has its six benzene rings and the one closing ring."""
    m = periodic_ring(_canon(ARAMID))
    assert m.GetIntProp(UNITS_PROP) == 1
    assert m.GetRingInfo().NumRings() == 7


@pytest.mark.parametrize("rep", ["periodic:2", "periodic:x", "periodic:6:1"])
def test_bad_periodic_representation(rep):
    with pytest.raises(InvalidInputError, match="representation"):
        parse_representation(rep)


def test_fast_path_equals_rdkit_functions():
    """Shared intermediates (E-state, Gasteiger, Crippen, BCUT2D, Morgan, FilterCatalog screen)
    give exactly what RDKit's descriptor functions give one by one."""
    fz = get_featurizer("rdkit2d_periodic")
    mols = [molecule_for("polymer", _canon(s), "periodic") for s in POLYMERS]
    mols += [Chem.MolFromSmiles(s) for s in SOLVENTS]
    for m in mols:
        fast, ref = fz(m), fz.reference(m)
        same = np.isclose(fast, ref, rtol=1e-5, atol=1e-6) | (np.isnan(fast) & np.isnan(ref))
        bad = [fz.feature_names[j] for j in np.flatnonzero(~same)]
        assert not bad, (Chem.MolToSmiles(m), bad)
        assert np.isfinite(fast).mean() > 0.95


def _vec(fz, smiles, rep):
    return dict(zip(fz.feature_names, fz(molecule_for("polymer", _canon(smiles), rep))))


@pytest.mark.parametrize("smiles", [PET, NYLON6, "*Oc1ccc(cc1)S(=O)(=O)c1ccc(*)cc1"])
def test_values_are_per_repeat_unit(smiles):
    """A ring of one unit and a ring of two give the same per-unit local descriptors."""
    fz = get_featurizer("rdkit2d_periodic")
    one, two = _vec(fz, smiles, "periodic:6"), _vec(fz, smiles, "periodic:40")
    assert polymer_molecule(smiles, "periodic:40").GetIntProp(UNITS_PROP) >= 2
    for n in ("MolWt", "HeavyAtomCount", "TPSA", "MolLogP", "MolMR", "NumHDonors", "NumHAcceptors", "Chi1",
              "NumValenceElectrons", "fr_ester", "fr_amide", "RingCount", "NumAromaticRings", "SlogP_VSA2",
              "MaxPartialCharge", "FractionCSP3"):
        assert one[n] == pytest.approx(two[n], rel=1e-4, abs=1e-6), n


@pytest.mark.parametrize("smiles", POLYMERS)
def test_ring_counts_are_the_units_own(smiles):
    """Ring counts per unit leave the closing ring out: they equal RDKit's counts on the bare
    (H-capped) unit, whose rings are the unit's own."""
    fz = get_featurizer("rdkit2d_periodic")
    got = _vec(fz, smiles, "periodic")
    unit = polymer_molecule(smiles, "unit")
    for n in ("RingCount", "NumAromaticRings", "NumAliphaticRings", "NumSaturatedRings", "NumHeterocycles",
              "NumAromaticHeterocycles", "NumAromaticCarbocycles", "NumAliphaticHeterocycles",
              "NumAliphaticCarbocycles", "NumSaturatedHeterocycles", "NumSaturatedCarbocycles"):
        assert got[n] == getattr(Descriptors, n)(unit), n
    if smiles == PS:
        assert got["RingCount"] == 1 and got["NumAromaticRings"] == 1  # not 4/3: no cyclohexane backbone


def test_vinyl_matches_cyclic_trimer_over_three():
    fast, slow = get_featurizer("rdkit2d_periodic"), get_featurizer("rdkit2d")
    a = dict(zip(fast.feature_names, fast(polymer_molecule(PS, "periodic"))))
    b = dict(zip(slow.feature_names, slow(polymer_molecule(PS, "cyclic:3"))))
    for n in ("MolWt", "TPSA", "MolLogP", "Chi2n", "LabuteASA", "PEOE_VSA7", "fr_benzene", "NumRotatableBonds"):
        assert a[n] == pytest.approx(b[n] / 3, rel=1e-5), n
    for n in ("MaxPartialCharge", "BCUT2D_MWHI", "MaxEStateIndex"):
        assert a[n] == pytest.approx(b[n], rel=1e-5), n


def test_featurize_guarded_with_own_cache(tmp_path):
    smiles = [PS, PET, ARAMID, "not a smiles"]
    ft = featurize(smiles, "polymer", featurizer="rdkit2d_periodic", representation="periodic", cache_root=tmp_path,
                   n_jobs=1, progress=False)
    assert ft.status == ["ok", "ok", "ok", "invalid"]
    assert ft.featurizer == "rdkit2d_periodic" and ft.X.shape == (4, len(get_featurizer("rdkit2d_periodic")))
    assert any(p.name.startswith("rdkit2d_periodic-v1") for p in tmp_path.iterdir())
    again = featurize(smiles, "polymer", featurizer="rdkit2d_periodic", representation="periodic",
                      cache_root=tmp_path, n_jobs=1, progress=False)
    assert again.n_computed == 0 and np.allclose(again.X, ft.X, equal_nan=True)
    sol = featurize(SOLVENTS[:3], "solvent", featurizer="rdkit2d_periodic", cache_root=tmp_path, guarded=False,
                    progress=False)
    assert sol.ok.all()
