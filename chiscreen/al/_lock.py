"""An exclusive advisory lock on a folder: ``fcntl.flock`` on ``DIR/.lock``, whose content
names the holder (pid, host, since). The kernel drops the lock when the holder dies, so a
stale lock of a killed process never blocks a rerun; the file then still names the dead
holder, which the next holder reports and replaces."""
from __future__ import annotations

import json
import os
import socket
import time
from contextlib import contextmanager
from pathlib import Path

from chiscreen.errors import ChiscreenError


class FolderLockedError(ChiscreenError):
    """Another process holds the folder's lock."""


@contextmanager
def folder_lock(folder: str | os.PathLike):
    import fcntl

    path = Path(folder) / ".lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                info = json.loads(Path(path).read_text() or "{}")
            except (OSError, ValueError):
                info = {}
            raise FolderLockedError(
                f"{folder} is in use: locked by pid {info.get('pid', '?')} on host {info.get('host', '?')} "
                f"since {info.get('since', '?')} (another cycle of this run is running; wait for it to finish)") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                  "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}).encode(), 0)
        yield path
    finally:
        os.close(fd)
