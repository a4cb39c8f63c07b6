import json

import pandas as pd

from chiscreen.cli.main import main


def test_canon(capsys):
    assert main(["canon", "*OCCOC(=O)CCCCC(=O)*", "*CCOC(=O)CCCCC(=O)O*", "*CCCC*"]) == 0
    out = capsys.readouterr().out.split()
    assert out[0] == out[1] and out[2] == "*CC*"


def test_canon_invalid_exits_2(capsys):
    assert main(["canon", "*CC*", "C(*)(*)*"]) == 2
    cap = capsys.readouterr()
    assert cap.out.strip() == "*CC*"
    assert "found 3 attachment point" in cap.err


def test_check_json(capsys):
    assert main(["check", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["packages"]["rdkit"] and info["packages"]["torch"]
    assert isinstance(info["gpus"], list)


def test_data_info(capsys, shared_data):
    assert main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert "1190 rows" in out and "(in use)" in out


def test_featurize_input_table(tmp_path, capsys):
    p = tmp_path / "pairs.csv"
    pd.DataFrame({"polymer_smiles": ["*CC(*)c1ccccc1", "bad*"], "solvent_smiles": ["Cc1ccccc1", "CCO"]}).to_csv(p, index=False)
    rc = main(["featurize", "--input", str(p), "--cache", str(tmp_path / "cache"), "--n-jobs", "1", "--out", str(tmp_path / "o")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "invalid 1" in out and "ok 1" in out
    df = pd.read_parquet(tmp_path / "o" / "polymer_features.parquet")
    assert list(df.status) == ["ok", "invalid"]


def test_unknown_subcommand_arguments_fail():
    import pytest

    with pytest.raises(SystemExit):
        main(["featurize", "--representaton", "cyclic:3"])
