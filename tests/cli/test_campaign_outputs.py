"""Campaign and phase folders are runtime OwnedDirs (same rules as a screen's): a foreign file survives
--overwrite, a second writer is refused (exit 2, one line), a stale lock needs --take-over, and the
Parquet grid carries the model hash and versions."""
import json
import os
import socket

import pandas as pd
import pytest

from chiscreen.cli.main import main

SOLVENTS = pd.DataFrame({"name": ["toluene", "o-xylene"], "smiles": ["Cc1ccccc1", "Cc1ccccc1C"],
                         "cas": ["108-88-3", "95-47-6"]})


def _recycle_cfg(tmp_path) -> str:
    SOLVENTS.to_csv(tmp_path / "solvents.csv", index=False)
    p = tmp_path / "r.yaml"
    p.write_text("mixture: [PE, PS]\ntarget: PS\ntemperatures: {min: 25C, max: 75C, step_K: 50}\n"
                 f"solvents: {tmp_path / 'solvents.csv'}\n")
    return str(p)


def _one_clear_line(capsys, *needles):
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, err
    return err


def test_overwrite_keeps_foreign_file_and_marks_ownership(tmp_path, capsys, shared_data):
    from chiscreen.runtime import read_table_metadata

    cfg, out = _recycle_cfg(tmp_path), tmp_path / "mixed"
    out.mkdir()
    (out / "precious.txt").write_text("keep")
    args = ["campaign", "recycle", "--config", cfg, "--out", str(out), "--no-progress"]
    assert main(args) == 2                                        # foreign, non-empty: refused before work
    _one_clear_line(capsys, "not written by chiscreen", "precious.txt", "--overwrite")
    assert sorted(p.name for p in out.iterdir()) == ["precious.txt"]
    assert main(args + ["--overwrite"]) == 0
    printed = capsys.readouterr().out
    assert (out / "precious.txt").read_text() == "keep"
    man = json.loads((out / "manifest.json").read_text())
    assert man["format"] == "chiscreen-campaign-recycle" and man["status"] == "complete"
    assert "report.html" in man["owned"] and "precious.txt" not in json.dumps(man["owned"])
    assert set(man["files"].values()) >= {"solvents.csv", "grid.parquet", "campaign.json", "report.html"}
    md = read_table_metadata(out / "grid.parquet")
    assert md["writer"] == "campaign-recycle" and len(md["model_hash"]) >= 8 and "torch" in json.loads(md["versions"])
    assert md["model_hash"] == man["model_hash"] and str(out) in printed
    assert not (out / ".chiscreen.lock").exists()                # released on a clean end
    # our folder now: a rerun needs --overwrite, which replaces our files and keeps the foreign one
    assert main(args) == 2
    _one_clear_line(capsys, "earlier recycle campaign", "--overwrite")
    (out / "solvents.csv").write_text("stale\n")
    assert main(args + ["--overwrite"]) == 0
    capsys.readouterr()
    assert (out / "precious.txt").read_text() == "keep" and "stale" not in (out / "solvents.csv").read_text()
    # a compatibilizer may not take over a recycle folder silently
    c = tmp_path / "c.yaml"
    c.write_text(f"polymer_a: PE\npolymer_b: PS\nadditives: {tmp_path / 'solvents.csv'}\nblock_pairs: false\n")
    assert main(["campaign", "compatibilizer", "--config", str(c), "--out", str(out), "--no-progress"]) == 2
    _one_clear_line(capsys, "'campaign-recycle' results")


@pytest.mark.parametrize("argv", [
    ["campaign", "recycle", "--config", "{cfg}", "--out", "{out}", "--no-progress"],
    ["campaign", "recycle", "--config", "{cfg}", "--out", "{out}", "--no-progress", "--overwrite"],
    ["phase", "--polymer", "PS", "--solvent", "C1CCCCC1", "--out", "{out}"],
])
def test_concurrent_writer_refused(tmp_path, capsys, argv):
    """Another run holds the folder's lock: exit 2 naming the holder, nothing written, lock intact."""
    from chiscreen.campaigns.common import open_out

    kind = "phase" if argv[0] == "phase" else "recycle"
    out = tmp_path / "busy"
    held = open_out(out, kind)                                  # "run A", in progress
    try:
        before = sorted(p.name for p in out.iterdir())
        argv = [a.format(cfg=_recycle_cfg(tmp_path), out=out) for a in argv]
        assert main(argv) == 2
        _one_clear_line(capsys, "being written by another chiscreen run", f"pid {os.getpid()}")
        assert sorted(p.name for p in out.iterdir()) == before
        assert held.locked and (out / ".chiscreen.lock").exists()
    finally:
        held.release()


def test_stale_lock_needs_take_over(tmp_path, capsys, shared_data):
    out = tmp_path / "killed"
    out.mkdir()
    (out / ".chiscreen.lock").write_text(json.dumps({"pid": 2 ** 22 + 12345, "host": socket.gethostname(),
                                                     "started": "2026-01-01T00:00:00+00:00", "kind": "campaign-recycle"}))
    args = ["campaign", "recycle", "--config", _recycle_cfg(tmp_path), "--out", str(out), "--no-progress"]
    assert main(args) == 2
    _one_clear_line(capsys, "stale lock", "--take-over")
    assert main(args + ["--take-over"]) == 0
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    assert not (out / ".chiscreen.lock").exists()


def test_failed_run_leaves_no_folder(tmp_path, capsys):
    """A config that fails once the folder is open (model missing) leaves nothing behind."""
    out = tmp_path / "never"
    args = ["campaign", "recycle", "--config", _recycle_cfg(tmp_path), "--out", str(out), "--no-progress",
            "--model", str(tmp_path / "no-such-model")]
    assert main(args) == 2
    capsys.readouterr()
    assert not out.exists()


def test_missing_catalog_refused_before_the_folder(tmp_path, capsys):
    p = tmp_path / "r.yaml"
    p.write_text(f"mixture: [PE, PS]\ntarget: PS\nsolvents: {tmp_path / 'nope.csv'}\n")
    assert main(["campaign", "recycle", "--config", str(p), "--out", str(tmp_path / "o")]) == 2
    _one_clear_line(capsys, "nope.csv")
    assert not (tmp_path / "o").exists()
