"""Runners: serial, local processes (timeouts, crashes, bad input), Ray."""
from __future__ import annotations

import pytest

from chiscreen.errors import ConfigError, OracleError
from chiscreen.qc import ProfileSpec, RunOptions, run_profile_tasks
from chiscreen.qc.results import Reason

SPEC = ProfileSpec(n_conformers=1)
TASKS = [("solvent", "O"), ("solvent", "not-a-smiles"), ("solvent", "CO")]


def test_options_validation():
    with pytest.raises(ConfigError):
        RunOptions(backend="dask")
    with pytest.raises(ConfigError):
        RunOptions(workers=0)


def test_serial_keeps_order_and_reasons():
    pytest.importorskip("tblite.interface", reason="tblite is not installed")
    seen = []
    out = run_profile_tasks(TASKS, SPEC, RunOptions(backend="serial"),
                            on_result=lambda i, o: seen.append(i))
    assert [o.ok for o in out] == [True, False, True]
    assert out[1].reason == Reason.INVALID_INPUT.value
    assert sorted(seen) == [0, 1, 2]


@pytest.mark.slow
def test_process_pool_results_and_timeout():
    pytest.importorskip("tblite.interface", reason="tblite is not installed")
    out = run_profile_tasks(TASKS, SPEC, RunOptions(backend="process", workers=2, timeout_s=120))
    assert [o.ok for o in out] == [True, False, True]
    assert out[0].record.canonical == "O"
    # a limit far below a worker's start-up time: every task times out, the batch still returns
    out = run_profile_tasks([("solvent", "CCO"), ("solvent", "CC")], SPEC,
                            RunOptions(backend="process", workers=1, timeout_s=0.05))
    assert [o.reason for o in out] == [Reason.TIMEOUT.value] * 2


def test_ray_requires_initialisation():
    ray = pytest.importorskip("ray", reason="ray is not installed")
    if ray.is_initialized():
        pytest.skip("Ray already initialised in this process")
    with pytest.raises(OracleError, match="not initialised"):
        run_profile_tasks(TASKS, SPEC, RunOptions(backend="ray"))


@pytest.mark.slow
@pytest.mark.ray
def test_ray_tasks():
    ray = pytest.importorskip("ray", reason="ray is not installed")
    pytest.importorskip("tblite.interface", reason="tblite is not installed")
    from chiscreen.qc import init_ray

    started = not ray.is_initialized()
    init_ray(num_cpus=1)
    try:
        out = run_profile_tasks(TASKS, SPEC, RunOptions(backend="ray", workers=1, timeout_s=120))
        assert [o.ok for o in out] == [True, False, True]
    finally:
        if started:
            ray.shutdown()
