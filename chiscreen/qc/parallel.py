"""Run many profile calculations: serially, in a local process pool, or as Ray tasks.

Every backend returns one :class:`~chiscreen.qc.profile.ProfileOutcome` per task, in task order,
with a profile or a reason (``embedding_failed``, ``scf_not_converged``, ``timeout``,
``worker_crashed``, ...): a failed molecule never aborts the batch.

- ``serial``: in this process; no hard timeout (RDKit/xtb C code cannot be interrupted).
- ``process``: the runtime's supervised pool (:class:`chiscreen.runtime.SupervisedPool`):
  ``workers`` long-lived subprocesses (OMP_NUM_THREADS=1 each); a task past ``timeout_s`` gets
  its worker killed and replaced; a crashed worker is replaced too.
- ``ray``: Ray tasks (:func:`chiscreen.runtime.ray_map`) with ``num_cpus=1`` and
  OMP_NUM_THREADS=1 set per task, at most ``workers`` in flight, cancelled (force) past
  ``timeout_s``. Ray must already be connected by the entrypoint (:func:`init_ray`, i.e.
  :func:`chiscreen.runtime.connect_ray`); this module never imports Ray itself.

Failures with a retryable reason (embedding, SCF, crash, unexpected error) are retried up to
``retries`` times with a shifted embedding seed; timeouts and invalid input are not retried.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Sequence

from chiscreen.errors import ConfigError, OracleError
from chiscreen.qc.profile import ProfileOutcome, ProfileSpec, profile_task
from chiscreen.qc.results import Reason

Task = tuple[str, str]  # (kind, smiles)
ResultCallback = Callable[[int, ProfileOutcome], None]
BACKENDS = ("serial", "process", "ray")
RETRYABLE = {Reason.EMBEDDING_FAILED.value, Reason.SCF_NOT_CONVERGED.value,
             Reason.WORKER_CRASHED.value, Reason.ERROR.value}
_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "OMP_STACKSIZE": os.environ.get("OMP_STACKSIZE", "512M")}


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How to run profile tasks.

    Attributes:
        backend: "serial", "process" or "ray".
        workers: parallel workers (processes, or Ray tasks in flight).
        timeout_s: wall-clock limit per molecule and attempt, seconds (None: no limit).
        retries: extra attempts for retryable failures.
        progress: show a tqdm progress bar.
    """

    backend: str = "serial"
    workers: int = 2
    timeout_s: float | None = 600.0
    retries: int = 1
    progress: bool = False

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.workers < 1 or self.retries < 0:
            raise ConfigError("workers must be >= 1 and retries >= 0")
        if self.timeout_s is not None and self.timeout_s <= 0:
            raise ConfigError(f"timeout_s must be > 0, got {self.timeout_s}")


def _should_retry(out: ProfileOutcome, attempt: int, retries: int) -> bool:
    return out.reason in RETRYABLE and attempt <= retries


def run_profile_tasks(
    tasks: Sequence[Task], spec: ProfileSpec, options: RunOptions = RunOptions(),
    on_result: ResultCallback | None = None,
) -> list[ProfileOutcome]:
    """Compute profiles for ``tasks`` ((kind, smiles) pairs). Returns outcomes in task order;
    ``on_result(index, outcome)`` is called in this process as each final outcome arrives."""
    tasks = list(tasks)
    results: list[ProfileOutcome | None] = [None] * len(tasks)
    bar = None
    if options.progress and tasks:
        from chiscreen.runtime import bar as progress_bar

        bar = progress_bar(len(tasks), "profiles", True, unit="mol")

    def done(i: int, out: ProfileOutcome) -> None:
        results[i] = out
        if on_result is not None:
            on_result(i, out)
        if bar is not None:
            bar.update(1)

    try:
        if not tasks:
            return []
        if options.backend == "serial":
            _run_serial(tasks, spec, options, done)
        elif options.backend == "process":
            _run_processes(tasks, spec, options, done)
        else:
            _run_ray(tasks, spec, options, done)
    finally:
        if bar is not None:
            bar.close()
    assert all(r is not None for r in results)
    return results  # type: ignore[return-value]


# ---------------------------------------------------------------------------- serial
def _run_serial(tasks: list[Task], spec: ProfileSpec, options: RunOptions,
                done: Callable[[int, ProfileOutcome], None]) -> None:
    for i, (kind, smiles) in enumerate(tasks):
        attempt = 1
        while True:
            out = profile_task(kind, smiles, spec, attempt)
            if not _should_retry(out, attempt, options.retries):
                break
            attempt += 1
        done(i, out)


# ---------------------------------------------------------------------------- processes
def _pool_task(args: tuple[str, str, dict, int]) -> ProfileOutcome:
    """One attempt in a supervised pool worker (``chiscreen.runtime.SupervisedPool``)."""
    kind, smiles, spec_d, attempt = args
    return profile_task(kind, smiles, ProfileSpec.from_dict(spec_d), attempt)


def _run_processes(tasks: list[Task], spec: ProfileSpec, options: RunOptions,
                   done: Callable[[int, ProfileOutcome], None]) -> None:
    from chiscreen.runtime import SupervisedPool

    spec_d = spec.to_dict()
    pool = SupervisedPool(f"{__name__}:_pool_task", workers=min(options.workers, len(tasks)),
                          timeout_s=options.timeout_s, env=_THREAD_ENV)
    attempts = {i: 1 for i in range(len(tasks))}
    try:
        for i, (kind, smiles) in enumerate(tasks):
            pool.submit(i, (kind, smiles, spec_d, 1))
        while pool.pending:
            for o in pool.wait():
                idx = int(o.index)
                attempt = attempts[idx]
                kind, smiles = tasks[idx]
                if o.ok:
                    out = o.value
                elif o.kind == "timeout":
                    done(idx, ProfileOutcome(kind, smiles, None, Reason.TIMEOUT.value,
                                             f"no result within {options.timeout_s:g} s",
                                             seconds=o.seconds, attempts=attempt))
                    continue
                else:  # the process died (segfault, OOM kill) or the task raised outside profile_task
                    out = ProfileOutcome(kind, smiles, None, Reason.WORKER_CRASHED.value,
                                         o.reason, seconds=o.seconds, attempts=attempt)
                if _should_retry(out, attempt, options.retries):
                    attempts[idx] = attempt + 1
                    pool.submit(idx, (kind, smiles, spec_d, attempt + 1))
                else:
                    done(idx, out)
    finally:
        pool.close()


# ---------------------------------------------------------------------------- ray
def init_ray(num_cpus: int | None = None, address: str | None = None) -> None:
    """Connect to / start Ray (entrypoints only: the CLI and bench scripts call this).

    The same session settings as every chiscreen entrypoint (:func:`chiscreen.runtime.connect_ray`);
    the oracle's one-thread setting is applied per task, not to the session.
    """
    from chiscreen.runtime import connect_ray

    connect_ray(address=address, num_cpus=num_cpus)


def _ray_task(kind: str, smiles: str, spec_dict: dict, attempt: int) -> ProfileOutcome:
    return profile_task(kind, smiles, ProfileSpec.from_dict(spec_dict), attempt)


def _run_ray(tasks: list[Task], spec: ProfileSpec, options: RunOptions,
             done: Callable[[int, ProfileOutcome], None]) -> None:
    from chiscreen.runtime.cluster import RayUnavailableError, ray_map

    spec_d = spec.to_dict()
    attempts = {i: 1 for i in range(len(tasks))}

    def on_done(i: int, kind_: str, val, secs: float):
        kind, smiles = tasks[i]
        attempt = attempts[i]
        if kind_ == "timeout":
            done(i, ProfileOutcome(kind, smiles, None, Reason.TIMEOUT.value, f"no result within {options.timeout_s:g} s",
                                   seconds=secs, attempts=attempt))
            return None
        out = val if kind_ == "ok" else ProfileOutcome(kind, smiles, None, Reason.WORKER_CRASHED.value, str(val),
                                                       seconds=secs, attempts=attempt)
        if _should_retry(out, attempt, options.retries):
            attempts[i] = attempt + 1
            return (kind, smiles, spec_d, attempt + 1)
        done(i, out)
        return None

    try:
        ray_map(_ray_task, [(k, s, spec_d, 1) for k, s in tasks], workers=options.workers,
                timeout_s=options.timeout_s, threads=1, env={"OMP_STACKSIZE": _THREAD_ENV["OMP_STACKSIZE"]},
                on_done=on_done)
    except RayUnavailableError as exc:
        raise OracleError(f"{exc}; or use backend='process'") from exc
