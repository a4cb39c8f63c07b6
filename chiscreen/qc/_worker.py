"""Worker process of the ``process`` backend: ``python -m chiscreen.qc._worker IN_FD OUT_FD``.

Reads ``(index, kind, smiles, spec_dict, attempt)`` messages from the IN pipe (None = stop),
writes ``(index, ProfileOutcome)`` to the OUT pipe. The pipes connect only this worker and the
parent that started it (multiprocessing Connection objects); nothing else is read.
"""
from __future__ import annotations

import os
import sys


def main(argv: list[str]) -> int:
    for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(k, "1")
    from multiprocessing.connection import Connection

    from chiscreen.qc.profile import ProfileSpec, profile_task

    rx = Connection(int(argv[0]), writable=False)
    tx = Connection(int(argv[1]), readable=False)
    while True:
        try:
            msg = rx.recv()
        except EOFError:
            return 0
        if msg is None:
            return 0
        idx, kind, smiles, spec_dict, attempt = msg
        out = profile_task(kind, smiles, ProfileSpec.from_dict(spec_dict), attempt)
        tx.send((idx, out))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
