"""A real AL cycle on a tiny pool (real xtb oracle, process backend): a cycle killed during
the oracle step resumes and every oracle result lands exactly once, finished profiles are not
recomputed; a second concurrent cycle of the same run refuses; lab rows train the next cycle."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from chiscreen.qc.params import DEFAULT_PARAMS_NAME

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def tiny_config(store: Path) -> dict:
    return {
        "name": "tiny", "seed": 0,
        "pool": {"polymers": str(ROOT / "catalogs/polymers.csv"), "polymer_names": ["PE", "PP", "PIB", "PVC"],
                 "solvents": str(ROOT / "catalogs/solvents.csv"), "solvent_names": ["water", "methanol", "acetone"],
                 "temperatures_K": [298.15, 323.15]},
        "evaluation": {"n_polymers": 3, "oracle_holdout_fraction": 0.2},
        "acquisition": {"name": "max_std", "batch_size": 6, "max_per_polymer": 2, "max_per_solvent": 3},
        "cost": {"polymer_s": 5.0, "solvent_s": 0.5},
        "oracle": {"profile": {"n_conformers": 1}, "run": {"backend": "process", "workers": 1, "timeout_s": 300, "retries": 0},
                   "store": str(store)},
        "model": {"n_members": 2, "init_steps": 30, "finetune_steps": 10, "solubility": "none"},
    }


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, shared_data):
    from chiscreen.al import ALRun

    base = tmp_path_factory.mktemp("al")
    run = ALRun.init(tiny_config(base / "store"), base / "run", progress=False)
    return run


def _npz(store: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in store.rglob("*.npz")}


def test_killed_oracle_step_resumes_exactly_once(tiny_run):
    from chiscreen.al import ALRun
    from chiscreen.runtime.outdir import OutputLockedError

    run = tiny_run
    store = Path(run.cfg.oracle.store)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "chiscreen.cli.main", "al", "cycle", "--run", str(run.path)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not _npz(store):   # first profile done: mid oracle step
            assert proc.poll() is None, proc.stdout.read().decode()[-2000:]
            time.sleep(0.2)
        assert _npz(store), "no profile appeared within 600 s"
        assert (run.cycle_dir(1) / "selection.parquet").is_file()
        # a second cycle of the same run while the first holds the lock: refused, nothing written
        with pytest.raises(OutputLockedError, match=f"pid {proc.pid}"):
            ALRun(run.path).cycle()
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    assert not run.oracle_labels.has_part("cycle-001")          # killed before the label part
    before = _npz(store)
    sel = pd.read_parquet(run.cycle_dir(1) / "selection.parquet")
    with pytest.raises(OutputLockedError, match=f"stale lock of pid {proc.pid}.*--take-over"):
        ALRun(run.path).cycle()                                  # the killed cycle's lock: reported
    m = ALRun(run.path).cycle(take_over=True)                    # resume in-process
    assert m["cycle"] == 1
    labs = run.oracle_labels.read()
    assert len(labs) == len(sel) and labs["row_key"].is_unique   # every result exactly once
    assert set(labs["row_key"]) == set(sel["row_key"])
    after = _npz(store)
    assert all(after[p] == t for p, t in before.items())         # finished profiles not recomputed
    mols = set(sel["polymer_key"]) | set(sel["solvent_key"])
    assert len(after) == len(mols)                               # one profile per molecule
    assert (labs["status"] == "ok").all(), labs[["reason"]]
    assert set(labs["method_version"]) == {run.manifest["method_version"]}
    assert set(labs["param_set"]) == {run.manifest["param_set"]}
    assert run.manifest["param_set"].startswith(f"{DEFAULT_PARAMS_NAME}@")     # the shipped default, recorded at init
    # resumed selection unchanged, model of cycle 1 exists and is the newest
    assert pd.read_parquet(run.cycle_dir(1) / "selection.parquet")["row_key"].tolist() == sel["row_key"].tolist()
    assert os.path.realpath(run.path / "model") == str((run.path / "models" / "cycle-001").resolve())
    # a second cycle excludes rows already computed
    m2 = ALRun(run.path).cycle()
    labs2 = run.oracle_labels.read()
    assert labs2["row_key"].is_unique and len(labs2) == len(sel) + m2["n_selected"]
    st = run.state()
    assert st["cycles_done"] == 2
    assert (run.path / "report" / "metrics.png").stat().st_size > 1000


def test_lab_rows_reach_training(tiny_run, tmp_path):
    from chiscreen.al.importer import import_lab_rows

    csv = tmp_path / "lab.csv"
    pd.DataFrame({"polymer_smiles": ["*CC*", "*CC(*)C"], "solvent_smiles": ["CO", "O"], "temperature_C": [25, 40],
                  "chi": [1.1, None], "soluble": [None, "insoluble"], "who": ["A. Chemist", "A. Chemist"],
                  "method": ["cloud point", "visual"], "date": ["2026-11-30", "2026-11-30"]}).to_csv(csv, index=False)
    path, n, new = import_lab_rows(tiny_run, csv)
    assert n == 2 and new
    assert import_lab_rows(tiny_run, csv)[2] is False            # same file twice: nothing added
    data = tiny_run._training_data(99)
    t = data.table
    assert ((t["polymer_key"] == "*CC*") & (t["chi"] == 1.1)).sum() == 1
    assert ((t["polymer_key"] == "*CC(*)C") & (t["soluble"] == 0.0)).sum() == 1
    path.unlink()                                                # leave the shared run as it was


def test_cold_retrain_cycle(tiny_run):
    """retrain: cold trains a fresh ensemble on everything (oracle rows included) instead of a warm start."""
    from chiscreen.al import ALRun

    run = ALRun(tiny_run.path)
    run.cfg.model.retrain = "cold"
    n0 = len(run.oracle_labels.read())
    m = run.cycle(acquisition="thompson")
    assert m["retrain"] == "cold" and m["acquisition"] == "thompson"
    assert m["train_rows"].get("chi_oracle", 0) >= 1
    labs = run.oracle_labels.read()
    assert len(labs) == n0 + m["n_selected"] and labs["row_key"].is_unique
    assert "chi_oracle" in run.load_model(m["cycle"]).tasks
