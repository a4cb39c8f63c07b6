"""Atomic local file writes: write beside the target under a hidden temporary name, then
``os.replace`` it into place. A killed process leaves either the old file or the new one, never
half a file, and readers that skip dot-files never see the temporary."""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path``, on error it is removed."""
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.with_name(f".{final.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        yield tmp
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


def atomic_fs_write(fs, final: str, write, local: bool) -> str:
    """The same guarantee on a pyarrow filesystem: ``write(tmp)`` writes a hidden temporary
    beside ``final`` (a path of ``fs``), which is then renamed into place (``os.replace`` where
    ``local``, ``fs.move`` elsewhere); on error the temporary is removed and the error re-raised.
    Returns ``final``."""
    parent, name = final.rsplit("/", 1)
    tmp = f"{parent}/.{name}.{uuid.uuid4().hex}.tmp"
    try:
        write(tmp)
        if local:
            os.replace(tmp, final)
        else:
            fs.move(tmp, final)
    except BaseException:
        try:
            fs.delete_file(tmp)
        except Exception:  # never written, or already gone
            pass
        raise
    return final


def conform_batch(table, schema, where: str, error: type[Exception]):
    """``table`` (a pyarrow Table, one batch of a stream) cast to ``schema`` (the first batch's)
    and given its metadata; a batch whose columns cannot be cast raises ``error`` naming
    ``where``. pyarrow is imported by the caller (kept off this module's import)."""
    import pyarrow as pa

    if not table.schema.equals(schema, check_metadata=False):
        try:
            table = table.cast(schema)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise error(f"{where}: a batch does not fit the first batch's columns: "
                        f"{str(exc).splitlines()[0]}") from None
    return table.replace_schema_metadata(schema.metadata)
