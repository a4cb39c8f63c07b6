"""Guarded parallel featurization: worker processes with a wall-time kill and a memory cap.

RDKit can spend minutes inside C++ (ring perception on cyclic 10-mers of para-linked aromatic
backbones), where ``signal.alarm`` never fires, or exhaust memory. Each molecule therefore runs
in a worker process whose address space is capped (``RLIMIT_AS``); the parent kills a worker that
exceeds the per-molecule wall time, records the molecule as failed with the reason, and starts a
fresh worker for the rest. A crash or MemoryError fails that one molecule, never the run.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Callable, Iterable, Iterator

import numpy as np

WorkItem = tuple[str, str, str, str]  # (featurizer name, kind, canonical smiles, representation)


@dataclass(slots=True)
class GuardedResult:
    """Outcome of one molecule: ``values`` (float32 vector) or ``reason``."""

    index: int
    values: np.ndarray | None
    reason: str
    seconds: float


_FEATURIZER_CACHE: dict = {}


def compute_item(item: WorkItem) -> np.ndarray:
    """Build the molecule and featurize it (runs inside a worker)."""
    from chiscreen.features.base import get_featurizer
    from chiscreen.features.representation import molecule_for

    name, kind, smiles, rep = item
    fz = _FEATURIZER_CACHE.get(name)
    if fz is None:
        fz = _FEATURIZER_CACHE[name] = get_featurizer(name)
    mol = molecule_for(kind, smiles, rep)
    return fz(mol)


def _worker(conn, out, mem_limit_mb: int | None) -> None:  # pragma: no cover - runs in a child
    if mem_limit_mb:
        import resource

        lim = int(mem_limit_mb) << 20
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        idx, item = msg
        t0 = time.perf_counter()
        try:
            vals = compute_item(item)
            out.send((idx, vals, "", time.perf_counter() - t0))
        except MemoryError:
            out.send((idx, None, f"out of memory (limit {mem_limit_mb} MB)", time.perf_counter() - t0))
        except Exception as exc:  # any RDKit or chemistry failure: one molecule, with its reason
            reason = f"{type(exc).__name__}: {exc}".strip()
            out.send((idx, None, reason[:500], time.perf_counter() - t0))


class _Slot:
    """One worker: a fresh ``python -m chiscreen.features._guard_worker`` process talking over two pipes.

    A separate interpreter (not fork/spawn of the caller) keeps the guard independent of the
    caller's ``__main__`` and threads (torch, Ray).
    """

    def __init__(self, mem_limit_mb):
        self.mem = mem_limit_mb
        self.start()

    def start(self):
        to_child_r, to_child_w = os.pipe()
        to_parent_r, to_parent_w = os.pipe()
        env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "chiscreen.features._guard_worker", str(to_child_r), str(to_parent_w),
             str(self.mem or 0)],
            pass_fds=(to_child_r, to_parent_w), env=env, stdin=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(to_parent_w)
        self.send_conn = Connection(to_child_w, readable=False)
        self.conn = Connection(to_parent_r, writable=False)
        self.task: int | None = None
        self.t0 = 0.0

    @property
    def sentinel(self):
        return self.conn

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self):
        try:
            self.proc.kill()
            self.proc.wait(5)
        finally:
            for c in (self.conn, self.send_conn):
                try:
                    c.close()
                except OSError:
                    pass


def run_guarded(
    items: list[WorkItem],
    n_jobs: int = 2,
    timeout_s: float = 30.0,
    mem_limit_mb: int | None = 3000,
    on_result: Callable[[GuardedResult], None] | None = None,
) -> Iterator[GuardedResult]:
    """Featurize ``items`` in guarded worker processes; yields results as they complete.

    Args:
        items: work items (featurizer name, kind, canonical SMILES, representation).
        n_jobs: worker processes (at most len(items)).
        timeout_s: wall-time limit per molecule, seconds.
        mem_limit_mb: address-space cap per worker (None: no cap).
    """
    if not items:
        return
    slots = [_Slot(mem_limit_mb) for _ in range(max(1, min(n_jobs, len(items))))]
    todo = list(range(len(items)))[::-1]
    done = 0
    try:
        while done < len(items):
            for s in slots:
                if s.task is None and todo:
                    s.task = todo.pop()
                    s.t0 = time.perf_counter()
                    s.send_conn.send((s.task, items[s.task]))
            busy = [s for s in slots if s.task is not None]
            now = time.perf_counter()
            wait_for = max(0.01, min(s.t0 + timeout_s - now for s in busy))
            ready = wait([s.conn for s in busy], timeout=wait_for)
            now = time.perf_counter()
            for s in busy:
                res = None
                dead = False
                if s.conn in ready:
                    try:
                        idx, vals, reason, secs = s.conn.recv()
                        res = GuardedResult(idx, vals, reason, secs)
                    except (EOFError, OSError):
                        dead = True
                if res is None and dead:
                    try:
                        code = s.proc.wait(5)
                    except subprocess.TimeoutExpired:
                        code = None
                    res = GuardedResult(s.task, None, f"worker died (exit code {code}; out of memory?)", now - s.t0)
                    s.kill()
                    s.start()
                elif res is None and now - s.t0 > timeout_s:
                    res = GuardedResult(s.task, None, f"timeout: exceeded {timeout_s:g} s", now - s.t0)
                    s.kill()
                    s.start()
                if res is not None:
                    s.task = None
                    done += 1
                    if on_result:
                        on_result(res)
                    yield res
    finally:
        for s in slots:
            try:
                s.send_conn.send(None)
                s.proc.wait(2)
            except Exception:
                pass
            if s.alive():
                s.kill()


def run_inline(items: Iterable[WorkItem]) -> Iterator[GuardedResult]:
    """Unguarded, in-process featurization (for tiny jobs and debugging)."""
    for i, item in enumerate(items):
        t0 = time.perf_counter()
        try:
            yield GuardedResult(i, compute_item(item), "", time.perf_counter() - t0)
        except Exception as exc:
            yield GuardedResult(i, None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)

