"""Descriptor cache: Parquet files keyed by (featurizer, version, representation, canonical SMILES).

Layout: ``ROOT/<featurizer>-v<version>-rdkit<rdkit version>/<representation>/part-*.parquet``,
columns ``key`` (canonical SMILES), ``status`` ("ok" or "failed"), ``reason``, ``values``
(list<float32>). New entries are appended as new part files written atomically (temp file +
rename), so a killed run loses nothing already written and readers never see half a file.
Failures are cached too (a molecule that timed out is not retried on every run) unless the caller
asks to retry them.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import rdkit

from chiscreen.io import atomic_path
from chiscreen.paths import cache_dir

_SCHEMA = pa.schema(
    [("key", pa.string()), ("status", pa.string()), ("reason", pa.string()), ("values", pa.list_(pa.float32()))]
)
_COMPACT_AT = 16


class DescriptorCache:
    """One cache folder for one (featurizer, version, representation)."""

    def __init__(self, featurizer: str, version: str, representation: str, root: str | Path | None = None):
        root = Path(root) if root is not None else cache_dir("descriptors")
        rep = representation.replace(":", "_")
        self.path = root / f"{featurizer}-v{version}-rdkit{rdkit.__version__}" / rep
        self.path.mkdir(parents=True, exist_ok=True)
        self._mem: dict[str, tuple[str, str, np.ndarray | None]] | None = None

    def _parts(self) -> list[Path]:
        return sorted(self.path.glob("part-*.parquet"))

    def load(self) -> dict[str, tuple[str, str, np.ndarray | None]]:
        """All entries: key -> (status, reason, values or None)."""
        if self._mem is not None:
            return self._mem
        mem: dict[str, tuple[str, str, np.ndarray | None]] = {}
        parts = self._parts()
        for p in parts:
            t = pq.read_table(p)
            keys = t.column("key").to_pylist()
            status = t.column("status").to_pylist()
            reason = t.column("reason").to_pylist()
            vals = t.column("values")
            for i, k in enumerate(keys):
                v = vals[i].values.to_numpy(zero_copy_only=False) if status[i] == "ok" else None
                mem[k] = (status[i], reason[i], v)
        self._mem = mem
        if len(parts) > _COMPACT_AT:
            self._compact(parts)
        return mem

    def _write(self, rows: list[tuple[str, str, str, np.ndarray | None]]) -> Path:
        table = pa.table(
            {
                "key": [r[0] for r in rows],
                "status": [r[1] for r in rows],
                "reason": [r[2] for r in rows],
                "values": [None if r[3] is None else np.asarray(r[3], np.float32) for r in rows],
            },
            schema=_SCHEMA,
        )
        final = self.path / f"part-{uuid.uuid4().hex}.parquet"
        with atomic_path(final) as tmp:
            pq.write_table(table, tmp, compression="zstd")
        return final

    def put(self, rows: list[tuple[str, str, str, np.ndarray | None]]) -> None:
        """Add (key, status, reason, values) rows."""
        if not rows:
            return
        self._write(rows)
        mem = self.load()
        for k, s, r, v in rows:
            mem[k] = (s, r, None if v is None else np.asarray(v, np.float32))

    def _compact(self, parts: list[Path]) -> None:
        mem = self._mem or {}
        self._write([(k, s, r, v) for k, (s, r, v) in mem.items()])
        for p in parts:
            p.unlink(missing_ok=True)

    def __len__(self) -> int:
        return len(self.load())
