"""Guarded parallel featurization: worker processes with a wall-time kill and a memory cap.

RDKit can spend minutes inside C++ (ring perception on cyclic 10-mers of para-linked aromatic
backbones), where ``signal.alarm`` never fires, or exhaust memory. Molecules therefore run in
workers of the runtime's :class:`~chiscreen.runtime.SupervisedPool`: address space capped
(``RLIMIT_AS``, the worker only), killed past the wall time and replaced. They travel
:data:`BATCH` to a task (one pipe round trip each); a task that times out, runs out of memory or
crashes is retried one molecule per task, so the limits and the recorded reason stay per
molecule. A crash or MemoryError fails that one molecule, never the run.
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


def compute_batch(items: list[WorkItem]) -> list[tuple[np.ndarray | None, str]]:
    """:func:`compute_item` on each of ``items`` in one pool task (one pipe round trip for many
    molecules): ``[(values, "") | (None, reason)]``. A molecule's own error is its reason; a
    MemoryError (or a crash, or the pool's timeout) fails the whole task, and the caller then
    retries each molecule alone (:func:`iter_guarded`), so the reason stays that molecule's."""
    out: list[tuple[np.ndarray | None, str]] = []
    for item in items:
        try:
            out.append((compute_item(item), ""))
        except MemoryError:
            raise
        except Exception as exc:  # this molecule's failure, as the pool would word it
            out.append((None, f"{type(exc).__name__}: {exc}".strip()[:500]))
    return out


#: molecules per pool task: amortises the pipe round trip (~1.6 ms per task on 2 busy cores)
#: against the work a timeout throws away (the batch is then retried molecule by molecule)
BATCH = 16


def iter_guarded(pool, items: list[WorkItem], timeout_s: float | None, batch: int = BATCH
                 ) -> Iterator[GuardedResult]:
    """Run ``items`` on a :class:`~chiscreen.runtime.SupervisedPool` of :func:`compute_batch`,
    ``batch`` molecules per task; yields one :class:`GuardedResult` per item (index = position).

    A task that does not come back (timeout, MemoryError under the cap, a crashed worker) is
    retried one molecule per task, so each molecule still gets the full per-molecule limits and
    its own reason; a molecule that is fast in a batch costs nothing extra."""
    for b0 in range(0, len(items), max(1, int(batch))):
        pool.submit(("b", b0), items[b0:b0 + batch])
    while pool.pending:
        for o in pool.wait():
            tag, j0 = o.index
            if o.ok:
                share = o.seconds / max(1, len(o.value))
                for d, (v, reason) in enumerate(o.value):
                    yield GuardedResult(j0 + d, v, reason, share)
            elif tag == "b" and min(batch, len(items) - j0) > 1:
                for j in range(j0, min(j0 + batch, len(items))):
                    pool.submit(("s", j), [items[j]])
            else:
                yield GuardedResult(j0, None, outcome_reason(o, timeout_s), o.seconds)


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
    n_tasks = -(-len(items) // BATCH)
    pool = SupervisedPool(f"{__name__}:compute_batch", workers=max(1, min(n_jobs, n_tasks)),
                          timeout_s=timeout_s, mem_limit_mb=mem_limit_mb)
    try:
        for res in iter_guarded(pool, items, timeout_s):
            if on_result:
                on_result(res)
            yield res
    finally:
        pool.close()


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

