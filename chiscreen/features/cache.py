"""Descriptor cache: Parquet files keyed by (featurizer, version, representation, canonical SMILES).

Layout: ``ROOT/<featurizer>-v<version>-rdkit<rdkit version>/<representation>/part-*.parquet``,
columns ``key`` (canonical SMILES), ``status`` ("ok" or "failed"), ``reason``, ``values``
(list<float32>). New entries are appended as new part files written atomically (hidden temp
file + rename), so a killed run loses nothing already written and readers never see half a file.
Failures are cached too (a molecule that timed out is not retried on every run) unless the caller
asks to retry them.

``ROOT`` is a local folder (default: the user cache, ``CHISCREEN_CACHE``) or any pyarrow
filesystem URI (``file:///shared/cache``, ``s3://bucket/cache``, ...): a cache that every node of
a Ray cluster reaches, written by featurization workers on any node. Writers only ever add part
files with unique names, so many processes on many machines can append at once.
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path, PurePosixPath

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import rdkit

from chiscreen.errors import ChiscreenError
from chiscreen.io import atomic_fs_write
from chiscreen.paths import cache_dir

_SCHEMA = pa.schema(
    [("key", pa.string()), ("status", pa.string()), ("reason", pa.string()), ("values", pa.list_(pa.float32()))]
)
_COMPACT_AT = 16


class CacheLocationError(ChiscreenError):
    """The descriptor cache location cannot be opened (bad URI, unknown filesystem, no access)."""


def is_uri(root: str | os.PathLike | None) -> bool:
    return root is not None and "://" in str(root)


def open_root(root: str | os.PathLike | None) -> tuple[pafs.FileSystem, str]:
    """(filesystem, path inside it) of a cache root: None (the user cache), a local path, or a
    pyarrow filesystem URI. Raises CacheLocationError naming the root when it cannot be opened."""
    if root is None:
        return pafs.LocalFileSystem(), str(cache_dir("descriptors"))
    if not is_uri(root):
        return pafs.LocalFileSystem(), str(Path(root).expanduser().resolve())
    try:
        return pafs.FileSystem.from_uri(str(root))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, ValueError) as exc:
        raise CacheLocationError(f"descriptor cache {str(root)!r}: cannot open it as a pyarrow filesystem URI: "
                                 f"{str(exc).splitlines()[0]}") from None


class DescriptorCache:
    """One cache folder for one (featurizer, version, representation).

    Args:
        root: local folder, pyarrow filesystem URI, or None (the user cache).
    Attributes:
        path: the folder (a ``Path`` for local roots, a ``PurePosixPath`` inside the filesystem
            for URIs); ``location``: the same as text, for messages.
    Raises CacheLocationError when the root cannot be opened or created.
    """

    def __init__(self, featurizer: str, version: str, representation: str, root: str | Path | None = None):
        self.fs, base = open_root(root)
        self.local = isinstance(self.fs, pafs.LocalFileSystem)
        rep = representation.replace(":", "_")
        sub = f"{featurizer}-v{version}-rdkit{rdkit.__version__}"
        self._dir = f"{base.rstrip('/')}/{sub}/{rep}"
        self.path = Path(self._dir) if self.local else PurePosixPath(self._dir)
        self.location = self._dir if self.local else f"{str(root).split('://', 1)[0]}://{self._dir}"
        try:
            self.fs.create_dir(self._dir, recursive=True)
        except (OSError, pa.ArrowException) as exc:
            raise CacheLocationError(f"descriptor cache {self.location}: cannot create it: {exc}") from None
        self._mem: dict[str, tuple[str, str, np.ndarray | None]] | None = None

    def _parts(self) -> list[str]:
        infos = self.fs.get_file_info(pafs.FileSelector(self._dir, recursive=False, allow_not_found=True))
        return sorted(i.path for i in infos if i.type == pafs.FileType.File
                      and i.base_name.startswith("part-") and i.base_name.endswith(".parquet"))

    def load(self) -> dict[str, tuple[str, str, np.ndarray | None]]:
        """All entries: key -> (status, reason, values or None)."""
        if self._mem is not None:
            return self._mem
        mem: dict[str, tuple[str, str, np.ndarray | None]] = {}
        parts = self._parts()
        for p in parts:
            try:
                t = pq.read_table(p, filesystem=self.fs)
            except FileNotFoundError:  # compacted away by another process between list and read
                continue
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

    def _write(self, rows: list[tuple[str, str, str, np.ndarray | None]]) -> str:
        table = pa.table(
            {
                "key": [r[0] for r in rows],
                "status": [r[1] for r in rows],
                "reason": [r[2] for r in rows],
                "values": [None if r[3] is None else np.asarray(r[3], np.float32) for r in rows],
            },
            schema=_SCHEMA,
        )
        final = f"{self._dir}/part-{uuid.uuid4().hex}.parquet"  # the temporary is hidden: never listed as a part
        return atomic_fs_write(self.fs, final, lambda tmp: pq.write_table(table, tmp, filesystem=self.fs,
                                                                          compression="zstd"), self.local)

    def append(self, rows: list[tuple[str, str, str, np.ndarray | None]]) -> None:
        """Add (key, status, reason, values) rows as one new part file without reading the cache
        (what a featurization worker on a cluster node does)."""
        if rows:
            self._write(rows)

    def put(self, rows: list[tuple[str, str, str, np.ndarray | None]]) -> None:
        """Add (key, status, reason, values) rows (and to the loaded entries)."""
        if not rows:
            return
        self._write(rows)
        mem = self.load()
        for k, s, r, v in rows:
            mem[k] = (s, r, None if v is None else np.asarray(v, np.float32))

    def _compact(self, parts: list[str]) -> None:
        mem = self._mem or {}
        self._write([(k, s, r, v) for k, (s, r, v) in mem.items()])
        for p in parts:
            try:
                self.fs.delete_file(p)
            except FileNotFoundError:
                pass

    def __len__(self) -> int:
        return len(self.load())
