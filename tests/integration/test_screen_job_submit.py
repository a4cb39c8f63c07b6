"""`ray job submit ... python jobs/screen.py --config ...` against a real head started for the test.

The head is started with ``ray start --head --block`` on free ports in its own temp dir and
stopped by signalling that process (``ray stop`` would stop every Ray process on the machine,
including other users' clusters). The job's working dir is a temp folder holding only what the
job needs (no output folders are uploaded).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("ray")

from chiscreen.features import get_featurizer  # noqa: E402
from chiscreen.model import ChiEnsemble, save_artifact  # noqa: E402
from chiscreen.paths import project_root  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]

RAY = str(Path(sys.executable).with_name("ray"))
PORTS = ("port", "dashboard-port", "ray-client-server-port", "dashboard-agent-listen-port",
         "dashboard-agent-grpc-port", "runtime-env-agent-port", "metrics-export-port", "node-manager-port",
         "object-manager-port")


def _free_ports(n: int) -> list[int]:
    """n distinct free ports: every socket stays bound until all are chosen (one at a time, the
    OS can hand the same just-freed port out twice, and Ray refuses a port given to two components)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _start_head(temp: str, env: dict, log) -> tuple[subprocess.Popen, dict]:
    ports = dict(zip(PORTS, _free_ports(len(PORTS))))
    proc = subprocess.Popen([RAY, "start", "--head", "--block", "--num-cpus=2", "--include-dashboard=true",
                             "--disable-usage-stats", f"--temp-dir={temp}"] + [f"--{k}={v}" for k, v in ports.items()],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    return proc, ports


@pytest.fixture
def ray_head():
    temp = tempfile.mkdtemp(prefix="rh", dir="/tmp")  # short: Ray's socket paths live under it
    # a cluster does not share the submitting user's shell: no CHISCREEN_CACHE on the head
    env = {**{k: v for k, v in os.environ.items() if k != "CHISCREEN_CACHE"}, "RAY_AUTH_MODE": "disabled",
           "RAY_USAGE_STATS_ENABLED": "0"}
    log = open(os.path.join(temp, "head.log"), "w")
    proc, ports = _start_head(temp, env, log)
    url = f"http://127.0.0.1:{ports['dashboard-port']}"
    try:
        t0 = time.time()
        attempts = 1
        while True:
            try:
                urllib.request.urlopen(url + "/api/version", timeout=2)
                break
            except Exception:
                if proc.poll() is not None and attempts < 3 and time.time() - t0 < 120:
                    # a chosen port was taken in between by another process: new ports, once more
                    attempts += 1
                    proc, ports = _start_head(temp, env, log)
                    url = f"http://127.0.0.1:{ports['dashboard-port']}"
                    continue
                if proc.poll() is not None or time.time() - t0 > 120:
                    raise RuntimeError("ray head did not start:\n" + open(log.name).read()[-3000:])
                time.sleep(0.5)
        yield url, env
    finally:
        proc.send_signal(signal.SIGTERM)  # our head only; it drains and stops its own processes
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        shutil.rmtree(temp, ignore_errors=True)


def test_ray_job_submit_runs_the_screen(ray_head, tmp_path):
    url, env = ray_head
    root = project_root()
    wd = Path(tempfile.mkdtemp(prefix="chiscreen-job-"))
    try:
        (wd / "jobs").mkdir()
        shutil.copy(root / "jobs" / "screen.py", wd / "jobs" / "screen.py")
        (wd / "catalogs").mkdir()
        pd.DataFrame({"name": ["PS", "PMMA", "broken", "PE"], "abbreviation": ["PS", "PMMA", "X", "PE"],
                      "smiles": ["*CC(*)c1ccccc1", "*CC(*)(C)C(=O)OC", "*CC(", "*CC*"]}).to_csv(
            wd / "catalogs" / "polymers.csv", index=False)
        pd.DataFrame({"name": ["toluene", "acetone", "water", "hexane", "chloroform"],
                      "smiles": ["Cc1ccccc1", "CC(C)=O", "O", "CCCCCC", "ClC(Cl)Cl"]}).to_csv(
            wd / "catalogs" / "solvents.csv", index=False)
        n_f = len(get_featurizer("rdkit2d"))
        model = tmp_path / "model"
        save_artifact(ChiEnsemble.random(n_f, n_f, n_members=3, d=6, seed=0), model)
        out = tmp_path / "out"
        (wd / "configs").mkdir()
        (wd / "configs" / "job.yaml").write_text(
            f"polymers: catalogs/polymers.csv\nsolvents: catalogs/solvents.csv\nmodel: {model}\n"
            "temperatures: ['25C', '60C']\nquery:\n  top_k_per_polymer: 2\n"
            "  selective:\n    - name: ps\n      dissolve: [PS]\n      exclude: [PE]\n"
            "engine:\n  kind: ray\n  shard_size: 2\nfeaturize:\n  where: cluster\n"
            f"out: {out}\n")
        cache = tmp_path / "user-cache"  # the user's cache: must reach the job (jobs/submit.py's runtime_env)
        user_env = {**env, "CHISCREEN_CACHE": str(cache)}
        r = subprocess.run([sys.executable, str(root / "jobs" / "submit.py"), "--address", url, "--working-dir", str(wd),
                            "--env", "RAY_AUTH_MODE=disabled", "--",
                            "python", "jobs/screen.py", "--config", "configs/job.yaml", "--no-progress"],
                           capture_output=True, text=True, env=user_env, timeout=400)
        assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-2000:]
        assert "succeeded" in (r.stdout + r.stderr)
        assert str(cache) in r.stderr  # the runtime_env it sent
        # featurized on the cluster's screen actors (the job log says where), into the user's cache
        log = r.stdout + r.stderr
        assert "featurization on the cluster" in log and "featurized on node" in log, log[-3000:]
        assert [p for p in cache.rglob("*") if p.is_file()], "the job did not use the user's descriptor cache"
        man = json.loads((out / "manifest.json").read_text())
        assert man["n_polymers"] == 3 and man["n_solvents"] == 5 and man["n_shards"] == 2
        pairs = pd.read_parquet(out / "pairs")
        assert len(pairs) == 3 * 2 * 2
        pol = pd.read_parquet(out / "polymers.parquet")
        assert list(pol.status) == ["ok", "ok", "invalid", "ok"]
        assert (out / "selective-ps.parquet").is_file()
    finally:
        shutil.rmtree(wd, ignore_errors=True)
