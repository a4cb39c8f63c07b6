"""A supervised pool worker: ``python -m chiscreen.runtime._worker IN_FD OUT_FD MODULE:FUNC MEM_MB``.

Reads ``(key, item)`` from the IN pipe (None: stop), writes ``(key, kind, value, reason,
seconds)`` to the OUT pipe. The pipes connect only this process and the pool that started it.
``MEM_MB`` > 0 caps this process's address space (``RLIMIT_AS``) before the task module loads.
"""
from __future__ import annotations

import importlib
import sys
import time
from typing import Any, Callable


def resolve(fn: str) -> Callable[[Any], Any]:
    mod, _, name = fn.partition(":")
    return getattr(importlib.import_module(mod), name)


def call_one(f: Callable[[Any], Any], key: Any, item: Any, mem_mb: int | None) -> tuple:
    t0 = time.perf_counter()
    try:
        return key, "ok", f(item), "", time.perf_counter() - t0
    except MemoryError:
        cap = f" (limit {mem_mb} MB)" if mem_mb else ""
        return key, "memory", None, f"out of memory{cap}", time.perf_counter() - t0
    except Exception as exc:  # the task's own failure: one item, with its reason
        reason = f"{type(exc).__name__}: {exc}".strip()
        return key, "error", None, reason[:500], time.perf_counter() - t0


def main(argv: list[str]) -> int:  # pragma: no cover - runs in a child process
    from multiprocessing.connection import Connection

    rx = Connection(int(argv[0]), writable=False)
    tx = Connection(int(argv[1]), readable=False)
    mem_mb = int(argv[3]) or None
    if mem_mb:
        import resource

        lim = mem_mb << 20
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    f = resolve(argv[2])
    tx.send("__chiscreen_worker_ready__")  # the pool starts the task clock now
    while True:
        try:
            msg = rx.recv()
        except EOFError:
            return 0
        if msg is None:
            return 0
        key, item = msg
        out = call_one(f, key, item, mem_mb)
        try:
            tx.send(out)
        except Exception as exc:  # an unpicklable value: say so instead of dying
            tx.send((key, "error", None, f"result not picklable: {type(exc).__name__}: {exc}"[:500], out[4]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
