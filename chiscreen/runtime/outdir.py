"""Output folders chiscreen owns: ownership by manifest, one exclusive writer, careful overwrite.

Every command that writes a folder (screen, oracle batch, evaluate, train, featurize; AL runs and
campaigns next) opens it through :class:`OwnedDir`::

    from chiscreen.runtime.outdir import OwnedDir
    with OwnedDir(out, kind="screen", owned=["manifest.json", "pairs/shard-*.parquet", ...],
                  overwrite=args.overwrite, take_over=args.take_over) as od:
        od.state              # "new" (empty or absent), "owned" (our manifest of this kind is there)
        od.previous           # the manifest found there (dict) or None
        od.clear()            # remove only what chiscreen wrote (the ``owned`` patterns)
        ...write files (atomically: hidden temp + rename)...
        od.write_manifest({...})   # marks the folder as chiscreen's (format, owned patterns, versions)

Rules:

- **Ownership**: a folder is chiscreen's when it holds ``manifest.json`` whose ``format`` is
  ``chiscreen-<kind>``. A non-empty folder without one (or with another kind's) is *foreign*:
  opening it raises :class:`OutputDirError` unless ``overwrite`` (then only files named like
  this writer's outputs, which it would replace anyway, are removed; all others are kept).
- **Overwrite**: :meth:`OwnedDir.clear` removes only files matching the ``owned`` glob patterns
  (relative paths; those of the manifest found there too) plus chiscreen's temp files, then
  empty folders; anything else (a ``precious.txt`` beside the results) survives.
- **Lock**: an exclusive advisory lock (``fcntl.flock`` on ``.chiscreen.lock`` inside the folder,
  holding the owner's pid, host and start time) for the life of the ``with`` block. A second
  writer gets :class:`OutputLockedError` ("... is being written by pid N on host H since ...";
  CLI exit 2). The lock file is removed on a clean exit; a lock file left by a killed process is
  reported as stale and taken over only when asked (``take_over=True``, CLI ``--take-over``).
  Local folders only: on an object store (s3://...) there is no lock (said in the log).
- **Temp files**: writers write ``.NAME.<token>.tmp`` beside NAME and rename; :meth:`remove_tmp`
  (run on open) deletes such leftovers of a killed run wherever NAME is an owned file.
- Stores (descriptor cache, oracle profile store, label stores) are *not* OwnedDirs: they keep
  atomic per-key writes and are shared by concurrent runs without a lock.

:func:`table_metadata` gives the Parquet key/value metadata every output table carries (model
hash, chiscreen / torch / rdkit / pyarrow versions, what wrote it); :func:`with_metadata` adds it
to a pyarrow table.
"""
from __future__ import annotations

import datetime as _dt
import fnmatch
import json
import logging
import os
import re
import socket
from pathlib import Path
from typing import Any, Iterable, Sequence

from chiscreen.errors import ChiscreenError

log = logging.getLogger("chiscreen.runtime")

MANIFEST = "manifest.json"
LOCK = ".chiscreen.lock"
FORMAT_PREFIX = "chiscreen-"
_TMP = re.compile(r"^\.(?P<name>.+)\.[^./]+\.tmp$")  # .NAME.<token>.tmp: the temp file of NAME


class OutputDirError(ChiscreenError):
    """An output location that cannot be used as asked (a file, foreign contents, another job)."""


class OutputLockedError(OutputDirError):
    """Another chiscreen process is writing the folder, or a stale lock needs ``--take-over``."""


def _is_uri(loc: str) -> bool:
    return "://" in loc


def pid_alive(pid: int) -> bool:
    """Whether a process of this host with this pid exists (a lock holder's liveness)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def versions() -> dict[str, str]:
    """Versions of chiscreen and the libraries whose numbers change results."""
    import importlib.metadata as md

    import chiscreen

    out = {"chiscreen": getattr(chiscreen, "__version__", "")}
    for pkg in ("torch", "rdkit", "pyarrow", "numpy"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            pass
    return out


def table_metadata(model_hash: str | None = None, writer: str = "", **extra: Any) -> dict[bytes, bytes]:
    """Parquet key/value metadata of an output table: ``chiscreen.model_hash``,
    ``chiscreen.versions`` (JSON), ``chiscreen.writer`` and any ``extra`` (JSON-encoded)."""
    meta = {"chiscreen.model_hash": model_hash or "", "chiscreen.versions": json.dumps(versions(), sort_keys=True),
            "chiscreen.writer": writer}
    for k, v in extra.items():
        meta[f"chiscreen.{k}"] = v if isinstance(v, str) else json.dumps(v, sort_keys=True, default=str)
    return {k.encode(): v.encode() for k, v in meta.items()}


def with_metadata(table, meta: dict[bytes, bytes] | None):
    """``table`` (pyarrow) with ``meta`` merged into its schema metadata (pandas metadata kept)."""
    if not meta:
        return table
    return table.replace_schema_metadata({**(table.schema.metadata or {}), **meta})


def read_table_metadata(path: str | os.PathLike) -> dict[str, str]:
    """The ``chiscreen.*`` metadata of a Parquet file (keys without the prefix)."""
    import pyarrow.parquet as pq

    md = pq.read_schema(path).metadata or {}
    return {k.decode()[len("chiscreen."):]: v.decode() for k, v in md.items() if k.startswith(b"chiscreen.")}


class OwnedDir:
    """An output folder (local path or pyarrow filesystem URI) opened for writing by one process.

    Args:
        location: folder path or URI.
        kind: what writes it ("screen", "oracle-batch", "evaluate", "train", "featurize", "al-run", ...);
            the manifest's format is ``chiscreen-<kind>``.
        owned: glob patterns (relative, ``/``-separated) of every file this writer creates.
        overwrite: allow replacing a chiscreen folder of another job/kind and writing into a
            non-empty foreign folder (foreign files are kept).
        take_over: take over a stale lock left by a process that is no longer running.
    Raises (on open):
        OutputDirError: the location is a file, holds another kind's results or foreign files;
        OutputLockedError: another process holds the lock, or a stale lock without ``take_over``.
    """

    def __init__(self, location: str | os.PathLike, kind: str, owned: Sequence[str] = (MANIFEST,),
                 overwrite: bool = False, take_over: bool = False) -> None:
        import pyarrow.fs as pafs

        loc = str(location)
        self.uri, self.kind = loc, kind
        self.format = FORMAT_PREFIX + kind
        self.owned = list(dict.fromkeys([MANIFEST, *owned]))
        self.overwrite, self.take_over = overwrite, take_over
        try:
            if _is_uri(loc):
                self.fs, self.root = pafs.FileSystem.from_uri(loc)
            else:
                self.fs, self.root = pafs.LocalFileSystem(), str(Path(loc).expanduser().resolve())
        except Exception as exc:
            raise OutputDirError(f"cannot open output location {loc!r}: {exc}") from exc
        self.local = isinstance(self.fs, pafs.LocalFileSystem)
        self.state = ""
        self.previous: dict | None = None
        self._lock_fd: int | None = None
        self.stale_lock: dict | None = None
        self.created = False  # this run created the folder (removed again if it stays empty)

    def __str__(self) -> str:
        return self.uri if _is_uri(self.uri) else self.root

    def path(self, *parts: str) -> str:
        return "/".join([self.root.rstrip("/"), *parts])

    # ------------------------------------------------------------------ open / close
    def __enter__(self) -> "OwnedDir":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    def open(self) -> "OwnedDir":
        import pyarrow.fs as pafs

        info = self.fs.get_file_info(self.root)
        if info.type == pafs.FileType.File:
            raise OutputDirError(f"output {self} is a file, not a folder; pass a folder path (it is created if absent)")
        if info.type == pafs.FileType.NotFound:
            try:
                self.fs.create_dir(self.root, recursive=True)
            except Exception as exc:
                raise OutputDirError(f"cannot create output folder {self}: {exc}") from exc
            self.created = True
        if self.local:
            self._lock()
        else:
            log.info("%s: no lock on a remote filesystem; make sure no other run writes it", self)
        try:
            self._check_ownership()
            n = self.remove_tmp()
            if n:
                log.info("%s: removed %d temporary file(s) left by an interrupted run", self, n)
        except BaseException:
            self.release()
            raise
        return self

    def _lock(self) -> None:
        import fcntl

        p = self.path(LOCK)
        try:
            fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputDirError(f"cannot write in output folder {self}: {exc.strerror}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = self._read_lock(fd)
            os.close(fd)
            who = f"pid {holder.get('pid', '?')} on host {holder.get('host', '?')} since {holder.get('started', '?')}"
            raise OutputLockedError(f"output folder {self} is being written by another chiscreen run ({who}); "
                                    "wait for it to finish or choose another folder") from None
        old = self._read_lock(fd)
        if old.get("pid") and (old.get("pid") != os.getpid() or old.get("host") != socket.gethostname()):
            alive = old.get("host") == socket.gethostname() and pid_alive(int(old["pid"]))
            self.stale_lock = old
            state = "still running but not holding the lock" if alive else "no longer running"
            if not self.take_over:
                os.close(fd)
                raise OutputLockedError(
                    f"output folder {self} has a stale lock of pid {old['pid']} on host {old.get('host')} "
                    f"(started {old.get('started')}; {state}): an interrupted run; pass --take-over to resume "
                    "or replace it")
            log.info("%s: taking over the stale lock of pid %s on host %s", self, old["pid"], old.get("host"))
        info = {"pid": os.getpid(), "host": socket.gethostname(),
                "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), "kind": self.kind}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        os.fsync(fd)
        self._lock_fd = fd

    @staticmethod
    def _read_lock(fd: int) -> dict:
        try:
            raw = os.pread(fd, 4096, 0).decode()
            return json.loads(raw) if raw.strip() else {}
        except (OSError, ValueError):
            return {}

    def release(self) -> None:
        """Remove the lock file and release the lock (clean end of the run); a folder this run
        created and left empty (it failed before writing anything) is removed too."""
        if self._lock_fd is None:
            return
        try:
            os.unlink(self.path(LOCK))
        except OSError:
            pass
        try:
            os.close(self._lock_fd)
        finally:
            self._lock_fd = None
        if self.created and self.local:
            try:
                os.rmdir(self.root)  # only succeeds when empty
            except OSError:
                pass

    @property
    def locked(self) -> bool:
        return self._lock_fd is not None

    # ------------------------------------------------------------------ ownership
    def entries(self) -> list[str]:
        """Relative paths of every file under the folder (recursive), except the lock file."""
        import pyarrow.fs as pafs

        base = self.root.rstrip("/") + "/"
        infos = self.fs.get_file_info(pafs.FileSelector(self.root, recursive=True, allow_not_found=True))
        return sorted(i.path[len(base):] for i in infos
                      if i.type == pafs.FileType.File and i.path.startswith(base) and i.base_name != LOCK)

    def read_manifest(self) -> dict | None:
        try:
            with self.fs.open_input_stream(self.path(MANIFEST)) as f:
                return json.loads(f.read().decode())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            import pyarrow.fs as pafs

            if self.fs.get_file_info(self.path(MANIFEST)).type == pafs.FileType.NotFound:
                return None
            raise OutputDirError(f"{self}: {MANIFEST} is unreadable ({exc}); use another --out") from exc

    def _check_ownership(self) -> None:
        man = self.read_manifest()
        files = [e for e in self.entries() if not self.is_temp(e)]
        fmt = (man or {}).get("format", "") if isinstance(man, dict) else ""
        if man is not None and fmt == self.format:
            self.state, self.previous = "owned", man
            return
        if man is not None and fmt.startswith(FORMAT_PREFIX):
            if not self.overwrite:
                raise OutputDirError(f"output folder {self} holds chiscreen {fmt[len(FORMAT_PREFIX):]!r} results, not "
                                     f"{self.kind!r}; choose another --out, or pass --overwrite to replace them")
            self.previous = man
            self.clear()
            self.state = "new"
            return
        if not files:
            self.state = "new"
            return
        if not self.overwrite:
            shown = ", ".join(files[:3]) + (", ..." if len(files) > 3 else "")
            raise OutputDirError(f"output folder {self} is not empty and was not written by chiscreen "
                                 f"(no chiscreen {MANIFEST}; holds {shown}); choose a new or empty folder, or pass "
                                 "--overwrite to write into it (only files named like its outputs are replaced; others are kept)")
        self.state = "new"

    def _patterns(self) -> list[str]:
        pats = list(self.owned)
        if isinstance(self.previous, dict):
            pats += [p for p in self.previous.get("owned", []) if isinstance(p, str) and ".." not in p]
        return list(dict.fromkeys(pats))

    def _matches(self, rel: str) -> bool:
        return any(fnmatch.fnmatchcase(rel, p) for p in self._patterns())

    def is_temp(self, rel: str) -> bool:
        """Whether ``rel`` is the hidden temp file (``.NAME.<token>.tmp``) of a file chiscreen owns."""
        head, _, name = rel.rpartition("/")
        m = _TMP.match(name)
        return bool(m) and self._matches(f"{head}/{m['name']}" if head else m["name"])

    def is_ours(self, rel: str) -> bool:
        return self.is_temp(rel) or self._matches(rel)

    def clear(self) -> list[str]:
        """Delete the files chiscreen wrote here (owned patterns, temp files) and folders left
        empty; everything else stays. Returns the removed relative paths."""
        import pyarrow.fs as pafs

        removed = []
        for rel in self.entries():
            if self.is_ours(rel):
                self.fs.delete_file(self.path(rel))
                removed.append(rel)
        dirs = sorted({"/".join(r.split("/")[:k]) for r in removed for k in range(1, r.count("/") + 1)},
                      key=lambda d: -d.count("/"))
        for d in dirs:
            infos = self.fs.get_file_info(pafs.FileSelector(self.path(d), allow_not_found=True))
            if not infos:
                try:
                    self.fs.delete_dir(self.path(d))
                except OSError:
                    pass
        kept = [e for e in self.entries() if e not in removed]
        if kept:
            log.info("%s: removed %d file(s) chiscreen wrote; kept %d other file(s) (%s)", self, len(removed),
                     len(kept), ", ".join(kept[:3]))
        self.previous = None
        self.state = "new"
        return removed

    def remove_tmp(self) -> int:
        """Delete the hidden ``.NAME.<token>.tmp`` files of owned files (a killed run's) anywhere in the folder."""
        n = 0
        for rel in self.entries():
            if self.is_temp(rel):
                try:
                    self.fs.delete_file(self.path(rel))
                    n += 1
                except OSError:
                    pass
        return n

    def write_manifest(self, data: dict, extra_owned: Iterable[str] = ()) -> dict:
        """Write ``manifest.json`` (atomically): ``data`` plus format, owned patterns, versions."""
        import uuid

        self.owned = list(dict.fromkeys([*self.owned, *extra_owned]))
        man = {**data, "format": self.format, "owned": self.owned, "versions": versions()}
        final = self.path(MANIFEST)
        tmp = self.path(f".{MANIFEST}.{uuid.uuid4().hex[:12]}.tmp")
        with self.fs.open_output_stream(tmp) as f:
            f.write((json.dumps(man, indent=2, sort_keys=True, default=str) + "\n").encode())
        if self.local:
            os.replace(tmp, final)
        else:
            self.fs.move(tmp, final)
        self.state, self.previous = "owned", man
        return man
