"""The manifest pins what produced a results folder, so reruns resume and never mix jobs.

The folder itself is an :class:`~chiscreen.runtime.OwnedDir` of kind ``screen`` (format
``chiscreen-screen``): locked while written, and ``--overwrite`` removes only screen files.
``manifest.json`` holds the model artifact hash, content hashes of both catalogs (after
featurization: the rows that are scored), the query hash (query, temperatures, head, chi_c and
the shard plan) and the shard count. A rerun with the same pins skips finished shards; a rerun
with any pin changed raises ScreenError instead of mixing outputs.
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
    format: str = FORMAT
    format_version: int = 1

    def to_dict(self) -> dict:
        return asdict(self)


def check_or_write(out: Any, m: Manifest, overwrite: bool = False) -> bool:
    """Write the manifest of a new run, or check an existing one.

    ``out`` is the open :class:`~chiscreen.runtime.OwnedDir` (locked; ownership checked). Returns
    True when resuming an existing run of the same job; the manifest is then rewritten with this
    run's non-pinned fields (e.g. selective queries, which are evaluated after the shards), so it
    always describes the last run. Raises ScreenError when the folder holds another screen's
    results (a different model, catalog or query) unless ``overwrite``, which removes the old
    results first (only files a screen writes; anything else in the folder is kept).
    """
    old = out.previous if out.state == "owned" else None
    if old is not None:
        diffs = [f"{k}: {old.get(k)!r} there, {getattr(m, k)!r} now" for k in PINS if old.get(k) != getattr(m, k)]
        if not diffs:
            out.write_manifest(m.to_dict())
            return True
        if not overwrite:
            raise ScreenError(
                f"output folder {out} holds results of a different screen ({'; '.join(diffs)}); "
                "refusing to mix them: choose a new --out, or pass --overwrite to replace them"
            )
        out.clear()
    elif overwrite:
        out.clear()  # shard files of an unknown run (no manifest): only the screen's own files go
    out.write_manifest(m.to_dict())
    return False
