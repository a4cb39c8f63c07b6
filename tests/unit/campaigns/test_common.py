"""Campaign solvent facts: the shipped catalog gets its boiling points by CAS through the campaign's own
loader, and reference data that cannot be found is named as the cause (never reported as if every
solvent lacked a boiling point)."""
import json
import logging
import math

import numpy as np
import pytest

from chiscreen.campaigns.common import load_solvents


def test_campaign_loader_joins_boiling_points(shared_data):
    ok, bad, _ = load_solvents("catalogs/solvents.csv")
    assert len(ok) >= 200 and bad.empty and "cas" in ok.columns
    known = np.isfinite(ok["bp_K"].astype(float))
    assert known.sum() >= 190, f"only {known.sum()} of {len(ok)} boiling points found"
    assert (ok.loc[known, "bp_source"] != "").all()
    assert ok.loc[~known, "bp_source"].str.startswith("CAS ").all()   # each unknown names its own CAS


@pytest.fixture
def no_reference_data(tmp_path, monkeypatch):
    """A checkout with no ../shared/data beside it (a copy elsewhere, a Ray job's working dir)."""
    import chiscreen.catalogs.facts as facts
    import chiscreen.data.locator as locator

    empty = tmp_path / "empty-data"
    empty.mkdir()
    monkeypatch.setenv("CHISCREEN_DATA", str(empty))
    monkeypatch.setattr(locator, "project_root", lambda: tmp_path / "elsewhere" / "checkout")
    work = tmp_path / "cwd" / "x"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    monkeypatch.setattr(facts, "_BP_TABLE", None)
    return tmp_path


def test_missing_reference_data_is_named(no_reference_data, caplog):
    from chiscreen.catalogs.facts import boiling_point, boiling_point_data_problem

    problem = boiling_point_data_problem()
    assert problem and "solvent_properties.csv" in problem and "CHISCREEN_DATA" in problem
    bp, why = boiling_point("108-88-3")
    assert math.isnan(bp) and "CHISCREEN_DATA" in why


@pytest.mark.slow
def test_recycle_says_the_data_is_missing(no_reference_data, capsys, caplog, shared_data):
    import pandas as pd

    from chiscreen.cli.main import main

    tmp = no_reference_data
    pd.DataFrame({"name": ["toluene", "o-xylene"], "smiles": ["Cc1ccccc1", "Cc1ccccc1C"],
                  "cas": ["108-88-3", "95-47-6"]}).to_csv(tmp / "s.csv", index=False)
    (tmp / "r.yaml").write_text(f"mixture: [PE, PS]\ntarget: PS\ntemperatures: {{min: 25C, max: 75C, step_K: 50}}\n"
                                f"solvents: {tmp / 's.csv'}\n")
    with caplog.at_level(logging.WARNING, logger="chiscreen.campaigns"):
        assert main(["campaign", "recycle", "--config", str(tmp / "r.yaml"), "--out", str(tmp / "o"),
                     "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "boiling points unknown for all 2 solvents" in text and "solvent_properties.csv" in text
    assert "solvents have no boiling point" not in text
    assert any("solvent_properties.csv" in r.getMessage() for r in caplog.records)
    s = json.loads((tmp / "o" / "campaign.json").read_text())
    assert "solvent_properties.csv" in s["failures"]["boiling_point_data"]
    assert s["counts"]["works"] == 0                      # unknown boiling point: never certified
