"""``chiscreen oracle`` subcommands, driven through argparse like the CLI main does."""
from __future__ import annotations

import argparse
import json

import pandas as pd
import pytest

from chiscreen.cli import cmd_oracle
from chiscreen.errors import ChiscreenError


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="chiscreen")
    cmd_oracle.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.func(args)


def test_bad_input_raises_chiscreen_error(tmp_path):
    with pytest.raises(ChiscreenError, match="attachment"):
        _run(["oracle", "--polymer", "CC", "--solvent", "O", "--temp", "25C", "--store", str(tmp_path)])
    with pytest.raises(ChiscreenError, match="outside"):
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
    out = tmp_path / "chi.parquet"
    assert _run(["oracle", "batch", str(pairs), "--out", str(out), "--temps", "25C,323.15K",
                 "--backend", "serial", "--no-progress", *common]) == 0
    df = pd.read_parquet(out)
    assert len(df) == 4 and df.status.tolist() == ["ok", "ok", "failed", "failed"]
    assert df.chi.iloc[0] == pytest.approx(info["chi"])
    assert set(df.reason.dropna()) == {"invalid_input"}
