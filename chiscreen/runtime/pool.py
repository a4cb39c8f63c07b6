"""One supervised process pool: per-task wall time, a memory cap on the child, respawn.

Used by featurization (RDKit can spin for minutes inside C++ or exhaust memory), the oracle's
``process`` backend (xtb) and catalog canonicalization. Each worker is a fresh interpreter
(``python -m chiscreen.runtime._worker``, not fork/spawn of the caller), so the pool does not
depend on the caller's ``__main__``, threads or OpenMP state and runs the same inside a Ray task
or actor on any node. The memory cap (``RLIMIT_AS``) is set in the child only: the caller (a Ray
worker, the CLI) is never capped.

    from chiscreen.runtime import SupervisedPool
    with SupervisedPool("chiscreen.features.guard:compute_item", workers=2, timeout_s=30,
                        mem_limit_mb=3000) as pool:
        for out in pool.imap_unordered(items):      # Outcome per item, as they finish
            out.index, out.ok, out.value, out.kind, out.reason, out.seconds

The task function is named by ``"package.module:function"`` and is imported in the worker; it
takes one picklable argument and returns a picklable value. Every item ends in exactly one
:class:`Outcome`: a value, or a reason (``error``: the function raised; ``memory``: MemoryError
under the cap; ``timeout``: past ``timeout_s``, the worker is killed and replaced; ``crashed``:
the worker died, e.g. a segfault or the kernel's OOM kill, and is replaced). A failed item never
stops the others. A task's wall time counts from when its worker is ready (a new worker's
interpreter start and imports get :data:`STARTUP_S` of their own). ``submit`` / ``wait`` let a caller resubmit (the oracle retries some reasons).
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
from pathlib import Path
from typing import Any, Hashable, Iterable, Iterator

from chiscreen.errors import ConfigError

#: one thread per worker: parallelism comes from the processes (xtb, RDKit, numpy under OpenMP)
SINGLE_THREAD_ENV = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
OUTCOME_KINDS = ("ok", "error", "memory", "timeout", "crashed")
#: extra seconds a new worker gets to start (interpreter, imports) before its first task's clock runs
STARTUP_S = 120.0
_READY = "__chiscreen_worker_ready__"


@dataclass(slots=True)
class Outcome:
    """What became of one item: ``value`` when ``kind == "ok"``, else ``reason`` in words.

    Attributes:
        index: the key given to :meth:`SupervisedPool.submit` (the position for ``imap``/``map``).
        kind: one of :data:`OUTCOME_KINDS`.
        seconds: wall time of the attempt.
    """

    index: Hashable
    kind: str
    value: Any = None
    reason: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.kind == "ok"


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


class _Slot:
    """One worker process and its two pipes (parent -> child tasks, child -> parent outcomes)."""

    def __init__(self, fn: str, mem_limit_mb: int | None, env: dict[str, str]) -> None:
        c_rx, p_tx = os.pipe()
        p_rx, c_tx = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chiscreen.runtime._worker", str(c_rx), str(c_tx), fn, str(mem_limit_mb or 0)],
            pass_fds=(c_rx, c_tx), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, close_fds=True)
        os.close(c_rx)
        os.close(c_tx)
        self.rx = Connection(p_rx, writable=False)
        self.tx = Connection(p_tx, readable=False)
        self.key: Hashable | None = None
        self.busy = False
        self.ready = False  # the worker has imported the task function (its clock starts then)
        self.t0 = 0.0

    def deadline(self, timeout_s: float) -> float:
        return self.t0 + timeout_s + (0.0 if self.ready else STARTUP_S)

    def send(self, key: Hashable, item: Any) -> None:
        self.tx.send((key, item))
        self.key, self.busy, self.t0 = key, True, time.monotonic()

    def kill(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.kill()
        try:
            code = self.proc.wait(10)
        except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
            code = None
        self._close()
        return code

    def stop(self) -> None:
        try:
            self.tx.send(None)
            self.proc.wait(3)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            pass
        if self.proc.poll() is None:
            self.kill()
        self._close()

    def _close(self) -> None:
        for c in (self.rx, self.tx):
            try:
                c.close()
            except OSError:
                pass


class SupervisedPool:
    """``workers`` supervised worker processes running ``fn`` on submitted items.

    Args:
        fn: the task function, ``"package.module:function"`` (imported in each worker).
        workers: worker processes (started lazily, at most one per pending item).
        timeout_s: wall-time limit per item, seconds (None: none).
        mem_limit_mb: address-space cap (``RLIMIT_AS``) of each worker, MB (None: none).
        env: extra environment of the workers (default: one thread each, :data:`SINGLE_THREAD_ENV`).
    Raises:
        ConfigError for workers < 1 or a non-positive timeout / memory cap.
    """

    def __init__(self, fn: str, workers: int = 2, timeout_s: float | None = None,
                 mem_limit_mb: int | None = None, env: dict[str, str] | None = None) -> None:
        if ":" not in fn:
            raise ConfigError(f"pool task {fn!r} must be 'package.module:function'")
        if workers < 1:
            raise ConfigError(f"workers must be >= 1, got {workers}")
        if timeout_s is not None and timeout_s <= 0:
            raise ConfigError(f"timeout_s must be > 0 or None, got {timeout_s}")
        if mem_limit_mb is not None and mem_limit_mb <= 0:
            raise ConfigError(f"mem_limit_mb must be > 0 or None, got {mem_limit_mb}")
        self.fn, self.workers, self.timeout_s, self.mem_limit_mb = fn, int(workers), timeout_s, mem_limit_mb
        pp = os.environ.get("PYTHONPATH", "")
        root = _package_root()  # the worker imports this chiscreen, wherever the caller runs
        self._env = {**os.environ, **(SINGLE_THREAD_ENV if env is None else env),
                     "PYTHONPATH": root + (os.pathsep + pp if pp else "")}
        self._slots: list[_Slot] = []
        self._queue: deque[tuple[Hashable, Any]] = deque()
        self.respawns = 0

    # ------------------------------------------------------------------ lifecycle
    def __enter__(self) -> "SupervisedPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop every worker (idle ones politely, busy ones by SIGKILL)."""
        for s in self._slots:
            s.kill() if s.busy else s.stop()
        self._slots = []
        self._queue.clear()

    def pids(self) -> list[int]:
        return [s.proc.pid for s in self._slots]

    # ------------------------------------------------------------------ work
    @property
    def pending(self) -> int:
        """Items submitted and not yet returned by :meth:`wait`."""
        return len(self._queue) + sum(s.busy for s in self._slots)

    def submit(self, key: Hashable, item: Any) -> None:
        """Queue one item; its :class:`Outcome` carries ``key``."""
        self._queue.append((key, item))

    def _dispatch(self) -> None:
        idle = sum(not s.busy for s in self._slots)
        while len(self._queue) > idle and len(self._slots) < self.workers:
            self._slots.append(_Slot(self.fn, self.mem_limit_mb, self._env))
            idle += 1
        for k, s in enumerate(self._slots):
            if s.busy or not self._queue:
                continue
            key, item = self._queue.popleft()
            try:
                s.send(key, item)
            except (OSError, ValueError):  # died while idle: replace it, send again
                s.kill()
                self._slots[k] = s = self._respawn()
                s.send(key, item)

    def _respawn(self) -> _Slot:
        self.respawns += 1
        return _Slot(self.fn, self.mem_limit_mb, self._env)

    def wait(self, timeout: float | None = None) -> list[Outcome]:
        """Block until at least one item finishes (or ``timeout`` seconds pass); return the finished."""
        self._dispatch()
        done: list[Outcome] = []
        t_end = None if timeout is None else time.monotonic() + timeout
        while not done:
            busy = [s for s in self._slots if s.busy]
            if not busy:
                return done
            now = time.monotonic()
            limits = [] if self.timeout_s is None else [s.deadline(self.timeout_s) - now for s in busy]
            if t_end is not None:
                limits.append(t_end - now)
            wait_s = max(0.0, min(limits)) if limits else None
            by_conn = {s.rx: s for s in busy}
            for conn in mp_wait(list(by_conn), timeout=wait_s):
                s = by_conn[conn]
                try:
                    msg = s.rx.recv()
                    if msg == _READY:
                        s.ready, s.t0 = True, time.monotonic()
                        continue
                    key, kind, value, reason, secs = msg
                    s.busy = False
                    done.append(Outcome(key, kind, value, reason, secs))
                except (EOFError, OSError):  # the process died: segfault, OOM kill, os._exit
                    secs = time.monotonic() - s.t0
                    code = s.kill()
                    self._slots[self._slots.index(s)] = self._respawn()
                    done.append(Outcome(s.key, "crashed", None, f"worker process died (exit code {code}"
                                        + ("; out of memory?" if self.mem_limit_mb else "") + ")", secs))
            if self.timeout_s is not None:
                now = time.monotonic()
                for k, s in enumerate(self._slots):
                    if s.busy and now >= s.deadline(self.timeout_s):
                        s.kill()
                        self._slots[k] = self._respawn()
                        done.append(Outcome(s.key, "timeout", None, f"timeout: no result within {self.timeout_s:g} s",
                                            now - s.t0))
            self._dispatch()
            if t_end is not None and time.monotonic() >= t_end:
                break
        return done

    def imap_unordered(self, items: Iterable[Any]) -> Iterator[Outcome]:
        """Run every item (keys = positions); yield outcomes as they finish. Stops the workers at the end."""
        try:
            for i, item in enumerate(items):
                self.submit(i, item)
            while self.pending:
                yield from self.wait()
        finally:
            self.close()

    def map(self, items: Iterable[Any]) -> list[Outcome]:
        """Every item's outcome, in input order."""
        outs = list(self.imap_unordered(items))
        outs.sort(key=lambda o: o.index)
        return outs


def run_inline(fn: str, items: Iterable[Any]) -> Iterator[Outcome]:
    """The same contract in this process, without supervision (tiny jobs, debugging)."""
    from chiscreen.runtime._worker import call_one, resolve

    f = resolve(fn)
    for i, item in enumerate(items):
        _, kind, value, reason, secs = call_one(f, i, item, None)
        yield Outcome(i, kind, value, reason, secs)
