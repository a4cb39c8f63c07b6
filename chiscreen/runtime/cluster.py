"""The one place chiscreen connects to or starts Ray, and the per-task/actor thread settings.

    from chiscreen.runtime import connect_ray, ray_options
    connect_ray(address=None, num_cpus=None)          # idempotent; same settings for every caller
    Actor = ray.remote(Body).options(**ray_options(threads=4))
    remote = ray.remote(fn).options(**ray_options(threads=1))

``connect_ray``: ``address`` given -> that cluster ("auto" inside ``ray job submit``); None -> the
cluster of the current Ray job when there is one, else an embedded local Ray (``address="local"``:
never someone else's cluster by accident). It sets no thread variables: those belong to each task
or actor (:func:`ray_options`), so the oracle's one-thread tasks and multi-threaded screen actors
coexist in one Ray session whichever starts first. The user's chiscreen variables
(:data:`FORWARDED_ENV`: CHISCREEN_CACHE, ...) go to every worker via ``runtime_env``; a submitted
job gets them from :func:`job_runtime_env` (``jobs/submit.py``). An embedded local session gets a
detached reaper (:mod:`chiscreen.runtime._reaper`) that kills its leftover processes once the driver
is gone, also after a SIGKILL (CHISCREEN_RAY_REAPER=0 turns it off). Ray's own noise is kept out of a
normal run: no dashboard, no usage stats, auth warnings for a local session silenced, worker
logs only on error.

Ray is imported inside the functions, never at import time of chiscreen.
"""
from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from chiscreen.errors import ChiscreenError

log = logging.getLogger("chiscreen.runtime")

#: environment variables of the user that every Ray worker and submitted job must see
FORWARDED_ENV = ("CHISCREEN_CACHE", "CHISCREEN_DATA", "CHISCREEN_HOME", "CHISCREEN_MODEL")
#: set before Ray starts a local session (setdefault: the user's own choice wins)
_QUIET_ENV = {"RAY_USAGE_STATS_ENABLED": "0", "RAY_DEDUP_LOGS": "0"}


class RayUnavailableError(ChiscreenError):
    """Ray is not installed or cannot be reached."""


def forwarded_env() -> dict[str, str]:
    """The user's chiscreen variables that are set (name -> value), plus PYTHONPATH when set."""
    env = {k: os.environ[k] for k in FORWARDED_ENV if os.environ.get(k)}
    if os.environ.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def thread_env(threads: int) -> dict[str, str]:
    """Thread variables for a task/actor with ``threads`` CPUs (one: no OpenMP spin; several:
    passive waiting so idle OpenMP threads do not steal cores from neighbours)."""
    n = str(max(1, int(threads)))
    env = {"OMP_NUM_THREADS": n, "OPENBLAS_NUM_THREADS": n, "MKL_NUM_THREADS": n}
    if int(threads) > 1:
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def ray_options(threads: int = 1, num_gpus: float = 0, env: dict[str, str] | None = None, **extra: Any) -> dict:
    """``.options(...)`` of a task or actor: ``threads`` CPUs and matching thread variables."""
    opts: dict[str, Any] = {"num_cpus": max(1, int(threads)), "num_gpus": num_gpus,
                            "runtime_env": {"env_vars": {**thread_env(threads), **(env or {})}}}
    opts.update(extra)
    return opts


_JOB_VARS = ("RAY_JOB_CONFIG_JSON_ENV_VAR", "RAY_JOB_ID", "RAY_SUBMISSION_ID")


def in_submitted_job() -> bool:
    """Whether this process is the driver of a ``ray job submit`` job (its runtime_env is set)."""
    return any(os.environ.get(k) for k in _JOB_VARS)


def in_ray_job() -> bool:
    return in_submitted_job() or bool(os.environ.get("RAY_ADDRESS"))


def import_ray():
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - ray is a dependency
        raise RayUnavailableError(f"the Ray engine needs the ray package: {exc}") from exc
    return ray


def connect_ray(address: str | None = None, num_cpus: int | None = None, log_to_driver: bool = False) -> Any:
    """Connect to (or start) Ray once per process with chiscreen's settings; returns the ray module.

    Args:
        address: Ray address ("auto", "ray://host:10001", "127.0.0.1:6379"); None: the current
            job's cluster inside ``ray job submit``, else an embedded local Ray.
        num_cpus: CPUs of an embedded local Ray (None: all). Ignored when connecting.
        log_to_driver: stream worker stdout/stderr to this process (off: chiscreen's workers
            report through return values; Ray still logs worker errors to its session folder).
    Raises:
        RayUnavailableError when the cluster cannot be reached.
    """
    ray = import_ray()
    if ray.is_initialized():
        return ray
    for k, v in _QUIET_ENV.items():
        os.environ.setdefault(k, v)
    if address is None and in_ray_job():
        address = "auto"
    kw: dict[str, Any] = {"log_to_driver": log_to_driver, "configure_logging": True, "logging_level": logging.ERROR}
    env = forwarded_env()
    if address is None or address == "local":
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private local session: no token warning
        kw.update(address="local", num_cpus=num_cpus, include_dashboard=False)
        if env:
            kw["runtime_env"] = {"env_vars": env}
    else:
        kw["address"] = address
        if env and not in_submitted_job():  # inside a job: the job's runtime_env already applies
            kw["runtime_env"] = {"env_vars": env}
    try:
        try:
            ray.init(**kw)
        except (RuntimeError, ValueError) as exc:
            if "runtime_env" not in kw or "runtime env" not in str(exc).lower():
                raise
            kw.pop("runtime_env")  # a job-level runtime_env we could not see: it already applies
            ray.init(**kw)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RayUnavailableError(f"cannot connect to Ray at {address!r}: {str(exc).splitlines()[0]}") from exc
    if kw["address"] == "local":
        _start_reaper()
    log.debug("ray connected: %s", kw.get("address"))
    return ray


def _start_reaper() -> None:
    """A detached watcher that kills this embedded session's leftover processes once this driver is
    gone (after a SIGKILL of the driver, Ray's agents otherwise linger for about a minute)."""
    import subprocess
    import sys

    if not os.path.isdir("/proc") or os.environ.get("CHISCREEN_RAY_REAPER") == "0":
        return
    from chiscreen.runtime.pool import _package_root

    pp = os.environ.get("PYTHONPATH", "")
    env = {**os.environ, "PYTHONPATH": _package_root() + (os.pathsep + pp if pp else "")}
    subprocess.Popen([sys.executable, "-m", "chiscreen.runtime._reaper", str(os.getpid())], env=env,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True, close_fds=True)


def job_runtime_env(working_dir: str | None = None, extra_env: dict[str, str] | None = None,
                    data_dir: str | os.PathLike | None = None) -> dict:
    """``--runtime-env-json`` of ``ray job submit``: the user's chiscreen variables (and
    ``working_dir``) so that a submitted job reads the same caches as a local run.

    ``data_dir``: the reference data folder the driver resolved (``chiscreen.data.locator.data_dir``);
    passed as ``CHISCREEN_DATA`` when neither the user's environment nor ``extra_env`` sets it and
    the folder exists, because in the job's working-dir copy ``../shared/data`` is not beside the
    project any more. (On a remote cluster a driver path that is not there is skipped by the locator.)
    """
    env = {k: v for k, v in forwarded_env().items() if k != "PYTHONPATH"}
    env.update(extra_env or {})
    if data_dir is not None and not env.get("CHISCREEN_DATA") and Path(data_dir).expanduser().is_dir():
        env["CHISCREEN_DATA"] = str(Path(data_dir).expanduser().resolve())
    re: dict[str, Any] = {"env_vars": env}
    if working_dir:
        re["working_dir"] = working_dir
    return re


def shutdown_ray() -> None:
    """Disconnect (stops an embedded local Ray started by :func:`connect_ray`)."""
    try:
        import ray
    except ImportError:  # pragma: no cover
        return
    if ray.is_initialized():
        ray.shutdown()


def ray_map(fn, args: list[tuple], workers: int, timeout_s: float | None = None, threads: int = 1,
            env: dict[str, str] | None = None, on_done=None) -> list[tuple[str, Any, float]]:
    """Run ``fn(*a)`` for each ``a`` of ``args`` as Ray tasks, at most ``workers`` in flight.

    A task past ``timeout_s`` is cancelled (force). Returns per task ``(kind, value_or_reason,
    seconds)`` in order, kind ``ok`` / ``error`` / ``timeout``; ``on_done(i, kind, value, seconds)``
    is called as each finishes and may return a new argument tuple to run again for that index
    (a retry) instead of recording it. Ray must be connected (:func:`connect_ray`).
    """
    import time
    from collections import deque

    ray = import_ray()
    if not ray.is_initialized():
        raise RayUnavailableError("Ray is not initialised: call chiscreen.runtime.connect_ray() (or chiscreen.qc.init_ray()) in the entrypoint")
    remote = ray.remote(max_retries=0)(fn).options(**ray_options(threads, env=env))
    out: list[Any] = [None] * len(args)
    queue: deque[tuple[int, tuple]] = deque(enumerate(args))
    inflight: dict = {}

    def finish(i: int, kind: str, val: Any, secs: float) -> None:
        again = on_done(i, kind, val, secs) if on_done else None
        if again is not None:
            queue.appendleft((i, again))
        else:
            out[i] = (kind, val, secs)

    while queue or inflight:
        while queue and len(inflight) < workers:
            i, a = queue.popleft()
            inflight[remote.remote(*a)] = (i, time.monotonic())
        wait_s = None
        if timeout_s is not None:
            now = time.monotonic()
            wait_s = max(0.0, min(t + timeout_s - now for _, t in inflight.values()))
        ready, _ = ray.wait(list(inflight), num_returns=1, timeout=wait_s)
        for ref in ready:
            i, t0 = inflight.pop(ref)
            try:
                finish(i, "ok", ray.get(ref), time.monotonic() - t0)
            except Exception as exc:  # the task raised, or its worker died
                finish(i, "error", f"{type(exc).__name__}: {exc}"[:500], time.monotonic() - t0)
        if timeout_s is not None:
            now = time.monotonic()
            for ref, (i, t0) in list(inflight.items()):
                if now - t0 >= timeout_s:
                    ray.cancel(ref, force=True)
                    inflight.pop(ref)
                    out[i] = ("timeout", f"no result within {timeout_s:g} s", now - t0)
                    if on_done:
                        on_done(i, "timeout", out[i][1], now - t0)
    return out
