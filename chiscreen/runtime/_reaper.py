"""Reaper of an embedded Ray session: ``python -m chiscreen.runtime._reaper DRIVER_PID``.

Started (in its own session) by :func:`chiscreen.runtime.connect_ray` when it starts a local Ray.
While the driver lives it records the driver's descendants (pid and start time: Ray's GCS,
raylet, agents, workers; supervised pool workers). When the driver is gone (a clean exit, or a
SIGKILL that leaves Ray's dashboard and runtime-env agents running for about a minute) it waits
a moment, then kills whichever of the recorded processes still run, and exits. A pid reused by
an unrelated process is never touched (its start time differs).
"""
from __future__ import annotations

import os
import signal
import sys
import time


def _stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, start time in clock ticks) from /proc, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read().decode(errors="replace")
    except OSError:
        return None
    fields = raw[raw.rfind(")") + 2:].split()
    return int(fields[1]), int(fields[19])


def descendants(root: int) -> dict[int, int]:
    """pid -> start time of every live descendant of ``root``."""
    children: dict[int, list[int]] = {}
    start: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                children.setdefault(st[0], []).append(int(name))
                start[int(name)] = st[1]
    out, todo = {}, [root]
    while todo:
        for c in children.get(todo.pop(), []):
            if c not in out:
                out[c] = start[c]
                todo.append(c)
    return out


def main(argv: list[str]) -> int:  # pragma: no cover - runs detached
    driver = int(argv[0])
    me = os.getpid()
    driver_start = (_stat(driver) or (0, -1))[1]
    seen: dict[int, int] = {}
    while True:
        st = _stat(driver)
        if st is None or st[1] != driver_start:
            break
        seen.update({p: t for p, t in descendants(driver).items() if p != me})
        time.sleep(1.0)
    time.sleep(2.0)  # a clean shutdown finishes on its own
    for pid, t in seen.items():
        st = _stat(pid)
        if st is not None and st[1] == t:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
