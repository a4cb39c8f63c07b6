"""Entry point of a guarded featurization worker (``python -m chiscreen.features._guard_worker``)."""
import sys
from multiprocessing.connection import Connection

from chiscreen.features.guard import _worker

if __name__ == "__main__":  # pragma: no cover - runs in a child process
    _worker(Connection(int(sys.argv[1]), writable=False), Connection(int(sys.argv[2]), readable=False),
            int(sys.argv[3]) or None)
