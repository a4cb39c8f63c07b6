"""The Ray engine: same results as the in-process path; a killed actor loses nothing."""
import os
import signal

import numpy as np
import pandas as pd
import pytest

ray = pytest.importorskip("ray")

from chiscreen.model import ChiEnsemble  # noqa: E402
from chiscreen.screen import EngineConfig, EngineHooks, QueryConfig, ScreenConfig, run_screen  # noqa: E402
from chiscreen.screen.synthetic import synthetic_catalogs  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def ray_session():
    """One embedded Ray for the module ("local": never attach to someone else's cluster)."""
    if ray.is_initialized():  # another module's session: use it, leave it running
        yield
        return
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def problem():
    pol, sol, Xp, Xs = synthetic_catalogs(900, 70, 16, seed=5, n_invalid=4)
    ens = ChiEnsemble.random(16, 16, n_members=5, d=8, seed=3)
    return ens, pol, sol, Xp, Xs


def _run(problem, out, kind, hooks=None):
    ens, pol, sol, Xp, Xs = problem
    cfg = ScreenConfig(temperatures=["25C", "90C"], query=QueryConfig(top_k_per_polymer=3, top_k_per_solvent=4),
                       engine=EngineConfig(kind=kind, shard_size=40))
    return run_screen(cfg, out=str(out), ensemble=ens, descriptors=(Xp, Xs), catalogs=(pol, sol),
                      progress=False, hooks=hooks)


def _table(out):
    df = pd.read_parquet(os.path.join(out, "pairs"))
    return df.sort_values(["polymer_id", "T_K", "solvent_id"]).reset_index(drop=True)


def _same(a, b):
    assert a[["polymer_id", "solvent_id", "T_K"]].equals(b[["polymer_id", "solvent_id", "T_K"]])
    for c in ("chi", "chi_std", "p_soluble", "p_soluble_std"):
        assert np.allclose(a[c], b[c], atol=1e-5), c


@pytest.fixture(scope="module")
def plain_out(problem, tmp_path_factory):
    out = tmp_path_factory.mktemp("plain")
    _run(problem, out, "plain")
    return out


def test_ray_engine_equals_plain(ray_session, problem, plain_out, tmp_path):
    res = _run(problem, tmp_path / "ray", "ray")
    assert res.stats.engine == "ray" and res.stats.workers >= 1 and res.stats.written == 23
    _same(_table(tmp_path / "ray"), _table(plain_out))
    a = pd.read_parquet(tmp_path / "ray" / "top_per_solvent.parquet")
    b = pd.read_parquet(plain_out / "top_per_solvent.parquet")
    assert a[["solvent_id", "T_K", "polymer_id", "rank"]].equals(b[["solvent_id", "T_K", "polymer_id", "rank"]])
    again = _run(problem, tmp_path / "ray", "ray")
    assert again.resumed and again.stats.skipped == 23


def test_killed_actor_loses_nothing(ray_session, problem, plain_out, tmp_path):
    state = {"actors": None, "killed": None, "pids": set()}

    def on_workers(actors):
        state["actors"] = actors

    def on_shard(stats):
        state["pids"].add(stats.get("pid"))
        if state["killed"] is None and len(state["pids"]) >= 1:
            pid = ray.get(state["actors"][0].pid.remote())
            os.kill(pid, signal.SIGKILL)
            state["killed"] = pid

    res = _run(problem, tmp_path / "killed", "ray", EngineHooks(on_workers=on_workers, on_shard=on_shard))
    assert state["killed"] is not None
    assert res.stats.written == 23
    assert len(state["pids"] - {None}) >= res.stats.workers + 1, "the killed actor should restart under a new pid"
    _same(_table(tmp_path / "killed"), _table(plain_out))
