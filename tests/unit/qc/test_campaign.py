"""Oracle data campaign: config, diversity pick, label parts, failures, resume, relabel."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chiscreen.errors import ConfigError
from chiscreen.qc.campaign import (LABEL_COLUMNS, CampaignConfig, k_center, load_campaign_config, random_pick,
                                   relabel, run_campaign, standardize, unit_atoms)

ROOT = Path(__file__).resolve().parents[3]


def tiny_cfg(tmp_path: Path, **over) -> CampaignConfig:
    d = {"name": "tiny",
         "polymers": {"reference": False, "catalog": None, "enumerated": 0, "smiles": ["*CC*", "*CC(*)C"]},
         "solvents": {"reference": False, "catalog": None, "smiles": ["O", "CO"]},
         "temperatures_K": [298.15, 323.15], "store": str(tmp_path / "store"), "part_polymers": 1,
         "run": {"backend": "process", "workers": 1, "timeout_s": 300, "mem_limit_mb": 4000, "progress": False}}
    d.update(over)
    return load_campaign_config(d)


# ---------------------------------------------------------------------------- config
def test_shipped_configs_load():
    for name in ("oracle-campaign.yaml", "oracle-campaign-small.yaml", "oracle-campaign-interim.yaml"):
        cfg = load_campaign_config(ROOT / "configs" / name)
        assert cfg.run.workers <= 2 and cfg.temperatures_K


@pytest.mark.parametrize("bad, match", [
    ({"enumerated_polymers": 3}, "unknown key"),
    ({"polymers": {"max_heavy": 3}}, "unknown key"),
    ({"run": {"backend": "dask"}}, "dask"),
    ({"temperatures_K": [25.0]}, "Kelvin"),
    ({"profile": {"n_confs": 2}}, "unknown oracle setting"),
    ({"run": {"timeout_s": 0}}, "timeout_s"),
])
def test_bad_config_is_a_clear_error(bad, match):
    with pytest.raises(ConfigError, match=match):
        load_campaign_config(bad)


# ---------------------------------------------------------------------------- diversity
def test_k_center_picks_farthest_points_deterministically():
    Z = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [10.0, 0.0], [0.0, 10.0]])
    picks = k_center(Z, 3, centers=np.array([[0.0, 0.0]]))
    assert picks[0] in (3, 4)            # the farthest from the given centre (tie -> lowest index)
    assert picks[0] == 3 and set(picks) == {2, 3, 4}
    assert k_center(Z, 3, centers=np.array([[0.0, 0.0]])) == picks
    assert 1 not in picks                # the near-duplicate of the centre is never chosen first
    assert len(k_center(Z, 10)) == 5     # more asked than rows: every row once
    assert k_center(Z, 2, seed=1) == k_center(Z, 2, seed=1)
    assert k_center(Z, 0) == []


def test_standardize_handles_nan_and_constant_columns():
    X = np.array([[1.0, 2.0, np.nan, 7.0], [2.0, np.inf, np.nan, 7.0], [3.0, 4.0, np.nan, 7.0]])
    Z = standardize(X)
    assert Z.shape == (3, 2) and np.isfinite(Z).all()
    assert np.allclose(Z.mean(0), 0.0)


def test_random_pick_is_seeded_and_unique():
    c = [f"u{i}" for i in range(50)]
    a, b = random_pick(c, 10, seed=3), random_pick(c, 10, seed=3)
    assert a == b and len(set(a)) == 10 and random_pick(c, 10, seed=4) != a
    assert sorted(random_pick(c[:5], 10)) == sorted(c[:5])


def test_unit_atoms_counts_hydrogens_not_stars():
    assert unit_atoms("*CC*") == 6
    assert unit_atoms("*CC(*)c1ccccc1") == 16
    assert unit_atoms("not a smiles") == -1


# ---------------------------------------------------------------------------- runs (tiny real xtb)
@pytest.fixture()
def xtb():
    pytest.importorskip("tblite.interface", reason="tblite is not installed")


def test_campaign_labels_failures_and_resume(tmp_path, xtb):
    cfg = tiny_cfg(tmp_path)
    out = tmp_path / "run"
    # a run stopped after its first label part (as a kill would leave it) ...
    r0 = run_campaign(cfg, out, progress=False, _stop_after_parts=1)
    assert r0.manifest == {"stopped_after_parts": 1}
    part0 = out / "labels" / "part-00000.parquet"
    assert part0.is_file() and not (out / "chi_oracle.parquet").exists()
    mtime = part0.stat().st_mtime_ns
    # ... resumes: the finished part is kept, stored profiles are not recomputed, no row twice
    r = run_campaign(cfg, out, progress=False, command="test")
    assert part0.stat().st_mtime_ns == mtime
    t = pd.read_parquet(r.table)
    assert list(t.columns) == LABEL_COLUMNS
    assert len(t) == 2 * 2 * 2 and not t.duplicated(["polymer_smiles", "solvent_smiles", "temperature_K"]).any()
    assert t["source_row"].tolist() == list(range(len(t)))
    assert np.isfinite(t["chi_oracle"]).all() and (t["chi_oracle_spread"] == 0).all()
    from chiscreen.qc.params import get_params

    assert set(t["polymer_origin"]) == {"extra"} and t["param_set"].iloc[0] == get_params(None).version
    m = r.manifest
    assert m["status"] == "done" and m["rows"] == 8 and m["pairs"] == 4 and m["molecules"]["failed"] == 0
    assert m["molecules"]["profiled_this_run"] <= 1    # only what the stopped run had not finished
    assert m["profiles_computed_all_runs"]["molecules_computed"] == 4   # each molecule once over both runs
    side = json.loads((out / "chi_oracle.json").read_text())
    assert side["rows"] == 8 and side["command"] == "test" and side["profile_method"] == m["profile_method"]
    # a third run does nothing new
    r2 = run_campaign(cfg, out, progress=False)
    assert r2.manifest["molecules"]["profiled_this_run"] == 0
    assert pd.read_parquet(r2.table).equals(t)

    # relabel with the literature parameter set: same rows, other values, nothing computed
    dest, t2 = relabel(out, param_set="sac2010")
    assert dest.is_file() and len(t2) == len(t)
    assert (t2["param_set"].str.startswith("sac2010@")).all()
    assert not np.allclose(t2["chi_oracle"], t["chi_oracle"])
    assert (t2[["polymer_smiles", "solvent_smiles", "temperature_K"]].values ==
            t[["polymer_smiles", "solvent_smiles", "temperature_K"]].values).all()


def test_failed_molecule_gets_a_row_with_reason(tmp_path, xtb):
    cfg = tiny_cfg(tmp_path)
    mols = pd.DataFrame({"kind": ["polymer", "polymer", "solvent"], "smiles": ["*CC*", "*C(*", "O"],
                         "origin": ["extra", "extra", "extra"], "name": ["", "broken", ""]})
    r = run_campaign(cfg, tmp_path / "run", progress=False, molecules=mols)
    f = pd.read_parquet(tmp_path / "run" / "failures.parquet")
    assert f["smiles"].tolist() == ["*C(*"] and f["reason"].tolist() == ["invalid_input"]
    assert r.manifest["failure_reasons"] == {"invalid_input": 1}
    assert r.manifest["failures"][0]["message"]
    t = pd.read_parquet(r.table)
    assert set(t["polymer_smiles"]) == {"*CC*"} and len(t) == 2   # the good polymer still labelled


def test_timeout_is_recorded_not_fatal(tmp_path, xtb):
    cfg = tiny_cfg(tmp_path, run={"backend": "process", "workers": 1, "timeout_s": 0.01, "retries": 0,
                                  "progress": False},
                   polymers={"reference": False, "catalog": None, "enumerated": 0, "smiles": ["*CC(*)c1ccccc1"]},
                   solvents={"reference": False, "catalog": None, "smiles": ["CCCCCCCC"]})
    r = run_campaign(cfg, tmp_path / "run", progress=False)
    assert r.manifest["failure_reasons"] == {"timeout": 2}
    assert "time limit" in r.manifest["failures"][0]["message"]
    assert r.manifest["rows"] == 0


def test_shipped_label_table_matches_its_sidecar():
    """The packaged oracle label table (chiscreen/assets/oracle_labels): contract columns, no (pair, T)
    twice, counts and versions as its JSON sidecar says, a few MB at most."""
    d = ROOT / "chiscreen" / "assets" / "oracle_labels"
    table, side = d / "chi_oracle.parquet", d / "chi_oracle.json"
    assert table.is_file() and side.is_file()
    assert table.stat().st_size < 8 * 2**20
    t = pd.read_parquet(table)
    s = json.loads(side.read_text())
    assert list(t.columns) == LABEL_COLUMNS
    assert len(t) == s["rows"] and t["polymer_smiles"].nunique() == s["polymers"]
    assert t["solvent_smiles"].nunique() == s["solvents"]
    assert not t.duplicated(["polymer_smiles", "solvent_smiles", "temperature_K"]).any()
    assert set(t["param_set"]) == {s["param_set"]} and set(t["profile_method"]) == {s["profile_method"]}
    assert np.isfinite(t["chi_oracle"]).all()
    assert set(t["polymer_origin"]) <= {"reference", "catalog", "enumerated", "extra"}
    assert "jobs/oracle_campaign.py" in s["command"]


def test_wall_budget_leaves_molecules_for_a_later_run(tmp_path, xtb):
    cfg = tiny_cfg(tmp_path, run={"backend": "process", "workers": 1, "timeout_s": 300, "max_wall_s": 0.001,
                                  "progress": False})
    out = tmp_path / "run"
    r = run_campaign(cfg, out, progress=False)
    m = r.manifest
    assert m["status"].startswith("partial") and m["molecules"]["not_run"] >= 1 and m["molecules"]["failed"] == 0
    assert m["molecules"]["not_run"] + m["profiles_computed_all_runs"]["molecules_computed"] == 4
    assert not list((out / "labels").glob("part-*.parquet"))    # no incomplete part is kept
    r2 = run_campaign(tiny_cfg(tmp_path), out, progress=False)    # no budget: completes, nothing twice
    assert r2.manifest["status"] == "done" and r2.manifest["rows"] == 8
    assert r2.manifest["profiles_computed_all_runs"]["molecules_computed"] == 4
