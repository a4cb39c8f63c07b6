"""Warm Ray actors (engine.keep_warm): a second screen of the driver runs on the first one's
actor processes, with its own model, and gives the same tables as the in-process path."""
import pandas as pd
import pytest

ray = pytest.importorskip("ray")

from chiscreen.model import ChiEnsemble  # noqa: E402
from chiscreen.screen import EngineConfig, EngineHooks, QueryConfig, ScreenConfig, run_screen  # noqa: E402
from chiscreen.screen.engine import close_warm_actors  # noqa: E402
from chiscreen.screen.synthetic import synthetic_catalogs  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def ray_session():
    """One embedded Ray for the module ("local": never attach to someone else's cluster)."""
    if ray.is_initialized():
        yield
        return
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def _run(out, kind, ens, data, keep_warm=False):
    pol, sol, Xp, Xs = data
    pids = set()
    cfg = ScreenConfig(temperatures=["300K"], query=QueryConfig(chi_max=0.2),
                       engine=EngineConfig(kind=kind, shard_size=50, keep_warm=keep_warm))
    run_screen(cfg, out=str(out), ensemble=ens, descriptors=(Xp, Xs), catalogs=(pol, sol), progress=False,
               hooks=EngineHooks(on_shard=lambda s: pids.add(s.get("pid"))))
    df = pd.read_parquet(out / "pairs").sort_values(["polymer_id", "T_K", "solvent_id"]).reset_index(drop=True)
    return df, pids - {None}


def test_warm_actors_are_reused_with_the_new_model(ray_session, tmp_path):
    data = synthetic_catalogs(400, 30, 10, seed=8, n_invalid=2)
    ens1 = ChiEnsemble.random(10, 10, n_members=3, d=5, seed=1)
    ens2 = ChiEnsemble.random(10, 10, n_members=3, d=5, seed=2)
    try:
        a1, pids1 = _run(tmp_path / "a", "ray", ens1, data, keep_warm=True)
        a2, pids2 = _run(tmp_path / "b", "ray", ens2, data, keep_warm=True)
        assert pids1 and pids2 <= pids1                       # the same actor processes
        pd.testing.assert_frame_equal(a1, _run(tmp_path / "p1", "plain", ens1, data)[0])
        pd.testing.assert_frame_equal(a2, _run(tmp_path / "p2", "plain", ens2, data)[0])  # ens2, not ens1
        assert not a1.equals(a2)
    finally:
        n = close_warm_actors()
    assert n >= 1
    _, pids3 = _run(tmp_path / "c", "ray", ens1, data)       # after closing: fresh actors
    assert pids3 and not (pids3 & pids1)
