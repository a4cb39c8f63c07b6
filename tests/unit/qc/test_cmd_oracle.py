"""``chiscreen oracle`` subcommands, driven through argparse like the CLI main does."""
from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from chiscreen.cli import cmd_oracle
from chiscreen.errors import ChiscreenError
from chiscreen.qc.params import DEFAULT_PARAMS_NAME


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="chiscreen")
    cmd_oracle.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_bad_input_raises_chiscreen_error(tmp_path):
    with pytest.raises(ChiscreenError, match="attachment"):
        _run(["oracle", "--polymer", "CC", "--solvent", "O", "--temp", "25C", "--store", str(tmp_path)])
    with pytest.raises(ChiscreenError, match="outside"):
        _run(["oracle", "--polymer", "*CC*", "--solvent", "O", "--temp", "25K", "--store", str(tmp_path)])
    with pytest.raises(ChiscreenError, match="a unit is required"):
        _run(["oracle", "--polymer", "*CC*", "--solvent", "O", "--temp", "25", "--store", str(tmp_path)])
    with pytest.raises(ChiscreenError, match="needs"):
        _run(["oracle", "--polymer", "*CC*", "--store", str(tmp_path)])


def test_single_and_batch(tmp_path, capsys):
    pytest.importorskip("tblite.interface", reason="tblite is not installed")
    store = str(tmp_path / "store")
    common = ["--store", store, "--conformers", "1"]
    assert _run(["oracle", "--polymer", "*CC*", "--solvent", "CCCCCC", "--temp", "25C", "--json", *common]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert info["status"] == "ok" and info["temperature_K"] == 298.15 and info["engine"] == "tblite"
    pairs = tmp_path / "pairs.csv"
    pd.DataFrame({"polymer": ["*CC*", "*CC*"], "solvent": ["CCCCCC", "xx("]}).to_csv(pairs, index=False)
    batch = ["oracle", "batch", str(pairs), "--temps", "25C,323.15K", "--backend", "serial", "--no-progress", *common]
    outdir = tmp_path / "runs" / "oracle"  # --out names a folder (as the README shows), not a file
    assert _run([*batch, "--out", str(outdir)]) == 0
    df = pd.read_parquet(outdir / "chi.parquet")
    assert len(df) == 4 and df.status.tolist() == ["ok", "ok", "failed", "failed"]
    assert df.chi.iloc[0] == pytest.approx(info["chi"])
    assert set(df.reason.dropna()) == {"invalid_input"}
    assert df.param_set.iloc[0] == info["param_set"]
    assert df.profile_method.iloc[0] == info["profile_method"]
    assert json.loads((outdir / "manifest.json").read_text())["format"] == "chiscreen-oracle-batch"
    from chiscreen.runtime import read_table_metadata

    assert read_table_metadata(outdir / "chi.parquet")["writer"] == "oracle-batch"
    (outdir / "precious.txt").write_text("x")
    assert _run([*batch, "--out", str(outdir), "--overwrite"]) == 0
    assert (outdir / "precious.txt").is_file()
    one = tmp_path / "chi.csv"
    assert _run([*batch, "--output", str(one)]) == 0 and len(pd.read_csv(one)) == 4
    old = tmp_path / "old.parquet"
    assert _run([*batch, "--out", str(old)]) == 0  # the old spelling still works, with a note
    assert "deprecated" in capsys.readouterr().err and old.is_file()


def test_batch_output_is_checked_before_any_work(tmp_path):
    pairs = tmp_path / "pairs.csv"
    pd.DataFrame({"polymer": ["*CC*"], "solvent": ["O"]}).to_csv(pairs, index=False)
    base = ["oracle", "batch", str(pairs), "--temps", "25C", "--backend", "serial", "--store", str(tmp_path / "s")]
    with pytest.raises(ChiscreenError, match="exactly one of --out DIR"):
        _run(base)
    with pytest.raises(ChiscreenError, match="is a folder"):
        _run([*base, "--output", str(tmp_path)])
    (tmp_path / "theirs").mkdir()
    (tmp_path / "theirs" / "notes.txt").write_text("x")
    with pytest.raises(ChiscreenError, match="not written by chiscreen"):
        _run([*base, "--out", str(tmp_path / "theirs")])


def test_single_reports_parameter_set_raw_and_cv_error(tmp_path, capsys):
    pytest.importorskip("tblite.interface", reason="tblite is not installed")
    from chiscreen.qc.params import get_params

    fitted = get_params(None)
    if fitted.name == "sac2010":
        pytest.skip("no fitted parameter set shipped")
    store = ["--store", str(tmp_path / "store"), "--conformers", "1", "--temp", "25C"]
    assert _run(["oracle", "--polymer", "*CC*", "--solvent", "CCO", "--json", *store]) == 0
    info = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert info["param_set"] == fitted.version
    assert info["cv_mae"] == fitted.provenance["cv"]["mae"]
    assert _run(["oracle", "--polymer", "*CC*", "--solvent", "CCO", "--json", "--params",
                 "sac2010", *store]) == 0
    old = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert old["param_set"].startswith("sac2010@") and "cv_mae" not in old
    assert info["chi_raw_sac2010"] == pytest.approx(old["chi"], abs=1e-12)
    assert _run(["oracle", "--polymer", "*CC*", "--solvent", "CCO", *store]) == 0
    text = capsys.readouterr().out
    assert f"parameter set {DEFAULT_PARAMS_NAME}@" in text and "polymer-grouped CV" in text
