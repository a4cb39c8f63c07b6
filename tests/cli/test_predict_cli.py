"""`chiscreen predict / train / evaluate` through main(argv), on a tiny model trained in seconds."""
import json

import numpy as np
import pandas as pd
import pytest

from chiscreen.cli.main import main

POLYS = ["*CC(*)c1ccccc1", "*CC(*)(C)C(=O)OC", "*CC*", "*CC(*)OC(C)=O"]
SOLVS = ["Cc1ccccc1", "CC(C)=O", "CCCCCC", "O", "ClC(Cl)Cl"]


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(0)
    pd.DataFrame([{"polymer_smiles": p, "solvent_smiles": s, "temperature_K": t, "chi": rng.normal(0.6, 0.3),
                   "soluble": int(rng.random() < 0.5)} for p in POLYS for s in SOLVS for t in (298.15, 330.0)]
                 ).to_csv(d / "labels.csv", index=False)
    (d / "cfg.yaml").write_text(f"""
n_members: 2
calibration: {{by: none}}
model: {{d: 4, activation: silu, hidden_widths: [16, 16, 16]}}
optim: {{max_steps: 60, eval_every: 20, batch_sizes: {{chi_exp: 16, soluble: 16}}}}
data:
  tasks: [chi_exp, soluble]
  experimental: none
  computed: none
  solubility: none
  extra_tables: [{d / 'labels.csv'}]
""")
    assert main(["train", "--config", str(d / "cfg.yaml"), "--out", str(d / "model"), "--no-progress"]) == 0
    return d / "model"


def test_train_wrote_artifact(tiny_model, capsys):
    assert sorted(p.name for p in tiny_model.iterdir()) == ["config.json", "domain.npz", "manifest.json", "metrics.json", "scalers.npz",
                                                            "train-config.yaml", "weights.pt"]


def test_predict_one_pair_text_and_json(tiny_model, capsys):
    assert main(["predict", "--model", str(tiny_model), "--polymer", "*CC(*)c1ccccc1", "--solvent", "Cc1ccccc1",
                 "--temp", "25C"]) == 0
    out = capsys.readouterr().out
    assert "298.15 K" in out and "chi(T)" in out and "verdict" in out and "P(soluble)" in out
    assert main(["predict", "--model", str(tiny_model), "--polymer", "*CC(*)c1ccccc1", "--solvent", "Cc1ccccc1",
                 "--temp", "330K", "--mw", "100000", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["temperature_K"] == 330.0 and 0.5 < res["chi_c"] < 0.6
    assert res["chi_mean"] == pytest.approx(res["A_mean"] + res["B_mean_K"] / 330.0, abs=1e-6)
    assert res["verdict"] in ("miscible", "immiscible", "borderline")


@pytest.mark.parametrize("argv,msg", [
    (["--polymer", "*CC", "--solvent", "C", "--temp", "25C"], "attachment point"),
    (["--polymer", "*CC*", "--solvent", "C1CC", "--temp", "25C"], "invalid solvent"),
    (["--polymer", "*CC*", "--solvent", "C", "--temp", "25K"], "outside the accepted range"),
    (["--polymer", "*CC*", "--solvent", "C", "--temp", "800K"], "outside the accepted range"),
])
def test_predict_bad_input_exits_2(tiny_model, capsys, argv, msg):
    assert main(["predict", "--model", str(tiny_model), *argv]) == 2
    assert msg in capsys.readouterr().err


def test_predict_batch_keeps_rows(tiny_model, tmp_path, capsys):
    inp = tmp_path / "in.csv"
    pd.DataFrame({"polymer_smiles": ["*CC(*)c1ccccc1", "C(*)(*)*", "*CC*", "*CC*"],
                  "solvent_smiles": ["CC(C)=O", "C", "CCCCCC", "CCCCCC"],
                  "temperature_C": [25, 25, 600, 40], "note": ["a", "b", "c", "d"]}).to_csv(inp, index=False)
    out = tmp_path / "out.parquet"
    assert main(["predict", "--model", str(tiny_model), "--input", str(inp), "--output", str(out)]) == 0
    df = pd.read_parquet(out)
    assert list(df["note"]) == ["a", "b", "c", "d"]
    assert list(df["status"]) == ["ok", "invalid", "invalid", "ok"]
    assert "row" not in df["reason"].iloc[0] and "attachment" in df["reason"].iloc[1] and "outside" in df["reason"].iloc[2]
    assert df["chi_mean"].notna().tolist() == [True, False, False, True]
    for c in ("chi_std", "p_soluble"):
        assert c in df


def test_predict_batch_missing_column(tiny_model, tmp_path, capsys):
    inp = tmp_path / "in.csv"
    pd.DataFrame({"polymer_smiles": ["*CC*"], "temperature_K": [300]}).to_csv(inp, index=False)
    assert main(["predict", "--model", str(tiny_model), "--input", str(inp), "--output", str(tmp_path / "o.csv")]) == 2
    assert "solvent_smiles" in capsys.readouterr().err


def test_corrupt_artifact_exits_2(tiny_model, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(tiny_model, bad)
    (bad / "scalers.npz").write_bytes(b"garbage")
    assert main(["predict", "--model", str(bad), "--polymer", "*CC*", "--solvent", "C", "--temp", "25C"]) == 2
    err = capsys.readouterr().err
    assert "scalers.npz" in err and "corrupt" in err


def test_train_bad_config_exits_2(tmp_path, capsys):
    (tmp_path / "c.yaml").write_text("n_members: 2\nbogus: 1\n")
    assert main(["train", "--config", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "m")]) == 2
    assert "bogus" in capsys.readouterr().err


def test_shipped_default_model_predicts(capsys):
    from chiscreen.model import default_model_dir

    if not (default_model_dir() / "config.json").is_file():
        pytest.skip("no shipped default model in chiscreen/assets/default_model")
    assert main(["predict", "--polymer", "*CC(*)c1ccccc1", "--solvent", "Cc1ccccc1", "--temp", "25C", "--json"]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["model"]["n_members"] >= 5 and np.isfinite(res["chi_mean"])
