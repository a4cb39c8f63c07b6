"""Output folders on any pyarrow filesystem, with atomic per-shard Parquet files.

``OutputDir("runs/x")`` is a local folder; ``OutputDir("s3://bucket/x")`` or any URI that
``pyarrow.fs.FileSystem.from_uri`` understands works the same way. A shard file is written to a
hidden temporary name and renamed into place (``os.replace`` semantics on local disks), so a
reader or a resumed run never sees half a file: a shard is finished exactly when its file exists.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from chiscreen.errors import ScreenError
from chiscreen.io import atomic_fs_write, conform_batch


def _is_uri(path: str) -> bool:
    return "://" in path


class OutputDir:
    """A results folder: local path or filesystem URI.

    Attributes:
        uri: what the user gave (for messages).
        fs: the pyarrow filesystem; root: the path inside it.
    """

    def __init__(self, location: str | os.PathLike) -> None:
        loc = str(location)
        self.uri = loc
        try:
            if _is_uri(loc):
                self.fs, self.root = pafs.FileSystem.from_uri(loc)
            else:
                self.fs, self.root = pafs.LocalFileSystem(), str(Path(loc).expanduser().resolve())
        except (pa.ArrowInvalid, OSError, ValueError) as exc:
            raise ScreenError(f"cannot open output location {loc!r}: {exc}") from exc
        self.local = isinstance(self.fs, pafs.LocalFileSystem)
        self.metadata: dict[bytes, bytes] | None = None  # Parquet key/value metadata of every table written

    def __str__(self) -> str:
        return self.uri if _is_uri(self.uri) else self.root

    def path(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    def mkdir(self, *parts: str) -> None:
        self.fs.create_dir(self.path(*parts), recursive=True)

    def exists(self, *parts: str) -> bool:
        return self.fs.get_file_info(self.path(*parts)).type != pafs.FileType.NotFound

    def list(self, *parts: str, suffix: str = ".parquet") -> list[str]:
        """Sorted file names (not hidden) directly under ``parts``."""
        base = self.path(*parts)
        if self.fs.get_file_info(base).type != pafs.FileType.Directory:
            return []
        infos = self.fs.get_file_info(pafs.FileSelector(base, recursive=False))
        names = [i.base_name for i in infos if i.type == pafs.FileType.File]
        return sorted(n for n in names if n.endswith(suffix) and not n.startswith("."))

    def _atomic(self, rel: list[str], write) -> str:
        final = self.path(*rel)
        parent = final.rsplit("/", 1)[0]
        self.fs.create_dir(parent, recursive=True)
        return atomic_fs_write(self.fs, final, write, self.local)

    def write_parquet(self, table: pa.Table, *rel: str, compression: str = "zstd") -> str:
        """Write ``table`` atomically to ``rel`` (temp file + rename), with :attr:`metadata` merged
        into its schema metadata (model hash, versions). Returns the final path."""
        if self.metadata:
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), **self.metadata})
        return self._atomic(list(rel), lambda p: pq.write_table(table, p, filesystem=self.fs, compression=compression))

    def write_parquet_tables(self, tables: Iterable[pa.Table], *rel: str, compression: str = "zstd") -> str:
        """Write consecutive tables as one Parquet file, batch by batch (atomically, with
        :attr:`metadata`): the schema is the first table's; later ones are cast to it. Raises
        ScreenError when there is no table or a later one does not fit the schema."""
        it = iter(tables)

        def w(p):
            writer = None
            schema = None
            try:
                for t in it:
                    if writer is None:
                        schema = t.schema
                        if self.metadata:
                            schema = schema.with_metadata({**(schema.metadata or {}), **self.metadata})
                        writer = pq.ParquetWriter(p, schema, filesystem=self.fs, compression=compression)
                    writer.write_table(conform_batch(t, schema, "/".join(rel), ScreenError))
                if writer is None:
                    raise ScreenError(f"{'/'.join(rel)}: nothing to write")
            finally:
                if writer is not None:
                    writer.close()
        return self._atomic(list(rel), w)

    def write_text(self, text: str, *rel: str) -> str:
        def w(p):
            with self.fs.open_output_stream(p) as f:
                f.write(text.encode())
        return self._atomic(list(rel), w)

    def read_text(self, *rel: str) -> str:
        with self.fs.open_input_stream(self.path(*rel)) as f:
            return f.read().decode()

    def read_json(self, *rel: str) -> dict:
        return json.loads(self.read_text(*rel))

    def write_json(self, obj: dict, *rel: str) -> str:
        return self.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n", *rel)

    def read_parquet(self, *rel: str) -> pa.Table:
        return pq.read_table(self.path(*rel), filesystem=self.fs)

    def iter_parquet(self, *rel: str) -> Iterator[pa.Table]:
        """Each (non-hidden) Parquet file under folder ``rel``, in name order."""
        for name in self.list(*rel):
            yield pq.read_table(self.path(*rel, name), filesystem=self.fs)

    def remove_tmp(self, *rel: str) -> int:
        """Delete leftover hidden temporary files of a killed run; returns how many."""
        base = self.path(*rel)
        if self.fs.get_file_info(base).type != pafs.FileType.Directory:
            return 0
        n = 0
        for i in self.fs.get_file_info(pafs.FileSelector(base, recursive=False)):
            if i.base_name.startswith(".") and i.base_name.endswith(".tmp"):
                self.fs.delete_file(i.path)
                n += 1
        return n

    def delete_dir_contents(self, *rel: str) -> None:
        p = self.path(*rel)
        if self.fs.get_file_info(p).type == pafs.FileType.Directory:
            self.fs.delete_dir_contents(p)
