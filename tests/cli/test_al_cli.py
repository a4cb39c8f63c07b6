"""`chiscreen al ...` in-process: init / status / predict with the run's model, and bad input
(unknown acquisition, zero budget, missing or foreign run directory, corrupt label store, a
locked run, bad lab rows): exit 2, a one-line message, and the run directory unchanged."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from chiscreen.cli.main import main
from chiscreen.qc.params import DEFAULT_PARAMS_NAME

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def snapshot(folder: Path) -> dict:
    out = {}
    for dirpath, dirs, files in os.walk(folder):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(dirpath, d))]:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            out[os.path.relpath(p, folder)] = (st.st_size, st.st_mtime_ns)
    return out


def write_config(path: Path, store: Path, **acq) -> Path:
    cfg = {"pool": {"polymers": str(ROOT / "catalogs/polymers.csv"), "polymer_names": ["PE", "PP"],
                    "solvents": str(ROOT / "catalogs/solvents.csv"), "solvent_names": ["water", "methanol"],
                    "temperatures_K": [298.15]},
           "evaluation": {"n_polymers": 2},
           "acquisition": {"name": "ucb", "batch_size": 2, **acq},
           "oracle": {"run": {"backend": "process", "workers": 1}, "store": str(store)},
           "model": {"n_members": 2, "init_steps": 20, "finetune_steps": 5, "solubility": "none"}}
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, shared_data):
    base = tmp_path_factory.mktemp("alcli")
    cfg = write_config(base / "al.yaml", base / "store")
    assert main(["al", "init", "--config", str(cfg), "--run", str(base / "run")]) == 0
    return base / "run"


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    return err[-1] if err else ""


def test_status_and_model_usable_by_predict(run_dir, capsys):
    assert main(["al", "status", "--run", str(run_dir)]) == 0
    out = capsys.readouterr().out
    assert "0 cycle(s) done" in out and "exp_rmse" in out and "excluded from training" in out
    assert main(["predict", "--polymer", "*CC*", "--solvent", "CO", "--model", str(run_dir / "model"), "--json"]) == 0
    assert '"chi_mean"' in capsys.readouterr().out


@pytest.mark.parametrize("argv,msg", [
    (["--acquisition", "nope"], "unknown acquisition function 'nope'"),
    (["--budget", "0"], "budget_s = 0.0: expected a positive number"),
    (["--cycles", "0"], "--cycles 0"),
])
def test_bad_cycle_options_change_nothing(run_dir, capsys, argv, msg):
    before = snapshot(run_dir)
    assert main(["al", "cycle", "--run", str(run_dir), *argv]) == 2
    line = _err(capsys)
    assert msg in line and "Traceback" not in line
    assert snapshot(run_dir) == before


def test_missing_and_foreign_run_dirs(tmp_path, capsys):
    assert main(["al", "cycle", "--run", str(tmp_path / "nope")]) == 2
    assert "does not exist" in _err(capsys)
    assert not (tmp_path / "nope").exists()
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "data.txt").write_text("mine")
    before = snapshot(tmp_path / "foreign")
    for cmd in ("cycle", "status"):
        assert main(["al", cmd, "--run", str(tmp_path / "foreign")]) == 2
        assert "not an AL run directory" in _err(capsys)
    assert snapshot(tmp_path / "foreign") == before
    # init refuses a non-empty folder and leaves it alone
    cfg = write_config(tmp_path / "c.yaml", tmp_path / "store")
    assert main(["al", "init", "--config", str(cfg), "--run", str(tmp_path / "foreign")]) == 2
    assert "exists and is not empty" in _err(capsys)
    assert snapshot(tmp_path / "foreign") == before


def test_init_with_unknown_acquisition_creates_nothing(tmp_path, capsys):
    cfg = write_config(tmp_path / "c.yaml", tmp_path / "store", name="nope")
    assert main(["al", "init", "--config", str(cfg), "--run", str(tmp_path / "run")]) == 2
    assert "unknown acquisition function 'nope'" in _err(capsys)
    assert not (tmp_path / "run").exists()


def test_corrupt_label_store(run_dir, tmp_path, capsys):
    bad = tmp_path / "run"
    shutil.copytree(run_dir, bad, symlinks=True)
    part = bad / "labels" / "oracle" / "cycle-005.parquet"
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(b"PAR1 this is not parquet")
    before = snapshot(bad)
    assert main(["al", "cycle", "--run", str(bad)]) == 2
    line = _err(capsys)
    assert "corrupt label store part" in line and "cycle-005.parquet" in line
    assert snapshot(bad) == before


def test_locked_run_refuses(run_dir, capsys):
    from chiscreen.al.adapters import run_dir as owned_run

    with owned_run(run_dir):
        before = snapshot(run_dir)
        assert main(["al", "cycle", "--run", str(run_dir)]) == 2
        line = _err(capsys)
        assert "is being written by another chiscreen run (pid" in line and str(os.getpid()) in line
        assert snapshot(run_dir) == before


def test_bad_lab_rows(run_dir, tmp_path, capsys):
    csv = tmp_path / "lab.csv"
    csv.write_text("polymer_smiles,solvent_smiles,temperature_C,chi,who,method,date\n"
                   "*CC*,CO,25,1.2,me,cloud point,2026-11-30\n"
                   "*CC*,CO,25,abc,me,cloud point,2026-11-30\n")
    before = snapshot(run_dir)
    assert main(["al", "import", "--run", str(run_dir), str(csv)]) == 2
    assert "row 1" in _err(capsys)
    csv.write_text("polymer_smiles,solvent_smiles,temperature_C,chi\n*CC*,CO,25,1.2\n")
    assert main(["al", "import", "--run", str(run_dir), str(csv)]) == 2
    assert "provenance column 'who'" in _err(capsys)
    assert snapshot(run_dir) == before


def test_job_entrypoint_refuses_foreign_dir(tmp_path, capsys):
    import importlib.util

    spec = importlib.util.spec_from_file_location("al_cycle_job", ROOT / "jobs" / "al_cycle.py")
    job = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(job)
    (tmp_path / "x.txt").write_text("mine")
    assert job.main(["--run", str(tmp_path)]) == 2
    assert "not an AL run directory" in _err(capsys)


def test_changed_oracle_refuses(run_dir, tmp_path, capsys):
    """A run's oracle is fixed at init (resolved into config.yaml, recorded in the manifest): a
    config whose oracle differs (other profile method) refuses unless mixing is allowed."""
    import json

    bad = tmp_path / "run"
    shutil.copytree(run_dir, bad, symlinks=True)
    man = json.loads((bad / "manifest.json").read_text())
    assert man["param_set"].startswith(f"{DEFAULT_PARAMS_NAME}@") and man["n_conformers"] == 1 and man["n_units"] == 6
    cfg = yaml.safe_load((bad / "config.yaml").read_text())
    assert cfg["oracle"]["params"] == DEFAULT_PARAMS_NAME and cfg["oracle"]["profile"]["n_units"] == 6
    cfg["oracle"]["profile"]["n_units"] = 4
    (bad / "config.yaml").write_text(yaml.safe_dump(cfg))
    before = snapshot(bad)
    assert main(["al", "cycle", "--run", str(bad)]) == 2
    line = _err(capsys)
    assert "differs from the run's" in line and "mix_method_versions" in line
    assert snapshot(bad) == before
