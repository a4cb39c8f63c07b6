"""Run many profile calculations: serially, in a local process pool, or as Ray tasks.

Every backend returns one :class:`~chiscreen.qc.profile.ProfileOutcome` per task, in task order,
with a profile or a reason (``embedding_failed``, ``scf_not_converged``, ``timeout``,
``worker_crashed``, ...): a failed molecule never aborts the batch.

- ``serial``: in this process; no hard timeout (RDKit/xtb C code cannot be interrupted).
- ``process``: ``workers`` long-lived worker subprocesses (OMP_NUM_THREADS=1 each); a task past
  ``timeout_s`` gets its worker killed and replaced; a crashed worker is replaced too.
- ``ray``: Ray tasks with ``num_cpus=1`` and OMP_NUM_THREADS=1, at most ``workers`` in flight,
  cancelled (force) past ``timeout_s``. Ray must already be initialised by the entrypoint
  (:func:`init_ray` is the helper entrypoints call); this module never calls ``ray.init`` itself.

Failures with a retryable reason (embedding, SCF, crash, unexpected error) are retried up to
``retries`` times with a shifted embedding seed; timeouts and invalid input are not retried.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as mp_wait
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
        from tqdm.auto import tqdm

        bar = tqdm(total=len(tasks), desc="profiles", unit="mol")

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
class _Worker:
    """One ``python -m chiscreen.qc._worker`` subprocess and its two pipes. A subprocess (not
    multiprocessing's spawn) needs no ``if __name__ == "__main__"`` guard in the caller, and a
    fresh interpreter avoids forking a process whose OpenMP runtime is already running."""

    def __init__(self) -> None:
        p_rx, c_tx = os.pipe()  # child -> parent
        c_rx, p_tx = os.pipe()  # parent -> child
        env = {**os.environ, **_THREAD_ENV}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chiscreen.qc._worker", str(c_rx), str(c_tx)],
            pass_fds=(c_rx, c_tx), env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, close_fds=True)
        os.close(c_rx)
        os.close(c_tx)
        self.rx = Connection(p_rx, writable=False)
        self.tx = Connection(p_tx, readable=False)
        self.task: tuple[int, int] | None = None  # (index, attempt)
        self.started = 0.0

    def submit(self, idx: int, attempt: int, task: Task, spec: dict) -> None:
        self.task, self.started = (idx, attempt), time.monotonic()
        self.tx.send((idx, task[0], task[1], spec, attempt))

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        self.rx.close()
        self.tx.close()

    def stop(self) -> None:
        try:
            self.tx.send(None)
        except OSError:
            pass
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.rx.close()
        self.tx.close()


def _run_processes(tasks: list[Task], spec: ProfileSpec, options: RunOptions,
                   done: Callable[[int, ProfileOutcome], None]) -> None:
    spec_d = spec.to_dict()
    queue: deque[tuple[int, int]] = deque((i, 1) for i in range(len(tasks)))
    workers = [_Worker() for _ in range(min(options.workers, len(tasks)))]

    def finish(idx: int, attempt: int, out: ProfileOutcome) -> None:
        if _should_retry(out, attempt, options.retries):
            queue.appendleft((idx, attempt + 1))
        else:
            done(idx, out)

    try:
        while True:
            for w in workers:
                if w.task is None and queue:
                    idx, attempt = queue.popleft()
                    try:
                        w.submit(idx, attempt, tasks[idx], spec_d)
                    except OSError:  # the worker died while idle: replace it and retry once
                        w.kill()
                        workers[workers.index(w)] = w = _Worker()
                        w.submit(idx, attempt, tasks[idx], spec_d)
            busy = [w for w in workers if w.task is not None]
            if not busy:
                break
            wait_s = None
            if options.timeout_s is not None:
                now = time.monotonic()
                wait_s = max(0.0, min(w.started + options.timeout_s - now for w in busy))
            by_conn = {w.rx: w for w in busy}
            for conn in mp_wait(list(by_conn), timeout=wait_s):
                w = by_conn[conn]
                assert w.task is not None
                idx, attempt = w.task
                try:
                    _, out = w.rx.recv()
                    w.task = None
                    finish(idx, attempt, out)
                except (EOFError, OSError):  # the process died: segfault, OOM kill
                    elapsed = time.monotonic() - w.started
                    w.kill()
                    code = w.proc.returncode
                    workers[workers.index(w)] = _Worker()
                    kind, smiles = tasks[idx]
                    finish(idx, attempt, ProfileOutcome(
                        kind, smiles, None, Reason.WORKER_CRASHED.value,
                        f"worker process died (exit code {code})", seconds=elapsed,
                        attempts=attempt))
            if options.timeout_s is not None:
                now = time.monotonic()
                for k, w in enumerate(workers):
                    if w.task is not None and now - w.started >= options.timeout_s:
                        idx, attempt = w.task
                        kind, smiles = tasks[idx]
                        w.kill()
                        workers[k] = _Worker()
                        done(idx, ProfileOutcome(
                            kind, smiles, None, Reason.TIMEOUT.value,
                            f"no result within {options.timeout_s:g} s",
                            seconds=now - w.started, attempts=attempt))
    finally:
        for w in workers:
            w.stop()


# ---------------------------------------------------------------------------- ray
def init_ray(num_cpus: int | None = None, address: str | None = None, **kwargs) -> None:
    """Initialise Ray for the oracle (entrypoints only: the CLI and bench scripts call this).

    Starts a local Ray runtime (or connects to ``address``) whose workers run with
    OMP_NUM_THREADS=1; does nothing if Ray is already initialised.
    """
    import ray

    if ray.is_initialized():
        return
    env = {"env_vars": dict(_THREAD_ENV)}
    ray.init(address=address, num_cpus=num_cpus, include_dashboard=False,
             runtime_env=env, log_to_driver=False, **kwargs)


def _ray_task(kind: str, smiles: str, spec_dict: dict, attempt: int) -> ProfileOutcome:
    os.environ.update(_THREAD_ENV)
    return profile_task(kind, smiles, ProfileSpec.from_dict(spec_dict), attempt)


def _run_ray(tasks: list[Task], spec: ProfileSpec, options: RunOptions,
             done: Callable[[int, ProfileOutcome], None]) -> None:
    try:
        import ray
    except ImportError as exc:
        raise OracleError(f"backend 'ray' needs the ray package: {exc}") from exc
    if not ray.is_initialized():
        raise OracleError("Ray is not initialised: call chiscreen.qc.parallel.init_ray() (or "
                          "ray.init()) in the entrypoint, or use backend='process'")
    remote = ray.remote(num_cpus=1, max_retries=0)(_ray_task)
    spec_d = spec.to_dict()
    queue: deque[tuple[int, int]] = deque((i, 1) for i in range(len(tasks)))
    inflight: dict = {}  # ref -> (idx, attempt, t_submit)
    while queue or inflight:
        while queue and len(inflight) < options.workers:
            idx, attempt = queue.popleft()
            ref = remote.remote(tasks[idx][0], tasks[idx][1], spec_d, attempt)
            inflight[ref] = (idx, attempt, time.monotonic())
        wait_s = None
        if options.timeout_s is not None:
            now = time.monotonic()
            wait_s = max(0.0, min(t + options.timeout_s - now for _, _, t in inflight.values()))
        ready, _ = ray.wait(list(inflight), num_returns=1, timeout=wait_s)
        for ref in ready:
            idx, attempt, t0 = inflight.pop(ref)
            kind, smiles = tasks[idx]
            try:
                out = ray.get(ref)
            except Exception as exc:  # worker died or the task raised outside profile_task
                out = ProfileOutcome(kind, smiles, None, Reason.WORKER_CRASHED.value,
                                     f"{type(exc).__name__}: {exc}"[:500],
                                     seconds=time.monotonic() - t0, attempts=attempt)
            if _should_retry(out, attempt, options.retries):
                queue.appendleft((idx, attempt + 1))
            else:
                done(idx, out)
        if options.timeout_s is not None:
            now = time.monotonic()
            for ref, (idx, attempt, t0) in list(inflight.items()):
                if now - t0 >= options.timeout_s:
                    ray.cancel(ref, force=True)
                    inflight.pop(ref)
                    kind, smiles = tasks[idx]
                    done(idx, ProfileOutcome(kind, smiles, None, Reason.TIMEOUT.value,
                                             f"no result within {options.timeout_s:g} s",
                                             seconds=now - t0, attempts=attempt))
