"""xtb engines: registry, availability report, results and failure paths."""
from __future__ import annotations

import sys

import numpy as np
import pytest

from chiscreen.errors import RegistryError
from chiscreen.qc import ENGINES, engines_available, make_engine
from chiscreen.qc.results import EngineUnavailableError, SCFError

WATER_Z = np.array([8, 1, 1])
WATER_X = np.array([[0.0, 0.0, 0.0], [0.9572, 0.0, 0.0], [-0.2400, 0.9266, 0.0]])


def test_registry_and_availability():
    assert ENGINES.keys() == ["tblite", "xtb-python"]
    av = engines_available()
    assert set(av) == {"tblite", "xtb-python"}
    assert all(v is None or isinstance(v, str) for v in av.values())
    with pytest.raises(RegistryError, match="unknown xtb engine"):
        make_engine("gaussian")
    with pytest.raises(TypeError):
        make_engine("tblite", bogus_option=1)


def test_missing_package_is_reported(monkeypatch):
    monkeypatch.setitem(sys.modules, "tblite.interface", None)  # import raises ImportError
    assert engines_available()["tblite"] is None
    with pytest.raises(EngineUnavailableError):
        make_engine("tblite").compute(WATER_Z, WATER_X)


def test_tblite_charges_dipoles_and_scf_failure():
    pytest.importorskip("tblite.interface", reason="tblite is not installed")
    el = make_engine("tblite").compute(WATER_Z, WATER_X)
    assert el.charges.shape == (3,) and el.dipoles.shape == (3, 3)
    assert abs(el.charges.sum()) < 1e-6 and el.charges[0] < -0.4
    assert -6 < el.energy < -4
    e, g = make_engine("tblite").energy_and_gradient(WATER_Z, WATER_X)
    assert g.shape == (3, 3) and np.isfinite(e)
    with pytest.raises(SCFError):
        make_engine("tblite", max_iter=1).compute(WATER_Z, WATER_X)


def test_xtb_python_charges_only_and_scf_failure():
    pytest.importorskip("xtb.interface", reason="xtb-python (PyPI xtb) is not installed")
    el = make_engine("xtb-python").compute(WATER_Z, WATER_X)
    assert el.dipoles is None and el.charges.shape == (3,)
    assert abs(el.charges.sum()) < 1e-6
    with pytest.raises(SCFError):
        make_engine("xtb-python", max_iter=1).compute(WATER_Z, WATER_X)


def test_gfn2_relaxation_lowers_energy():
    pytest.importorskip("tblite.interface", reason="tblite is not installed")
    from chiscreen.qc.geometry import embed_conformers, molecule_with_h, relax

    _, mol = molecule_with_h("solvent", "CO")
    conf = embed_conformers(mol, 1)[0]
    eng = make_engine("tblite")
    e0 = eng.compute(conf.numbers, conf.positions).energy
    e1 = eng.compute(conf.numbers, relax(eng, conf).positions).energy
    assert e1 <= e0 + 1e-8
