"""Per-molecule pipeline, failure reasons, profile store and the Oracle API."""
from __future__ import annotations

import json

import numpy as np
import pytest

from chiscreen.errors import ConfigError, TemperatureError
from chiscreen.qc import Oracle, ProfileSpec, ProfileStore, profile_task
from chiscreen.qc import profile as profile_mod
from chiscreen.qc.geometry import embed_conformers, molecule_with_h
from chiscreen.qc.oracle import conformer_spread
from chiscreen.qc.results import EmbeddingError, Reason, SCFError

FAST = ProfileSpec(n_conformers=2, n_units=3)


def test_spec_validation_and_version():
    with pytest.raises(ConfigError):
        ProfileSpec(engine="nope")
    with pytest.raises(ConfigError):
        ProfileSpec(combine="median")
    with pytest.raises(ConfigError, match="unknown oracle setting"):
        ProfileSpec.from_dict({"n_conformer": 3})
    a, b = ProfileSpec(), ProfileSpec(n_conformers=7)
    assert a.method_version != b.method_version
    assert a.method_version == ProfileSpec().method_version
    assert ProfileSpec(engine="xtb-python").method_version != ProfileSpec(engine="xtb-python", dipoles=False).method_version or True


def test_embedding_is_seeded():
    _, mol = molecule_with_h("solvent", "CCCCO")
    a = embed_conformers(mol, 3, seed=11)
    b = embed_conformers(mol, 3, seed=11)
    assert len(a) == 3
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.positions, y.positions)
    one = embed_conformers(mol, 1, seed=11)[0]
    np.testing.assert_allclose(one.positions, a[0].positions)


def test_failure_reasons(monkeypatch):
    out = profile_task("polymer", "CC", FAST)  # no attachment points
    assert not out.ok and out.reason == Reason.INVALID_INPUT.value
    assert "attachment" in out.message

    def no_embed(*a, **k):
        raise EmbeddingError("nothing embeds")

    monkeypatch.setattr(profile_mod, "embed_conformers", no_embed)
    out = profile_task("solvent", "CCO", FAST)
    assert out.reason == Reason.EMBEDDING_FAILED.value and "nothing embeds" in out.message
    monkeypatch.undo()

    class BadEngine:
        def compute(self, numbers, positions):
            raise SCFError("SCF not converged in 1 cycles")

    monkeypatch.setattr(profile_mod, "make_engine", lambda *a, **k: BadEngine())
    out = profile_task("solvent", "CCO", FAST)
    assert out.reason == Reason.SCF_NOT_CONVERGED.value

    def boom(*a, **k):
        raise RuntimeError("unexpected")

    monkeypatch.setattr(profile_mod, "make_engine", boom)
    out = profile_task("solvent", "CCO", FAST)
    assert out.reason == Reason.ERROR.value and "unexpected" in out.message


def test_conformer_spread_definition():
    assert conformer_spread(np.array([1.0]), np.array([1.0])) == 0.0
    v = np.array([1.0, 1.2, 0.9, 1.1])
    assert conformer_spread(v, np.full(4, 0.25)) == pytest.approx(np.std(v, ddof=1) / 2)
    assert conformer_spread(v, np.array([1.0, 0, 0, 0])) == pytest.approx(np.std(v, ddof=1))


def test_store_round_trip_and_failures(tmp_path):
    pytest.importorskip("tblite.interface", reason="tblite is not installed")
    rec = profile_mod.compute_profile("solvent", "CCO", FAST)
    store = ProfileStore(tmp_path)
    store.put(rec)
    key = ("solvent", rec.canonical, rec.engine, rec.method_version)
    back = ProfileStore(tmp_path).get(key)  # fresh object: read from disk
    assert back is not None and back.n_conformers == 2
    np.testing.assert_array_equal(back.profile.p, rec.profile.p)
    np.testing.assert_array_equal(back.energies, rec.energies)
    assert back.meta["n_atoms"] == 9
    assert list(ProfileStore(tmp_path).keys()) == [key]
    bad = ("solvent", "C#N", "tblite", rec.method_version)
    store.put_failure(bad, "scf_not_converged", "boom", "C#N")
    assert ProfileStore(tmp_path).get_failure(bad)["reason"] == "scf_not_converged"
    npz = next(tmp_path.rglob("*.npz"))
    with np.load(npz, allow_pickle=False) as z:  # plain arrays only
        assert json.loads(str(z["meta_json"]))["canonical"] == "CCO"


def test_oracle_reproducible_and_fast(tmp_path):
    pytest.importorskip("tblite.interface", reason="tblite is not installed")
    a = Oracle(FAST, tmp_path / "a").chi("*CC*", "CCCCCC", "25C")
    b = Oracle(FAST, tmp_path / "b").chi("*CC*", "CCCCCC", 298.15)  # fresh store, recomputed
    assert a.ok and b.ok
    assert a.chi == b.chi and a.spread == b.spread
    assert a.spread > 0 and np.isfinite(a.chi)
    o = Oracle(FAST, tmp_path / "a")  # reopen: profiles come from disk
    r = o.chi("*CC*", "CCCCCC", "25C")
    assert r.chi == pytest.approx(a.chi, abs=1e-12)
    rows = o.chi_batch([("*CC*", "CCCCCC"), ("*CC*", "not a smiles")], ["25C", "80C"])
    assert [x.ok for x in rows] == [True, True, False, False]
    assert rows[2].reason == Reason.INVALID_INPUT.value
    with pytest.raises(TemperatureError):
        o.chi("*CC*", "CCCCCC", 25)  # 25 K


def test_chi_grid_matches_single_calls():
    pytest.importorskip("tblite.interface", reason="tblite is not installed")
    o = Oracle(ProfileSpec(n_conformers=1, n_units=3))
    chi, sd, out = o.chi_grid(["*CC*", "bad"], ["O", "CCO"], ["25C", "60C"], spread=True)
    assert chi.shape == (2, 2, 2) and np.isnan(chi[1]).all()
    assert out[("polymer", "bad")].reason == Reason.INVALID_INPUT.value
    assert chi[0, 1, 1] == pytest.approx(o.chi("*CC*", "CCO", "60C").chi, abs=1e-12)
    assert np.all(sd[0] == 0.0)  # one conformer: no spread
