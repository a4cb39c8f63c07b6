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
#: rows per Parquet row group of a part file: a shard reads the row groups that hold its keys,
#: not whole parts (a compacted part holds the whole cache)
ROW_GROUP = 4096


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
                                                                          compression="zstd",
                                                                          row_group_size=ROW_GROUP), self.local)

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

    # -------------------------------------------------------------- without loading the cache
    def locate(self, keys: "pa.Array | pa.ChunkedArray | list[str]") -> "CacheIndex":
        """Where the entries of ``keys`` are, without loading the cache: reads the ``key`` and
        ``status`` columns of every part once (one hash join in Arrow), keeps per key the part
        number and row (O(len(keys)) small integers). A key held by several parts resolves to the
        last one in part order, as :meth:`load` does."""
        return CacheIndex.build(self, keys)

    def read_rows(self, part: str, rows: np.ndarray, columns: list[str]) -> pa.Table:
        """``columns`` of the given rows (ascending or not) of one part file, reading only the
        row groups that hold them. Raises FileNotFoundError when the part was compacted away."""
        pf = pq.ParquetFile(part, filesystem=self.fs)
        md = pf.metadata
        starts = np.cumsum([0] + [md.row_group(g).num_rows for g in range(md.num_row_groups)])
        rows = np.asarray(rows, dtype=np.int64)
        groups = np.searchsorted(starts, rows, side="right") - 1
        need = np.unique(groups)
        t = pf.read_row_groups([int(g) for g in need], columns=columns)
        base = np.concatenate([[0], np.cumsum([starts[g + 1] - starts[g] for g in need])])
        local = base[np.searchsorted(need, groups)] + (rows - starts[groups])
        return t.take(pa.array(local))


class CacheIndex:
    """Positions of looked-up keys in a :class:`DescriptorCache` (no descriptor values held).

    Attributes:
        parts: part file paths; part: (n,) int32 part number per looked-up key (-1: not cached);
        row: (n,) int64 row inside that part; ok: (n,) bool cached with status "ok".
    """

    def __init__(self, cache: DescriptorCache, parts: list[str], part: np.ndarray, row: np.ndarray,
                 ok: np.ndarray) -> None:
        self.cache, self.parts, self.part, self.row, self.ok = cache, parts, part, row, ok

    @classmethod
    def build(cls, cache: DescriptorCache, keys) -> "CacheIndex":
        import pyarrow.compute as pc

        keys = keys if isinstance(keys, (pa.Array, pa.ChunkedArray)) else pa.array(list(keys), pa.string())
        parts: list[str] = []
        kcols, scols, sizes = [], [], []
        for p in cache._parts():
            try:
                t = pq.read_table(p, filesystem=cache.fs, columns=["key", "status"])
            except FileNotFoundError:  # compacted away between list and read
                continue
            parts.append(p)
            kcols.append(t.column("key"))
            scols.append(t.column("status"))
            sizes.append(t.num_rows)
        n = len(keys)
        part = np.full(n, -1, dtype=np.int32)
        row = np.zeros(n, dtype=np.int64)
        ok = np.zeros(n, dtype=bool)
        if not parts or n == 0:
            return cls(cache, parts, part, row, ok)
        allk = pa.chunked_array([c for col in kcols for c in col.chunks], pa.string()).combine_chunks()
        alls = pa.chunked_array([c for col in scols for c in col.chunks], pa.string())
        m = len(allk)
        rev = pa.array(np.arange(m - 1, -1, -1, dtype=np.int64))
        pos_rev = pc.index_in(keys, value_set=allk.take(rev))  # first match in reverse = last part wins
        if isinstance(pos_rev, pa.ChunkedArray):
            pos_rev = pos_rev.combine_chunks()
        hit = np.asarray(pos_rev.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        pr = pc.fill_null(pos_rev, 0).to_numpy(zero_copy_only=False)
        pos = m - 1 - pr.astype(np.int64)
        starts = np.cumsum([0] + sizes)
        pnum = np.searchsorted(starts, pos, side="right") - 1
        part[hit] = pnum[hit]
        row[hit] = (pos - starts[pnum])[hit]
        st_ok = np.asarray(pc.equal(alls, "ok").combine_chunks().to_numpy(zero_copy_only=False), dtype=bool)
        ok[hit] = st_ok[pos[hit]]
        return cls(cache, parts, part, row, ok)

    def found(self) -> np.ndarray:
        return self.part >= 0

    def values(self, sel: np.ndarray, n_features: int) -> np.ndarray:
        """(len(sel), F) float32 descriptors of looked-up positions ``sel`` (each found and ok)."""
        sel = np.asarray(sel, dtype=np.int64)
        X = np.empty((len(sel), n_features), dtype=np.float32)
        for p in np.unique(self.part[sel]):
            m = np.flatnonzero(self.part[sel] == p)
            t = self.cache.read_rows(self.parts[p], self.row[sel[m]], ["values"])
            flat = t.column("values").combine_chunks().flatten().to_numpy(zero_copy_only=False)
            X[m] = flat.reshape(len(m), n_features)
        return X

    def reasons(self, sel: np.ndarray) -> list[str]:
        """Cached failure reasons of looked-up positions ``sel`` (each found)."""
        sel = np.asarray(sel, dtype=np.int64)
        out = [""] * len(sel)
        for p in np.unique(self.part[sel]):
            m = np.flatnonzero(self.part[sel] == p)
            t = self.cache.read_rows(self.parts[p], self.row[sel[m]], ["reason"])
            for j, r in zip(m, t.column("reason").to_pylist()):
                out[j] = r or ""
        return out
