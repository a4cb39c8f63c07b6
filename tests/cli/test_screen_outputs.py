"""Screen output folders: foreign files survive --overwrite, one writer at a time, a file is not a
folder, selective names checked before the screen, a kill during the final merge resumes cleanly."""
import json
import os
import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from chiscreen.cli.main import main
from chiscreen.features import get_featurizer
from chiscreen.model import ChiEnsemble, save_artifact


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("screen-out")
    n = len(get_featurizer("rdkit2d"))
    save_artifact(ChiEnsemble.random(n, n, n_members=3, d=6, seed=0), d / "model")
    save_artifact(ChiEnsemble.random(n, n, n_members=3, d=6, seed=1), d / "model2")
    pd.DataFrame({"name": ["PS", "PE", "PMMA", "PP"], "smiles": ["*CC(*)c1ccccc1", "*CC*", "*CC(*)(C)C(=O)OC",
                                                               "*CC(*)C"]}).to_csv(d / "polymers.csv", index=False)
    pd.DataFrame({"name": ["toluene", "acetone", "water", "n-hexane", "THF"],
                  "smiles": ["Cc1ccccc1", "CC(C)=O", "O", "CCCCCC", "C1CCOC1"]}).to_csv(d / "solvents.csv", index=False)
    return d


def _cfg(d, tmp_path, selective="", name="screen.yaml"):
    p = tmp_path / name
    p.write_text(f"polymers: {d / 'polymers.csv'}\nsolvents: {d / 'solvents.csv'}\nmodel: {d / 'model'}\n"
                 "temperatures: ['25C']\nquery:\n  top_k_per_polymer: 2\n  top_k_per_solvent: 1\n" + selective +
                 "engine:\n  kind: plain\n  shard_size: 1\nfeaturize:\n  n_jobs: 1\n")
    return p


def _screen(cfg, out, *extra):
    return main(["screen", "--config", str(cfg), "--out", str(out), "--no-progress", *extra])


def test_overwrite_keeps_a_foreign_file(setup, tmp_path, capsys):
    cfg = _cfg(setup, tmp_path)
    out = tmp_path / "run"
    assert _screen(cfg, out) == 0
    (out / "precious.txt").write_text("not chiscreen's")
    (out / "pairs" / "README").write_text("mine too")
    assert _screen(cfg, out, "--model", str(setup / "model2")) == 2
    assert "refusing to mix" in capsys.readouterr().err
    assert _screen(cfg, out, "--model", str(setup / "model2"), "--overwrite") == 0
    assert (out / "precious.txt").read_text() == "not chiscreen's" and (out / "pairs" / "README").is_file()
    man = json.loads((out / "manifest.json").read_text())
    assert man["model_source"].endswith("model2") and man["format"] == "chiscreen-screen"
    assert len(list((out / "pairs").glob("shard-*.parquet"))) == 4


def test_foreign_nonempty_folder_and_a_file_are_refused(setup, tmp_path, capsys):
    cfg = _cfg(setup, tmp_path)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "thesis.tex").write_text("x")
    assert _screen(cfg, theirs) == 2
    err = capsys.readouterr().err
    assert "not written by chiscreen" in err and "thesis.tex" in err and len(err.strip().splitlines()) == 1
    assert sorted(os.listdir(theirs)) == ["thesis.tex"]
    f = tmp_path / "results.csv"
    f.write_text("a,b\n")
    assert _screen(cfg, f) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "Traceback" not in err


def test_table_metadata_carries_model_hash_and_versions(setup, tmp_path):
    from chiscreen.runtime import read_table_metadata

    out = tmp_path / "run"
    assert _screen(_cfg(setup, tmp_path), out) == 0
    man = json.loads((out / "manifest.json").read_text())
    for f in ["pairs/shard-000000.parquet", "top_per_solvent.parquet", "polymers.parquet"]:
        md = read_table_metadata(out / f)
        assert md["model_hash"] == man["model_hash"] and "torch" in json.loads(md["versions"]), f


SLOW_WRITER = textwrap.dedent("""
    import sys, time
    from chiscreen.config import load_config
    from chiscreen.screen import EngineHooks, ScreenConfig, run_screen

    def hook(stats):
        print("shard", stats["shard"], flush=True)
        time.sleep(1.0)

    cfg = load_config(sys.argv[1], ScreenConfig)
    res = run_screen(cfg, out=sys.argv[2], progress=False, hooks=EngineHooks(on_shard=hook))
    print("done", res.stats.written, res.stats.skipped, flush=True)
""")


def test_second_writer_exits_2_while_the_first_runs(setup, tmp_path, capsys):
    cfg = _cfg(setup, tmp_path)
    out = tmp_path / "run"
    script = tmp_path / "slow.py"
    script.write_text(SLOW_WRITER)
    a = subprocess.Popen([sys.executable, str(script), str(cfg), str(out)], stdout=subprocess.PIPE, text=True)
    try:
        assert a.stdout.readline().startswith("shard")
        # run B: other options and --overwrite, into the folder A is writing
        assert main(["screen", "--config", str(cfg), "--out", str(out), "--overwrite", "--engine", "plain",
                     "--no-progress"]) == 2
        err = capsys.readouterr().err.strip()
        assert f"is being written by another chiscreen run (pid {a.pid} on host" in err
        assert len(err.splitlines()) == 1
        rest = a.stdout.read()
        assert a.wait(120) == 0 and "done 4 0" in rest  # A finished its own job, untouched
    finally:
        if a.poll() is None:
            a.kill()


def test_selective_query_with_unknown_polymer_is_rejected_before_the_screen(setup, tmp_path, capsys):
    good = "  selective:\n    - name: ps\n      dissolve: [PS]\n      exclude: [PE]\n"
    bad = "  selective:\n    - name: ps\n      dissolve: [PS]\n      exclude: [polyunobtainium]\n"
    fixed = "  selective:\n    - name: ps\n      dissolve: [PS]\n      exclude: [PP]\n"
    out = tmp_path / "run"
    assert _screen(_cfg(setup, tmp_path, bad, "bad.yaml"), out) == 2
    err = capsys.readouterr().err
    assert "polyunobtainium" in err and "not in the catalog" in err
    assert not out.exists()  # nothing was screened, nothing left behind
    assert _screen(_cfg(setup, tmp_path, good, "good.yaml"), out) == 0
    assert _screen(_cfg(setup, tmp_path, bad, "bad.yaml"), out) == 2
    assert json.loads((out / "manifest.json").read_text())["query"]["selective"][0]["exclude"] == ["PE"]
    assert _screen(_cfg(setup, tmp_path, fixed, "fixed.yaml"), out) == 0
    assert "(resumed)" in capsys.readouterr().out
    man = json.loads((out / "manifest.json").read_text())
    assert man["query"]["selective"][0]["exclude"] == ["PP"]  # the manifest describes the last run
    sel = pd.read_parquet(out / "selective-ps.parquet")
    assert len(sel) > 0


KILL_IN_MERGE = textwrap.dedent("""
    import os, signal, sys
    import chiscreen.screen.sinks as sinks
    from chiscreen.config import load_config
    from chiscreen.screen import ScreenConfig, run_screen

    real_replace = os.replace

    def dying_replace(src, dst):
        if str(dst).endswith("top_per_solvent.parquet"):  # the final merge's temp file is on disk
            print("dying", src, flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        real_replace(src, dst)

    sinks.os.replace = dying_replace
    run_screen(load_config(sys.argv[1], ScreenConfig), out=sys.argv[2], progress=False)
""")


def test_kill_during_the_final_merge_resumes_without_leftovers(setup, tmp_path, capsys):
    cfg = _cfg(setup, tmp_path)
    out = tmp_path / "killed"
    script = tmp_path / "kill_in_merge.py"
    script.write_text(KILL_IN_MERGE)
    r = subprocess.run([sys.executable, str(script), str(cfg), str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == -9 and "dying" in r.stdout, r.stderr[-2000:]
    assert list(out.glob(".top_per_solvent.parquet.*.tmp")) and not (out / "top_per_solvent.parquet").exists()
    assert _screen(cfg, out) == 2
    assert "stale lock" in capsys.readouterr().err
    assert _screen(cfg, out, "--take-over") == 0
    assert "(resumed)" in capsys.readouterr().out
    assert not [p for p in out.rglob(".*") if p.name.endswith(".tmp")]
    assert not (out / ".chiscreen.lock").exists()
    clean = tmp_path / "clean"
    assert _screen(cfg, clean) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "top_per_solvent.parquet"),
                                  pd.read_parquet(clean / "top_per_solvent.parquet"))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "pairs").sort_values(["polymer_id", "solvent_id"]).reset_index(drop=True),
                                  pd.read_parquet(clean / "pairs").sort_values(["polymer_id", "solvent_id"]).reset_index(drop=True))
