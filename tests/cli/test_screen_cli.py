"""chiscreen catalog / screen / demo driven through main() with argv."""
import json

import pandas as pd
import pytest

from chiscreen.cli.main import main
from chiscreen.features import get_featurizer
from chiscreen.model import ChiEnsemble, save_artifact
from chiscreen.paths import project_root

ROOT = project_root()


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    n = len(get_featurizer("rdkit2d"))
    d = tmp_path_factory.mktemp("model")
    save_artifact(ChiEnsemble.random(n, n, n_members=3, d=6, seed=0), d)
    return d


@pytest.fixture(scope="module")
def tiny_catalogs(tmp_path_factory):
    d = tmp_path_factory.mktemp("cat")
    pd.DataFrame({"name": ["PS", "PE", "PMMA", "bad", "PS again"], "abbreviation": ["PS", "PE", "PMMA", "X", "Y"],
                  "smiles": ["*CC(*)c1ccccc1", "*CC*", "*CC(*)(C)C(=O)OC", "*C(*)(*)", "*C(c1ccccc1)C*"]}).to_csv(
        d / "polymers.csv", index=False)
    pd.DataFrame({"name": ["toluene", "acetone", "water", "n-hexane", "THF", "not a molecule"],
                  "smiles": ["Cc1ccccc1", "CC(C)=O", "O", "CCCCCC", "C1CCOC1", "C1CC"],
                  "cas": ["108-88-3", "67-64-1", "7732-18-5", "110-54-3", "109-99-9", None]}).to_csv(
        d / "solvents.csv", index=False)
    return d


def _config(tmp_path, cats, model, extra=""):
    p = tmp_path / "screen.yaml"
    p.write_text(f"polymers: {cats / 'polymers.csv'}\nsolvents: {cats / 'solvents.csv'}\nmodel: {model}\n"
                 "temperatures: ['25C', '353.15K']\nquery:\n  top_k_per_polymer: 2\n  top_k_per_solvent: 1\n"
                 "engine:\n  kind: plain\n  shard_size: 2\nfeaturize:\n  n_jobs: 1\n" + extra)
    return p


def test_catalog_build_reports_invalid_rows(tmp_path, tiny_catalogs, capsys):
    out = tmp_path / "p.parquet"
    assert main(["catalog", "build", str(tiny_catalogs / "polymers.csv"), "--kind", "polymer", "--output", str(out)]) == 0
    text = capsys.readouterr().out
    assert "5 polymer rows: 3 ok, 1 invalid, 1 duplicate" in text
    assert "row 3 invalid" in text and "row 4 duplicate" in text and str(out) in text
    df = pd.read_parquet(out)
    assert list(df.status) == ["ok", "ok", "ok", "invalid", "duplicate"] and df.reason[3]


def test_catalog_build_solvents_with_greenness(tmp_path, tiny_catalogs, capsys, shared_data):
    out = tmp_path / "s.parquet"
    assert main(["catalog", "build", str(tiny_catalogs / "solvents.csv"), "--kind", "solvent", "--greenness",
                 "--out", str(out)]) == 0  # the old spelling of --output still works
    assert "6 solvent rows: 5 ok, 1 invalid, 0 duplicate" in capsys.readouterr().out
    df = pd.read_parquet(out)
    assert df.gsk_g_score.notna().sum() >= 4


def test_catalog_enumerate(tmp_path, capsys):
    out = tmp_path / "e.parquet"
    assert main(["catalog", "enumerate", "--rules", "polycarbonate", "--jobs", "1", "--no-progress",
                 "--output", str(out)]) == 0
    assert "unique valid" in capsys.readouterr().out
    df = pd.read_parquet(out)
    assert len(df) >= 40 and df.canonical.is_unique and (df.rule == "polycarbonate").all()


def test_screen_writes_resumes_and_refuses_to_mix(tmp_path, tiny_catalogs, model_dir, capsys):
    cfg = _config(tmp_path, tiny_catalogs, model_dir)
    out = tmp_path / "run"
    assert main(["screen", "--config", str(cfg), "--out", str(out), "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "screened 3 polymers x 5 solvents x 2 temperature(s) = 30 pairs" in text and str(out) in text
    pairs = pd.read_parquet(out / "pairs")
    assert len(pairs) == 3 * 2 * 2
    summary = json.loads((out / "summary.json").read_text())
    assert (summary["polymers"]["rows"], summary["polymers"]["scored"]) == (5, 3)
    assert [b["status"] for b in summary["polymers"]["not_scored"]] == ["not scored", "not scored"]
    assert "attachment" in summary["polymers"]["not_scored"][0]["reason"]
    assert "2 polymers not scored" in text
    assert main(["screen", "--config", str(cfg), "--out", str(out), "--no-progress"]) == 0
    assert "(resumed)" in capsys.readouterr().out
    other = tmp_path / "other_model"
    save_artifact(ChiEnsemble.random(len(get_featurizer("rdkit2d")), len(get_featurizer("rdkit2d")), n_members=3, d=6,
                                     seed=1), other)
    assert main(["screen", "--config", str(cfg), "--out", str(out), "--model", str(other), "--no-progress"]) == 2
    assert "refusing to mix" in capsys.readouterr().err


def test_screen_bad_config_exits_2(tmp_path, tiny_catalogs, model_dir, capsys):
    cfg = _config(tmp_path, tiny_catalogs, model_dir, extra="unknown_key: 1\n")
    assert main(["screen", "--config", str(cfg), "--out", str(tmp_path / "x")]) == 2
    assert "unknown_key" in capsys.readouterr().err


@pytest.mark.slow
def test_demo_runs_on_the_shipped_catalogs(tmp_path, model_dir, capsys):
    assert main(["demo", "--engine", "plain", "--model", str(model_dir), "--out", str(tmp_path / "demo"),
                 "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "PS = polystyrene: best solvents at 25 C (lowest chi + std)" in text and "PMMA" in text and "selective dissolution" in text
    assert str(tmp_path / "demo") in text


def test_demo_rerun_replaces_its_own_earlier_results_only(tmp_path, tiny_catalogs, model_dir, capsys, monkeypatch):
    """A demo folder written with another model is replaced on rerun (one line says so; a file chiscreen
    did not write stays); a folder of another screen is still refused, and a foreign folder too.
    Cheap: configs/screen-demo.yaml in the working directory points the demo at the tiny catalogs."""
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "screen-demo.yaml").write_text(
        f"polymers: {tiny_catalogs / 'polymers.csv'}\nsolvents: {tiny_catalogs / 'solvents.csv'}\n"
        "temperatures: ['25C']\nquery:\n  top_k_per_polymer: 2\n  top_k_per_solvent: 1\n"
        "engine:\n  kind: plain\n  shard_size: 2\nfeaturize:\n  n_jobs: 1\n")
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "demo"
    argv = ["demo", "--model", str(model_dir), "--out", str(out), "--no-progress", "--no-recycle"]
    assert main(argv) == 0
    man_path = out / "manifest.json"
    man = json.loads(man_path.read_text())
    assert man["job"] == "demo"
    real_hash = man["model_hash"]
    man["model_hash"] = "0123456789abcdef"  # as if written by an earlier shipped model
    man_path.write_text(json.dumps(man))
    (out / "notes.txt").write_text("mine")
    capsys.readouterr()
    assert main(argv) == 0
    text = capsys.readouterr().out
    replaced = [l for l in text.splitlines() if l.startswith("replaced the earlier demo results")]
    assert replaced == [f"replaced the earlier demo results in {out} (model changed); other files there were kept"]
    assert json.loads(man_path.read_text())["model_hash"] == real_hash
    assert (out / "notes.txt").read_text() == "mine" and any((out / "pairs").glob("shard-*.parquet"))

    # a demo folder from before the manifest said "demo" (same query pins): replaced too
    man = json.loads(man_path.read_text())
    del man["job"]
    man["model_hash"] = "0123456789abcdef"
    man_path.write_text(json.dumps(man))
    assert main(argv) == 0
    assert "replaced the earlier demo results" in capsys.readouterr().out

    # another screen's results (written by `chiscreen screen`) are not the demo's: refused, left alone
    man = json.loads(man_path.read_text())
    man.update(job="screen", model_hash="0123456789abcdef")
    man_path.write_text(json.dumps(man))
    assert main(argv) == 2
    assert "holds results of a different screen" in capsys.readouterr().err
    assert json.loads(man_path.read_text())["model_hash"] == "0123456789abcdef"
    assert main(argv + ["--overwrite"]) == 0  # unless asked
    assert json.loads(man_path.read_text())["model_hash"] == real_hash and (out / "notes.txt").exists()

    foreign = tmp_path / "theirs"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("x")
    capsys.readouterr()
    assert main(["demo", "--model", str(model_dir), "--out", str(foreign), "--no-progress", "--no-recycle"]) == 2
    assert "not written by chiscreen" in capsys.readouterr().err
    assert [p.name for p in foreign.iterdir()] == ["precious.txt"]
