"""Featurize batches of canonical molecules inside a long-lived process (a Ray actor on any node).

:class:`FeaturizeSpec` says what to compute and where the cache is; :class:`NodeFeaturizer`
keeps guarded worker processes (:class:`chiscreen.runtime.SupervisedPool`: per-molecule wall time
and address-space cap, killed and replaced past either) for the life of its owner, so a screen
actor pays their start-up once, not per shard. Every batch's results are appended to the
descriptor cache as one new part file (:meth:`DescriptorCache.append`), which is safe from many
nodes at once when the cache root is shared storage (a pyarrow filesystem URI).

No Ray here: the screen engine calls this from its actors and adds the node identity.
"""
from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

import numpy as np

from chiscreen.features.base import get_featurizer
from chiscreen.features.cache import DescriptorCache
from chiscreen.features.representation import SOLVENT_REPRESENTATION


@dataclass(frozen=True)
class FeaturizeSpec:
    """What a remote featurizer computes (picklable).

    Attributes:
        featurizer: registered featurizer name; polymer_representation: e.g. "periodic".
        cache_root: descriptor cache root (local path, pyarrow filesystem URI, or None: the
            CHISCREEN_CACHE of the process that featurizes).
        timeout_s: wall-time limit per molecule, seconds; mem_limit_mb: address-space cap per
            worker process (None: none).
    """

    featurizer: str
    polymer_representation: str
    cache_root: str | None = None
    timeout_s: float = 30.0
    mem_limit_mb: int | None = 3000

    def representation(self, kind: str) -> str:
        return self.polymer_representation if kind == "polymer" else SOLVENT_REPRESENTATION


def _proc_cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU seconds of running processes (Linux /proc; None elsewhere or on error)."""
    try:
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in pids:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        return total / tick
    except (OSError, ValueError, IndexError, AttributeError):
        return None


class NodeFeaturizer:
    """Guarded featurization of batches in ``workers`` persistent worker processes.

    :meth:`run` never raises for a molecule: a timeout, MemoryError, crash or RDKit error is that
    row's status "failed" with the reason. Raises CacheLocationError when the cache cannot be opened.
    """

    def __init__(self, spec: FeaturizeSpec, workers: int = 1) -> None:
        from chiscreen.runtime import SupervisedPool

        self.spec = spec
        self.fz = get_featurizer(spec.featurizer)
        self.pool = SupervisedPool("chiscreen.features.guard:compute_batch", workers=max(1, int(workers)),
                                   timeout_s=spec.timeout_s, mem_limit_mb=spec.mem_limit_mb)
        self._caches: dict[str, DescriptorCache] = {}

    def cache(self, kind: str) -> DescriptorCache:
        rep = self.spec.representation(kind)
        if rep not in self._caches:
            self._caches[rep] = DescriptorCache(self.fz.name, self.fz.version, rep, root=self.spec.cache_root)
        return self._caches[rep]

    def run(self, kind: str, keys: list[str]) -> dict:
        """Featurize canonical ``keys`` -> {"X": (n, F) float32 (NaN rows where failed),
        "status": ["ok" | "failed"], "reason": [...], "seconds": wall of the batch,
        "molecule_seconds": summed per-molecule wall time in the workers, "n_computed": distinct keys
        computed (a key given twice is computed once), "cpu_seconds": CPU
        (user + system) of the worker processes during the batch (Linux; 0 elsewhere), "n": n,
        "host": hostname, "pid": pid}; appended to the cache."""
        from chiscreen.features.guard import iter_guarded

        rep = self.spec.representation(kind)
        t0 = time.perf_counter()
        all_keys = list(keys)
        keys = list(dict.fromkeys(all_keys))  # one computation per identity (tacticity grades of one polymer)
        X = np.full((len(keys), len(self.fz)), np.nan, dtype=np.float32)
        status = ["failed"] * len(keys)
        reason = [""] * len(keys)
        mol_s = 0.0
        before = {pid: _proc_cpu_seconds([pid]) or 0.0 for pid in self.pool.pids()}
        for r in iter_guarded(self.pool, [(self.fz.name, kind, k, rep) for k in keys], self.spec.timeout_s):
            mol_s += r.seconds
            if r.values is not None:
                X[r.index], status[r.index] = r.values, "ok"
            else:
                reason[r.index] = r.reason
        # CPU of the workers alive now since the batch began (new ones: since they started)
        proc_cpu = sum((_proc_cpu_seconds([pid]) or 0.0) - before.get(pid, 0.0) for pid in self.pool.pids())
        self.cache(kind).append([(k, status[j], reason[j], X[j] if status[j] == "ok" else None)
                                 for j, k in enumerate(keys)])
        n_unique = len(keys)
        if len(all_keys) != n_unique:  # back to one row per requested key
            at = {k: j for j, k in enumerate(keys)}
            pos = [at[k] for k in all_keys]
            X, status, reason = X[pos], [status[j] for j in pos], [reason[j] for j in pos]
        return {"X": X, "status": status, "reason": reason, "seconds": time.perf_counter() - t0,
                "molecule_seconds": mol_s, "cpu_seconds": proc_cpu, "n": len(all_keys), "n_computed": n_unique,
                "host": socket.gethostname(), "pid": os.getpid()}

    def warm(self) -> None:
        """Start every worker process now (each featurizes methane once; nothing is cached)."""
        for j in range(self.pool.workers):
            self.pool.submit(j, (self.fz.name, "solvent", "C", SOLVENT_REPRESENTATION))
        while self.pool.pending:
            self.pool.wait()

    def close(self) -> None:
        self.pool.close()
