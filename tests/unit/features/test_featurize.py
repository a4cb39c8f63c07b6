import numpy as np
import pytest
from rdkit import Chem
from rdkit.Chem import Descriptors

from chiscreen.errors import InvalidInputError
from chiscreen.features import FEATURIZERS, featurize, get_featurizer, parse_representation, polymer_molecule
from chiscreen.features.base import to_float32


def test_registry_and_lengths():
    assert {"rdkit2d", "morgan"} <= set(FEATURIZERS.keys())
    fz = get_featurizer("rdkit2d")
    assert len(fz) == len(Descriptors.descList) == len(fz.feature_names)
    assert "log_Ipc" in fz.feature_names and "Ipc" not in fz.feature_names
    v = fz(Chem.MolFromSmiles("c1ccccc1O"))
    assert v.dtype == np.float32 and v.shape == (len(fz),)
    i = fz.feature_names.index("log_Ipc")
    assert v[i] == pytest.approx(np.log(Descriptors.Ipc(Chem.MolFromSmiles("c1ccccc1O"))), rel=1e-5)
    m = get_featurizer("morgan")(Chem.MolFromSmiles("CCCC"))
    assert m.dtype == np.float32 and m.sum() > 0 and len(m) == 2048


def test_nan_policy():
    x = to_float32([1.0, np.inf, -np.inf, np.nan, 1e300, 2.5])
    assert x.dtype == np.float32
    assert np.isnan(x[[1, 2, 3, 4]]).all() and x[0] == 1 and x[5] == 2.5


@pytest.mark.parametrize("rep,atoms", [("cyclic:3", 24), ("cyclic:10", 80), ("linear:3:H", 24), ("linear:3:CH3", 26),
                                       ("unit", 8)])
def test_representations(rep, atoms):
    assert polymer_molecule("*CC(*)c1ccccc1", rep).GetNumAtoms() == atoms


@pytest.mark.parametrize("rep", ["cyclic", "cyclic:x", "linear:3", "linear:3:OH", "ring:3"])
def test_bad_representation(rep):
    with pytest.raises(InvalidInputError, match="representation"):
        parse_representation(rep)


def test_featurize_records_invalid_and_caches(tmp_path):
    smiles = ["*CC(*)c1ccccc1", "*C(c1ccccc1)C*", "not a smiles", "*CC*"]
    ft = featurize(smiles, "polymer", cache_root=tmp_path, n_jobs=1, progress=False)
    assert ft.status == ["ok", "ok", "invalid", "ok"]
    assert "not a smiles" in ft.reason[2]
    assert ft.n_computed == 2  # the two polystyrene spellings share one identity
    assert np.array_equal(ft.X[0], ft.X[1]) or np.allclose(ft.X[0], ft.X[1], equal_nan=True)
    assert np.isnan(ft.X[2]).all()
    again = featurize(smiles, "polymer", cache_root=tmp_path, n_jobs=1, progress=False)
    assert again.n_computed == 0
    assert np.allclose(again.X, ft.X, equal_nan=True)


def test_guard_kills_a_hanging_molecule_and_caches_the_failure(tmp_path):
    """RDKit ring perception on this polyimide's cyclic 10-mer runs for tens of seconds or
    exhausts memory inside C++: the guard must end it and carry on with the others."""
    polyimide = "*c1ccc(Oc2ccc(N3C(=O)c4cc5C(=O)N(*)C(=O)c5cc4C3=O)cc2)cc1"
    ft = featurize([polyimide, "*CC*"], "polymer", representation="cyclic:10", cache_root=tmp_path,
                   n_jobs=2, timeout_s=2.0, mem_limit_mb=1500, progress=False)
    assert ft.status == ["failed", "ok"]
    assert "timeout" in ft.reason[0] or "memory" in ft.reason[0]
    again = featurize([polyimide], "polymer", representation="cyclic:10", cache_root=tmp_path, progress=False)
    assert again.n_computed == 0 and again.status == ["failed"]


def test_a_hanging_molecule_in_a_batch_fails_alone(tmp_path):
    """Molecules travel several to a pool task; when one of them hangs, the task is retried one
    molecule per task: the others come back ok and the hanging one fails with its own reason."""
    from chiscreen.features.guard import BATCH

    polyimide = "*c1ccc(Oc2ccc(N3C(=O)c4cc5C(=O)N(*)C(=O)c5cc4C3=O)cc2)cc1"
    others = ["*CC*", "*CC(*)C", "*CC(*)c1ccccc1", "*CC(*)Cl", "*CC(*)C#N"]
    smiles = others[:2] + [polyimide] + others[2:]
    assert len(smiles) <= BATCH  # all in one task
    ft = featurize(smiles, "polymer", representation="cyclic:10", cache_root=tmp_path, n_jobs=1,
                   timeout_s=2.0, mem_limit_mb=1500, progress=False)
    assert ft.status == ["ok", "ok", "failed", "ok", "ok", "ok"]
    assert "timeout" in ft.reason[2] or "memory" in ft.reason[2]
    assert all(r == "" for k, r in enumerate(ft.reason) if k != 2)


def test_solvents_inline():
    ft = featurize(["CCO", "O", "CC(C)=O", "c1ccccc1.O"], "solvent", use_cache=False, guarded=False, progress=False)
    assert ft.status == ["ok", "ok", "ok", "invalid"]
    assert ft.keys[:3] == ["CCO", "O", "CC(C)=O"]
