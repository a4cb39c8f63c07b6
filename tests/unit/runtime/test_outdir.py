"""Owned output folders: foreign files survive --overwrite, one writer at a time, stale locks."""
import json
import os
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from chiscreen.runtime import OutputDirError, OutputLockedError, OwnedDir, read_table_metadata, table_metadata
from chiscreen.runtime.outdir import LOCK, with_metadata

OWNED = ["pairs/shard-*.parquet", "summary.json"]


def _fill(od):
    (p := os.path.join(od.root, "pairs")) and os.makedirs(p, exist_ok=True)
    open(os.path.join(p, "shard-000000.parquet"), "w").write("x")
    open(os.path.join(od.root, "summary.json"), "w").write("{}")
    od.write_manifest({"job": 1})


def test_new_folder_is_claimed_and_lock_removed_at_exit(tmp_path):
    out = tmp_path / "run"
    with OwnedDir(out, "test", OWNED) as od:
        assert od.state == "new" and (out / LOCK).is_file()
        holder = json.loads((out / LOCK).read_text())
        assert holder["pid"] == os.getpid() and holder["host"]
        _fill(od)
    assert not (out / LOCK).exists()
    man = json.loads((out / "manifest.json").read_text())
    assert man["format"] == "chiscreen-test" and "pairs/shard-*.parquet" in man["owned"]
    with OwnedDir(out, "test", OWNED) as od:
        assert od.state == "owned" and od.previous["job"] == 1


def test_overwrite_keeps_foreign_files(tmp_path):
    out = tmp_path / "run"
    with OwnedDir(out, "test", OWNED) as od:
        _fill(od)
    (out / "precious.txt").write_text("mine")
    (out / "pairs" / "notes.md").write_text("also mine")
    with OwnedDir(out, "test", OWNED, overwrite=True) as od:
        removed = od.clear()
    assert sorted(removed) == ["manifest.json", "pairs/shard-000000.parquet", "summary.json"]
    assert (out / "precious.txt").read_text() == "mine" and (out / "pairs" / "notes.md").is_file()


def test_foreign_nonempty_folder_is_refused_unless_told(tmp_path):
    out = tmp_path / "theirs"
    out.mkdir()
    (out / "precious.txt").write_text("x")
    with pytest.raises(OutputDirError, match="not written by chiscreen.*precious.txt.*--overwrite"):
        OwnedDir(out, "test", OWNED).open()
    with OwnedDir(out, "test", OWNED, overwrite=True) as od:
        assert od.state == "new"
    assert (out / "precious.txt").is_file()
    other = tmp_path / "other"
    with OwnedDir(other, "screen", OWNED) as od:
        od.write_manifest({})
    with pytest.raises(OutputDirError, match="holds chiscreen 'screen' results"):
        OwnedDir(other, "test", OWNED).open()


def test_a_file_is_not_a_folder(tmp_path):
    f = tmp_path / "x.csv"
    f.write_text("a")
    with pytest.raises(OutputDirError, match="is a file, not a folder"):
        OwnedDir(f, "test").open()


def test_second_writer_is_refused_while_the_first_holds_the_lock(tmp_path):
    out = tmp_path / "run"
    code = ("import sys,time; from chiscreen.runtime import OwnedDir\n"
            "od = OwnedDir(sys.argv[1], 'test').open(); print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code, str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputLockedError, match=f"being written by another chiscreen run \\(pid {holder.pid}"):
            OwnedDir(out, "test").open()
    finally:
        holder.kill()
        holder.wait()
    # the holder was killed: its lock file stays, the lock is stale
    with pytest.raises(OutputLockedError, match=f"stale lock of pid {holder.pid}.*no longer running.*--take-over"):
        OwnedDir(out, "test").open()
    with OwnedDir(out, "test", take_over=True) as od:
        assert od.stale_lock["pid"] == holder.pid
    assert not (out / LOCK).exists()


def test_temp_files_of_a_killed_run_are_removed_on_open(tmp_path):
    out = tmp_path / "run"
    (out / "pairs").mkdir(parents=True)
    tmp = out / "pairs" / ".shard-000001.parquet.0123456789abcdef0123456789abcdef.tmp"
    tmp.write_text("half")
    top = out / ".top_per_solvent.parquet.0123456789ab.tmp"
    top.write_text("half")
    theirs = out / ".notes.txt.0123456789ab.tmp"  # a temp file of something chiscreen does not own
    theirs.write_text("keep")
    with OwnedDir(out, "test", OWNED + ["top_per_solvent.parquet"], overwrite=True):
        pass
    assert not tmp.exists() and not top.exists() and theirs.exists()


def test_table_metadata_round_trip(tmp_path):
    t = with_metadata(pa.table({"a": [1]}), table_metadata("abc123", writer="test", rows=1))
    pq.write_table(t, tmp_path / "t.parquet")
    md = read_table_metadata(tmp_path / "t.parquet")
    assert md["model_hash"] == "abc123" and md["writer"] == "test"
    assert "chiscreen" in json.loads(md["versions"]) and "pyarrow" in json.loads(md["versions"])
