"""Every folder writer refuses a non-empty folder it does not own, before any work (exit 2)."""
import pytest

from chiscreen.cli.main import main
from chiscreen.paths import project_root


@pytest.fixture
def foreign(tmp_path):
    d = tmp_path / "theirs"
    d.mkdir()
    (d / "precious.txt").write_text("x")
    return d


@pytest.mark.parametrize("argv", [
    ["featurize", "--input", "{pairs}", "--n-jobs", "1", "--out", "{out}"],
    ["train", "--config", "{root}/configs/train-default.yaml", "--out", "{out}"],
    ["evaluate", "--splits", "official", "--json", "{tmp}/m.json", "--out", "{out}"],
    ["oracle", "batch", "{pairs}", "--temps", "25C", "--out", "{out}"],
])
def test_foreign_folder_refused_before_work(argv, foreign, tmp_path, capsys):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("polymer,solvent,polymer_smiles\n*CC*,O,*CC*\n")
    argv = [a.format(pairs=pairs, out=foreign, root=project_root(), tmp=tmp_path) for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "not written by chiscreen" in err and "precious.txt" in err and len(err.splitlines()) == 1
    assert [p.name for p in foreign.iterdir()] == ["precious.txt"]


def test_predict_output_table_carries_model_hash(tmp_path, capsys):
    import json

    from chiscreen.runtime import read_table_metadata

    inp = tmp_path / "pairs.csv"
    inp.write_text("polymer_smiles,solvent_smiles,temperature_K\n*CC(*)c1ccccc1,Cc1ccccc1,298.15\n")
    out = tmp_path / "pred.parquet"
    assert main(["predict", "--input", str(inp), "--output", str(out)]) == 0
    md = read_table_metadata(out)
    assert md["writer"] == "predict" and len(md["model_hash"]) >= 8 and md["model_hash"] in capsys.readouterr().out
    assert "torch" in json.loads(md["versions"])
