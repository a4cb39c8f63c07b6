"""Guarded parallel featurization: worker processes with a wall-time kill and a memory cap.

RDKit can spend minutes inside C++ (ring perception on cyclic 10-mers of para-linked aromatic
backbones), where ``signal.alarm`` never fires, or exhaust memory. Each molecule therefore runs
in a worker of the runtime's :class:`~chiscreen.runtime.SupervisedPool`: address space capped
(``RLIMIT_AS``, the worker only), killed past the per-molecule wall time and replaced; the
molecule is recorded as failed with the reason. A crash or MemoryError fails that one molecule,
never the run.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
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


def run_guarded(
    items: list[WorkItem],
    n_jobs: int = 2,
    timeout_s: float = 30.0,
    mem_limit_mb: int | None = 3000,
    on_result: Callable[[GuardedResult], None] | None = None,
) -> Iterator[GuardedResult]:
    """Featurize ``items`` in supervised worker processes (:class:`chiscreen.runtime.SupervisedPool`);
    yields results as they complete.

    Args:
        items: work items (featurizer name, kind, canonical SMILES, representation).
        n_jobs: worker processes (at most len(items)).
        timeout_s: wall-time limit per molecule, seconds.
        mem_limit_mb: address-space cap per worker (None: no cap).
    """
    from chiscreen.runtime import SupervisedPool

    if not items:
        return
    pool = SupervisedPool(f"{__name__}:compute_item", workers=max(1, min(n_jobs, len(items))),
                          timeout_s=timeout_s, mem_limit_mb=mem_limit_mb)
    for o in pool.imap_unordered(items):
        res = GuardedResult(int(o.index), o.value if o.ok else None, outcome_reason(o, timeout_s), o.seconds)
        if on_result:
            on_result(res)
        yield res


def outcome_reason(o, timeout_s: float) -> str:
    """The per-molecule reason of a pool :class:`~chiscreen.runtime.Outcome` that is not ok."""
    if o.kind == "timeout":
        return f"timeout: exceeded {timeout_s:g} s"
    if o.kind == "crashed":
        return o.reason.replace("worker process died", "worker died")
    return o.reason


def run_inline(items: Iterable[WorkItem]) -> Iterator[GuardedResult]:
    """Unguarded, in-process featurization (for tiny jobs and debugging)."""
    for i, item in enumerate(items):
        t0 = time.perf_counter()
        try:
            yield GuardedResult(i, compute_item(item), "", time.perf_counter() - t0)
        except Exception as exc:
            yield GuardedResult(i, None, f"{type(exc).__name__}: {exc}", time.perf_counter() - t0)

