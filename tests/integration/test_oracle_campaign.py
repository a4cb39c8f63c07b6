"""The oracle campaign job end to end: a 2-polymer x 2-solvent campaign on Ray (tiny real xtb),
SIGKILLed after its first label part and resumed; bad input exits 2; the AL arm's ranking."""
from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
JOB = ROOT / "jobs" / "oracle_campaign.py"


def _job_module():
    spec = importlib.util.spec_from_file_location("oracle_campaign_job", JOB)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _config(tmp_path: Path, backend: str, polymers=("*CC*", "*CC(*)C")) -> Path:
    cfg = {"name": "itest",
           "polymers": {"reference": False, "catalog": None, "enumerated": 0, "smiles": list(polymers)},
           "solvents": {"reference": False, "catalog": None, "smiles": ["O", "CO"]},
           "temperatures_K": [298.15, 323.15], "store": str(tmp_path / "store"), "part_polymers": 1,
           "run": {"backend": backend, "workers": 1, "timeout_s": 300, "mem_limit_mb": 4000, "num_cpus": 1,
                   "progress": False, "log_every_s": 5}}
    p = tmp_path / "campaign.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def test_bad_config_exits_2(tmp_path, capsys):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\npolymers: {enumerate: 3}\n")
    rc = _job_module().main(["--config", str(p), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert rc == 2 and "unknown key" in err and "enumerate" in err and "Traceback" not in err
    assert not (tmp_path / "o").exists()
    rc = _job_module().main(["relabel", "--out", str(tmp_path), "--param-set", "sac2010"])
    assert rc == 2 and "not an oracle campaign folder" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.ray
def test_ray_campaign_resumes_after_sigkill(tmp_path):
    pytest.importorskip("ray", reason="ray is not installed")
    pytest.importorskip("tblite.interface", reason="tblite is not installed")
    cfg = _config(tmp_path, "ray", polymers=("*CC*", "*CC(*)C", "*CC(*)c1ccccc1"))
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, str(JOB), "--config", str(cfg), "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    part0 = out / "labels" / "part-00000.parquet"
    t0 = time.monotonic()
    try:
        while not part0.exists() and proc.poll() is None and time.monotonic() - t0 < 400:
            time.sleep(0.2)
        assert part0.exists(), proc.stdout.read().decode()[-2000:] if proc.poll() is not None else "no part in 400 s"
        finished_early = proc.poll() is not None
        os.killpg(proc.pid, signal.SIGKILL)   # the driver, its Ray session and the xtb workers
    finally:
        proc.wait(30)
    if not finished_early:
        assert not (out / "chi_oracle.parquet").exists()
    done_before = {p.name: p.stat().st_mtime_ns for p in (out / "labels").glob("part-*.parquet")}
    r = subprocess.run(cmd + ["--take-over"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    t = pd.read_parquet(out / "chi_oracle.parquet")
    assert len(t) == 3 * 2 * 2
    assert not t.duplicated(["polymer_smiles", "solvent_smiles", "temperature_K"]).any()
    assert np.isfinite(t["chi_oracle"]).all()
    for name, mt in done_before.items():   # parts finished before the kill were kept, not rewritten
        assert (out / "labels" / name).stat().st_mtime_ns == mt
    import json

    m = json.loads((out / "manifest.json").read_text())
    assert m["status"] == "done" and m["rows"] == 12 and m["molecules"]["failed"] == 0
    assert m["molecules"]["profiled_this_run"] < 5   # the 2 solvents and >= 1 polymer were done before the kill
    assert len(m["runs"]) >= 1


@pytest.mark.slow
def test_al_arm_ranks_by_mean_ucb():
    mod = _job_module()
    cands = ["*CC*", "*CC(*)C", "*CC(*)Cl"]
    r = mod.al_pick(cands, 2, ["O", "CCO"], [298.15, 323.15])
    assert sorted(r["polymer"]) == sorted(cands) and (r["rows"] == 4).all()
    assert (np.diff(r["score"].to_numpy()) <= 0).all()              # best first
    assert np.allclose(r["score"], -r["mean_chi"] + 2.0 * r["mean_std"])   # mean over rows of UCB (beta 2)
    assert r["task_head"].iloc[0] in ("chi_oracle", "chi_exp")
