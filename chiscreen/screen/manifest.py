"""The manifest pins what produced a results folder, so reruns resume and never mix jobs.

The folder itself is an :class:`~chiscreen.runtime.OwnedDir` of kind ``screen`` (format
``chiscreen-screen``): locked while written, and ``--overwrite`` removes only screen files.
``manifest.json`` holds the model artifact hash, content hashes of both catalogs (after
featurization: the rows that are scored), the query hash (query, temperatures, head, chi_c and
the shard plan) and the shard count. A rerun with the same pins skips finished shards; a rerun
with any pin changed raises ScreenError instead of mixing outputs, except where the caller names
the job that may replace its own earlier results (``chiscreen demo``: ``replace_job="demo"``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from chiscreen.errors import ScreenError

MANIFEST = "manifest.json"
FORMAT = "chiscreen-screen"
PINS = ("model_hash", "polymers_hash", "solvents_hash", "query_hash", "n_shards")


def hash_json(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]


def hash_catalog(ids: np.ndarray, keys: list[str]) -> str:
    """Content hash of the scored rows of a catalog: (id, canonical identity) in order."""
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(np.asarray(ids, dtype=np.int64)).tobytes())
    for k in keys:
        h.update(k.encode())
        h.update(b"\0")
    return h.hexdigest()[:16]


@dataclass
class Manifest:
    model_hash: str
    polymers_hash: str
    solvents_hash: str
    query_hash: str
    n_shards: int
    shard_size: int
    n_polymers: int
    n_solvents: int
    temperatures_K: list[float]
    head: str
    chi_c: float
    query: dict = field(default_factory=dict)
    model_source: str = ""
    job: str = "screen"  # what wrote it: "screen", or "demo" (replaces its own results when a pin changed)
    format: str = FORMAT
    format_version: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


def check_or_write(out: Any, m: Manifest, overwrite: bool = False, replace_job: str | None = None) -> bool:
    """Write the manifest of a new run, or check an existing one (see :func:`claim`); True when resuming."""
    return claim(out, m, overwrite=overwrite, replace_job=replace_job)[0]


def owned_by_job(old: dict, m: Manifest, job: str) -> bool:
    """Whether the screen manifest ``old`` was written by ``job`` (e.g. the demo): its ``job`` field,
    or, for a manifest written before that field existed, the same query pins as this run (same
    query, temperatures, chi_c and shard plan: the same job, only the model or catalogs changed)."""
    if "job" in old:
        return old.get("job") == job
    return old.get("query_hash") == m.query_hash and old.get("n_shards") == m.n_shards


def claim(out: Any, m: Manifest, overwrite: bool = False, replace_job: str | None = None) -> tuple[bool, list[str]]:
    """Write the manifest of a new run, or check an existing one.

    ``out`` is the open :class:`~chiscreen.runtime.OwnedDir` (locked; ownership checked). Returns
    (resumed, replaced): resumed is True when resuming an existing run of the same job; the manifest
    is then rewritten with this run's non-pinned fields (e.g. selective queries, which are evaluated
    after the shards), so it always describes the last run. Raises ScreenError when the folder holds
    another screen's results (a different model, catalog or query) unless ``overwrite``, or unless
    ``replace_job`` is set and those results were written by that same job (:func:`owned_by_job`);
    then the old results are removed first (only files a screen writes; anything else in the folder
    is kept) and ``replaced`` lists the pins that changed ("model_hash: 'a' there, 'b' now").
    """
    old = out.previous if out.state == "owned" else None
    replaced: list[str] = []
    if old is not None:
        diffs = [f"{k}: {old.get(k)!r} there, {getattr(m, k)!r} now" for k in PINS if old.get(k) != getattr(m, k)]
        if not diffs:
            out.write_manifest(m.to_dict())
            return True, []
        if not overwrite and not (replace_job and owned_by_job(old, m, replace_job)):
            raise ScreenError(
                f"output folder {out} holds results of a different screen ({'; '.join(diffs)}); "
                "refusing to mix them: choose a new --out, or pass --overwrite to replace them"
            )
        out.clear()
        replaced = diffs
    elif overwrite:
        out.clear()  # shard files of an unknown run (no manifest): only the screen's own files go
    out.write_manifest(m.to_dict())
    return False, replaced
