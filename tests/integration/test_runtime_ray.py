"""The runtime on Ray: the supervised pool inside a Ray task (memory cap on the child only),
thread settings per task/actor whoever starts the session, no leftovers after a driver SIGKILL."""
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

ray = pytest.importorskip("ray")

from chiscreen.runtime import SupervisedPool, connect_ray, ray_options  # noqa: E402
from chiscreen.runtime._reaper import descendants  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]


@pytest.fixture(scope="module")
def session():
    if ray.is_initialized():
        yield
        return
    connect_ray(num_cpus=2)
    yield
    ray.shutdown()


def _pool_in_a_task():
    import resource

    pool = SupervisedPool("chiscreen.runtime._probe:allocate", workers=1, mem_limit_mb=700, timeout_s=60)
    outs = pool.map([1, 3000])
    return [o.kind for o in outs], resource.getrlimit(resource.RLIMIT_AS)[0]


def test_supervised_pool_runs_inside_a_ray_task(session):
    kinds, own_limit = ray.get(ray.remote(_pool_in_a_task).options(**ray_options(1)).remote())
    assert kinds == ["ok", "memory"]
    import resource

    assert own_limit == resource.RLIM_INFINITY  # the Ray worker itself is never capped


class _Env:
    def get(self, k):
        import torch

        return os.environ.get(k), torch.get_num_threads()


def _task_env():
    return os.environ.get("OMP_NUM_THREADS")


def test_threads_are_per_task_and_actor_not_per_session(session):
    one = ray.get(ray.remote(_task_env).options(**ray_options(1)).remote())  # the oracle's tasks
    Actor = ray.remote(_Env).options(**ray_options(2))  # a 2-thread screen actor in the same session
    a = Actor.remote()
    env, torch_threads = ray.get(a.get.remote("OMP_NUM_THREADS"))
    ray.kill(a)
    assert one == "1" and env == "2" and torch_threads == 2


DRIVER = textwrap.dedent("""
    import os, time
    from chiscreen.runtime import connect_ray
    ray = connect_ray(num_cpus=1)
    print("ready", flush=True)
    time.sleep(600)
""")


def test_no_ray_processes_left_after_a_driver_sigkill(tmp_path):
    script = tmp_path / "driver.py"
    script.write_text(DRIVER)
    d = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    try:
        assert d.stdout.readline().strip() == "ready"
        time.sleep(3)  # the agents are up
        kids = descendants(d.pid)
        assert len(kids) >= 3
        d.send_signal(signal.SIGKILL)
        d.wait()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 30:
            alive = [p for p in kids if os.path.exists(f"/proc/{p}")]
            if not alive:
                break
            time.sleep(0.5)
        assert not alive, f"{len(alive)} Ray process(es) still running {time.monotonic() - t0:.0f} s after the kill"
        print(f"all {len(kids)} processes gone {time.monotonic() - t0:.1f} s after the driver's SIGKILL")
    finally:
        if d.poll() is None:
            d.kill()
