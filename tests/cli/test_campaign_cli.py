"""chiscreen campaign / phase through main(argv): bad input gives one clear line and exit 2; a small
recycling campaign with the shipped model writes its folder and never certifies an unknown."""
import json

import pandas as pd
import pytest

from chiscreen.cli.main import main

SOLVENTS = pd.DataFrame({"name": ["toluene", "decalin", "pinacolone", "water", "o-xylene", "not a molecule"],
                         "smiles": ["Cc1ccccc1", "C1CCC2CCCCC2C1", "CC(=O)C(C)(C)C", "O", "Cc1ccccc1C", "C1CC"],
                         "cas": ["108-88-3", "91-17-8", "75-97-8", "7732-18-5", "95-47-6", None]})


def _cfg(tmp_path, body: str, solvents=None):
    p = tmp_path / "c.yaml"
    p.write_text(body + (f"\nsolvents: {solvents}\n" if solvents else ""))
    return str(p)


@pytest.mark.parametrize("body,msg", [
    ("mixture: [PE, polyunobtainium]\ntarget: PE", "unknown polymer 'polyunobtainium'"),
    ("mixture: []\ntarget: PE", "'mixture' is empty"),
    ("mixture: [PE, PS]\ntarget: PET", "target 'PET' is not in the mixture"),
    ("mixture: [PE, PS]\ntarget: PE\ntemperatures: {min: 150C, max: 25C}", "reversed or empty range"),
    ("mixture: [PE, PS]\ntarget: PE\ncolour: blue", "colour"),
    ("mixture: [PE, PE]\ntarget: PE", "same polymer twice"),
    ("mixture: [PE, '*C(*)(*)']\ntarget: PE", "*C(*)(*)"),
])
def test_recycle_bad_input_is_one_clear_line(tmp_path, capsys, body, msg):
    rc = main(["campaign", "recycle", "--config", _cfg(tmp_path, body), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and msg in err and len(err.splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()          # validated before anything is written


@pytest.mark.slow
def test_small_recycle_campaign_with_shipped_model(tmp_path, capsys, shared_data):
    SOLVENTS.to_csv(tmp_path / "solvents.csv", index=False)
    cfg = _cfg(tmp_path, "mixture: [PE, iPP, PS]\ntarget: PE\ntemperatures: {min: 25C, max: 175C, step_K: 25}",
               tmp_path / "solvents.csv")
    out = tmp_path / "run"
    assert main(["campaign", "recycle", "--config", cfg, "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "dissolve PE out of PE, iPP, PS" in text and str(out) in text
    t = pd.read_csv(out / "solvents.csv")
    assert set(t["solvent"]) == set(SOLVENTS["name"][:5])
    pin = t[t["solvent"] == "pinacolone"].iloc[0]          # no boiling point: never "works"
    assert pin["status"] in ("unknown", "no")
    assert (t.loc[t["status"] == "works", "T_work_C"] >= 75).all()   # PE never works at room temperature
    summary = json.loads((out / "campaign.json").read_text())
    assert "pinacolone" in summary["failures"]["solvents_without_boiling_point"]
    assert summary["failures"]["invalid_solvent_rows"][0]["name"] == "not a molecule"
    assert summary["provenance"]["model"]["artifact_hash"]
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 1 and "pinacolone" in page
    # a second run refuses the folder unless --overwrite; a foreign folder is refused outright
    assert main(["campaign", "recycle", "--config", cfg, "--out", str(out), "--no-progress"]) == 2
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep")
    assert main(["campaign", "recycle", "--config", cfg, "--out", str(foreign), "--no-progress"]) == 2
    assert (foreign / "precious.txt").read_text() == "keep"


def test_phase_bad_input(tmp_path, capsys):
    assert main(["phase", "--polymer", "polyunobtainium", "--solvent", "C1CCCCC1", "--out", str(tmp_path / "p")]) == 2
    assert "unknown polymer" in capsys.readouterr().err
    assert main(["phase", "--polymer", "PS", "--solvent", "C1CCCCC1", "--tmin", "100C", "--tmax", "20C",
                 "--out", str(tmp_path / "p")]) == 2
    assert "reversed" in capsys.readouterr().err


@pytest.mark.slow
def test_phase_diagram_ps_cyclohexane(tmp_path, capsys):
    out = tmp_path / "ph"
    assert main(["phase", "--polymer", "PS", "--solvent", "C1CCCCC1", "--mw", "100000", "--tmin", "0C", "--tmax", "100C",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "N = " in text and ("UCST" in text or "LCST" in text or "no critical temperature" in text)
    t = pd.read_csv(out / "phase.csv")
    two = t.dropna(subset=["binodal_lo"])
    assert (two["binodal_lo"] <= two["spinodal_lo"]).all() and (two["spinodal_hi"] <= two["binodal_hi"]).all()
    assert (out / "phase.png").read_bytes()[:4] == b"\x89PNG"
    s = json.loads((out / "campaign.json").read_text())
    assert s["chi_c"] == pytest.approx(0.5 * (1 + s["N"] ** -0.5) ** 2)


def test_compatibilizer_bad_input(tmp_path, capsys):
    rc = main(["campaign", "compatibilizer", "--config", _cfg(tmp_path, "polymer_a: PE\npolymer_b: '*CC*'"),
               "--out", str(tmp_path / "o")])
    assert rc == 2 and "same repeat unit" in capsys.readouterr().err
    rc = main(["campaign", "compatibilizer", "--config", _cfg(tmp_path, "polymer_a: PE\npolymer_b: nope"),
               "--out", str(tmp_path / "o")])
    assert rc == 2 and "unknown polymer 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_small_compatibilizer_campaign(tmp_path, capsys):
    SOLVENTS.to_csv(tmp_path / "solvents.csv", index=False)
    pd.DataFrame({"name": ["polyethylene", "polystyrene", "poly(methyl methacrylate)"], "abbreviation": ["PE", "PS", "PMMA"],
                  "smiles": ["*CC*", "*CC(*)c1ccccc1", "*CC(*)(C)C(=O)OC"]}).to_csv(tmp_path / "polymers.csv", index=False)
    cfg = _cfg(tmp_path, f"polymer_a: PE\npolymer_b: PS\ntemperature: 200C\nadditives: {tmp_path / 'solvents.csv'}\n"
                         f"polymers: {tmp_path / 'polymers.csv'}")
    out = tmp_path / "c"
    assert main(["campaign", "compatibilizer", "--config", cfg, "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "UNCALIBRATED" in text and "max(chi_PE, chi_PS)" in text
    add = pd.read_csv(out / "additives.csv")
    assert len(add) == 5 and (add["max_chi"].diff().dropna() >= -0.0051).all()
    assert ((add["max_chi"] - add[["chi[PE]", "chi[PS]"]].max(axis=1)).abs() < 1e-9).all()
    assert (out / "block_pairs.csv").is_file() and (out / "report.html").is_file()


def test_job_entrypoint_takes_the_cli_options(tmp_path, capsys):
    import importlib.util

    from chiscreen.paths import project_root

    spec = importlib.util.spec_from_file_location("job_campaign", project_root() / "jobs" / "campaign.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    rc = mod.main(["recycle", "--config", _cfg(tmp_path, "mixture: [PE, PS]\ntarget: PET"), "--out",
                   str(tmp_path / "o"), "--no-progress", "--overwrite"])
    assert rc == 2 and "target 'PET' is not in the mixture" in capsys.readouterr().err


def test_report_command_on_a_folder(tmp_path, capsys):
    d = tmp_path / "screen"
    d.mkdir()
    pd.DataFrame({"solvent_id": [1], "chi": [0.3]}).to_parquet(d / "top_per_solvent.parquet")
    (d / "summary.json").write_text('{"pairs_total": 30}')
    assert main(["report", "--from", str(d), "--output", str(tmp_path / "r.html")]) == 0
    assert str(tmp_path / "r.html") in capsys.readouterr().out
    page = (tmp_path / "r.html").read_text()
    assert "top_per_solvent.parquet" in page and "pairs_total" in page
    assert main(["report", "--from", str(tmp_path / "missing")]) == 2
    assert "not a results folder" in capsys.readouterr().err
