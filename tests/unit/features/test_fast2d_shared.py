"""``rdkit2d_periodic_fast``: the same numbers as ``rdkit2d_periodic`` v1, from shared intermediates."""
import numpy as np
import pytest
from rdkit import Chem

from chiscreen.chem import RepeatUnit
from chiscreen.features import FEATURIZERS, featurize, get_featurizer
from chiscreen.features.fast2d import _fragment_patterns
from chiscreen.features.fast2d_shared import required_elements
from chiscreen.features.representation import molecule_for

# polymers that reach every branch: heavy atoms past neon (S, Cl, Br, Si, P, Se, Sn: ChiNn != ChiNv
# and no Gasteiger parameters for Sn/Se -> BCUT2D NaN), 3- and 4-membered rings (path counts),
# spiro and fused rings, charges, chiral tags, deuterium (an explicit H atom), a para-linked aromatic
# backbone with several closure rings
POLYMERS = [
    "*CC(*)c1ccccc1", "*OCCOC(=O)c1ccc(cc1)C(*)=O", "*NCCCCCC(*)=O", "*CC(*)(C)C(=O)OC", "*CC(*)Cl",
    "*C(F)(F)C(F)(F)*", "*Oc1ccc(cc1)S(=O)(=O)c1ccc(*)cc1", "*CC(*)C#N", "*[Si](C)(C)O*", "*CC(*)c1ccccn1",
    "*CC(*)[N+](C)(C)C", "*CC(*)OC(C)=O", "*C/C=C\\C*", "*CC(*)c1ccc(cc1)S(=O)(=O)O", "*CC(*)C1CC1",
    "*CC(*)C1CCC1", "*CC1(CC1)*", "*C1CC2(CC2)C1*", "*CC(*)C1OC1", "*C[C@H](*)C", "*C[C@@H](*)c1ccccc1",
    "*CC(*)Br", "*CC(*)[Se]C", "*CC(*)[Sn](C)(C)C", "*CC(*)OP(=O)(O)O", "*CC(*)C([2H])([2H])[2H]",
    "*c1ccc(cc1)-c1ccc(*)cc1", "*c1ccc(Oc2ccc(N3C(=O)c4cc5C(=O)N(*)C(=O)c5cc4C3=O)cc2)cc1",
    "*CC(*)c1ccc2ccccc2c1", "*CC(*)(F)COCCCC",  # the last: an E-state exactly on an EState_VSA bin edge
    "*C(=O)Nc1ccc(NC(=O)c2ccc(*)cc2)cc1", "*CC(*)C(=O)[O-]", "*CC(*)N=[N+]=[N-]",
]
SOLVENTS = ["Cc1ccccc1", "CCO", "ClC(Cl)Cl", "[2H]C(Cl)(Cl)Cl", "CS(C)=O", "O", "CC(=O)N(C)C", "c1ccncc1",
            "OP(=O)(O)O", "[Na+].[Cl-]", "C1CC1", "C1CCOC1", "CC[N+](C)(C)C", "BrCCBr", "C[Si](C)(C)Cl", "S=C=S"]


def _mols():
    out = [molecule_for("polymer", RepeatUnit.from_smiles(s).canonical, "periodic") for s in POLYMERS]
    return out + [Chem.MolFromSmiles(s) for s in SOLVENTS]


def _same(a, b):
    return (a == b) | (np.isnan(a) & np.isnan(b))


def test_registered_beside_v1_with_own_name_and_the_same_names():
    v1, fast = get_featurizer("rdkit2d_periodic"), get_featurizer("rdkit2d_periodic_fast")
    assert {"rdkit2d_periodic", "rdkit2d_periodic_fast"} <= set(FEATURIZERS.keys())
    assert v1.version == "1" and (fast.name, fast.version) != (v1.name, v1.version)
    assert fast.feature_names == v1.feature_names and len(fast) == len(v1) == 211


def test_bit_identical_to_v1():
    """Every descriptor equals rdkit2d_periodic v1's float32 value (or both NaN), molecule by molecule."""
    v1, fast = get_featurizer("rdkit2d_periodic"), get_featurizer("rdkit2d_periodic_fast")
    for m in _mols():
        a, b = v1(Chem.Mol(m)), fast(Chem.Mol(m))
        assert b.dtype == np.float32 and b.shape == a.shape
        bad = [v1.feature_names[j] for j in np.flatnonzero(~_same(a, b))]
        assert not bad, (Chem.MolToSmiles(m), bad)


def test_nan_where_rdkit_cannot_compute():
    """No Gasteiger parameters for tin: BCUT2D is NaN as in v1, the rest is computed."""
    fast = get_featurizer("rdkit2d_periodic_fast")
    x = dict(zip(fast.feature_names, fast(molecule_for("polymer", RepeatUnit.from_smiles("*CC(*)[Sn](C)(C)C").canonical,
                                                       "periodic"))))
    assert np.isnan(x["BCUT2D_MWHI"]) and np.isfinite(x["MolLogP"]) and np.isfinite(x["Kappa3"])


def test_required_elements_are_sound():
    """A fragment pattern never matches a molecule that lacks one of its required elements."""
    pats = _fragment_patterns()
    req = {n: required_elements(q) for n, q in pats.items()}
    assert req["fr_nitrile"] == {6, 7} and req["fr_halogen"] == frozenset() and req["fr_Ar_N"] == {7}
    assert req["fr_NH2"] == {7} and req["fr_azide"] == {7} and req["fr_phos_acid"] == {8, 15}
    for m in _mols():
        els = {a.GetAtomicNum() for a in m.GetAtoms()}
        for n, q in pats.items():
            if m.HasSubstructMatch(q):
                assert req[n] <= els, (n, Chem.MolToSmiles(m))


def test_part_failure_leaves_nan_not_a_crash():
    fast = get_featurizer("rdkit2d_periodic_fast")
    m = molecule_for("polymer", RepeatUnit.from_smiles("*CC(*)c1ccccc1").canonical, "periodic")
    fast._atoms_fast = lambda mol, out: (_ for _ in ()).throw(RuntimeError("boom"))  # instance attribute only
    x = dict(zip(fast.feature_names, fast(m)))
    assert np.isnan(x["MolLogP"]) and np.isnan(x["PEOE_VSA1"])
    assert x["Kappa2"] == pytest.approx(dict(zip(fast.feature_names, get_featurizer("rdkit2d_periodic")(m)))["Kappa2"])


def test_featurize_guarded_with_own_cache(tmp_path):
    smiles = ["*CC(*)c1ccccc1", "*NCCCCCC(*)=O", "not a smiles"]
    ft = featurize(smiles, "polymer", featurizer="rdkit2d_periodic_fast", representation="periodic",
                   cache_root=tmp_path, n_jobs=1, progress=False)
    assert ft.status == ["ok", "ok", "invalid"] and ft.featurizer == "rdkit2d_periodic_fast"
    assert any(p.name.startswith("rdkit2d_periodic_fast-v1") for p in tmp_path.iterdir())
    old = featurize(smiles, "polymer", featurizer="rdkit2d_periodic", representation="periodic", cache_root=tmp_path,
                    n_jobs=1, progress=False)
    assert old.n_computed == 2 and np.array_equal(old.X, ft.X, equal_nan=True)


def test_v1_artifact_keeps_loading_and_predicting_identically(tmp_path):
    """An artifact trained on rdkit2d_periodic v1 loads (featurizer check), featurizes with v1 and
    predicts the same numbers before and after saving, and the same from the new featurizer's
    descriptors (which equal v1's)."""
    from chiscreen.model.artifact import load_ensemble, save_artifact
    from chiscreen.model.ensemble import ChiEnsemble

    v1, fast = get_featurizer("rdkit2d_periodic"), get_featurizer("rdkit2d_periodic_fast")
    ens = ChiEnsemble.random(len(v1), len(v1), n_members=2, d=3, featurizer="rdkit2d_periodic",
                             polymer_representation="periodic", hidden_widths=[6])
    assert ens.featurizer_version == "1"
    save_artifact(ens, tmp_path / "m")
    back = load_ensemble(tmp_path / "m")
    assert (back.featurizer, back.featurizer_version) == ("rdkit2d_periodic", "1")
    pm = [molecule_for("polymer", RepeatUnit.from_smiles(s).canonical, "periodic") for s in POLYMERS[:6]]
    sm = [Chem.MolFromSmiles(s) for s in SOLVENTS[:6]]
    T = np.full(6, 300.0)
    Xp1, Xs1 = np.array([v1(m) for m in pm]), np.array([v1(m) for m in sm])
    Xp2, Xs2 = np.array([fast(m) for m in pm]), np.array([fast(m) for m in sm])
    a, b, c = ens.predict_arrays(Xp1, Xs1, T), back.predict_arrays(Xp1, Xs1, T), back.predict_arrays(Xp2, Xs2, T)
    for k in ("chi_exp", "p_soluble"):
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
        np.testing.assert_array_equal(b[k], c[k], err_msg=k)
