"""Checks every command runs on its input before the expensive part starts.

Each raises :class:`~chiscreen.errors.InvalidInputError` with one line naming the option and the
path, so a run that would fail at its very end (an output under a file, an unwritable folder, a
typo in an input name) fails in its first second instead. They only look (a writable folder is probed with a
hidden temporary file, removed at once): nothing is left behind.
"""
from __future__ import annotations

import os
from pathlib import Path

from chiscreen.errors import InvalidInputError

TABLE_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq")


def input_file(path: str | os.PathLike, option: str, suffixes: tuple[str, ...] | None = None) -> Path:
    """An existing, readable file (with one of ``suffixes`` when given)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InvalidInputError(f"{option} {p}: no such file")
    if p.is_dir():
        raise InvalidInputError(f"{option} {p}: is a folder, expected a file")
    if not os.access(p, os.R_OK):
        raise InvalidInputError(f"{option} {p}: not readable (permission denied)")
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise InvalidInputError(f"{option} {p}: unknown extension {p.suffix!r}, expected one of "
                                f"{', '.join(suffixes)}")
    return p


def _writable_parent(p: Path, option: str) -> None:
    """The nearest existing ancestor of ``p`` must be a folder we may create entries in."""
    anc = p.parent
    while not anc.exists():
        if anc.is_symlink():  # a dangling link
            raise InvalidInputError(f"{option} {p}: {anc} is a broken link")
        if anc.parent == anc:
            break
        anc = anc.parent
    if anc.exists() and not anc.is_dir():
        raise InvalidInputError(f"{option} {p}: {anc} is a file, not a folder")
    _probe(anc, p, option)


def _probe(folder: Path, target: Path, option: str) -> None:
    """Create and remove a hidden file in ``folder``: permission bits say little (root, read-only
    or virtual file systems such as /proc), trying does."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".chiscreen-probe-"):
            pass
    except OSError as exc:
        raise InvalidInputError(f"{option} {target}: cannot write in {folder} "
                                f"({exc.strerror or type(exc).__name__})") from None


def output_file(path: str | os.PathLike, option: str, suffixes: tuple[str, ...] | None = None) -> Path:
    """A file chiscreen may create or replace: not a folder, not under a file, in a writable place."""
    p = Path(path).expanduser()
    if str(path).endswith(("/", os.sep)) or p.is_dir():
        raise InvalidInputError(f"{option} {p}: is a folder, expected a file name"
                                + (f" such as {p / ('out' + suffixes[0])}" if suffixes else ""))
    if suffixes is not None and p.suffix.lower() not in suffixes:
        raise InvalidInputError(f"{option} {p}: unknown extension {p.suffix!r}, expected one of "
                                f"{', '.join(suffixes)}")
    _writable_parent(p, option)
    if p.exists() and not os.access(p, os.W_OK):
        raise InvalidInputError(f"{option} {p}: exists and is not writable (permission denied)")
    return p


def writable_location(path: str | os.PathLike, option: str) -> Path:
    """A path that may become a file or a folder: only its nearest existing ancestor is checked."""
    p = Path(path).expanduser()
    if not p.exists():
        _writable_parent(p, option)
    return p


def output_dir(path: str | os.PathLike, option: str = "--out") -> Path:
    """A folder chiscreen may create or write into: not a file, not under a file, writable.
    (Whether a non-empty folder may be used is the owned-folder rule of the writer itself.)"""
    s = str(path)
    if "://" in s:  # a filesystem URI (screen): checked by the writer
        return Path(s)
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise InvalidInputError(f"{option} {p}: is a file, not a folder")
    if p.is_dir():
        _probe(p, p, option)
        return p
    _writable_parent(p, option)
    return p


def positive_float(text: str) -> float:
    """argparse ``type=`` for a finite number > 0 (molar mass, degree of polymerisation, seconds)."""
    import argparse
    import math

    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a finite number > 0")
    return v


def positive_int(text: str, most: int = 10**9) -> int:
    """argparse ``type=`` for an integer in 1..``most`` (members, conformers, folds, limits)."""
    import argparse

    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a whole number") from None
    if v < 1 or v > most:
        from chiscreen.units import format_number

        raise argparse.ArgumentTypeError(f"{format_number(v)}: expected a whole number from 1 to {format_number(most)}")
    return v


def worker_count(text: str) -> int:
    """argparse ``type=`` for a number of worker processes (1..1024)."""
    return positive_int(text, most=1024)


def config_file(path: str | os.PathLike, option: str = "--config") -> Path:
    """An existing YAML config that says something: an empty file would silently mean "all
    defaults" (for a screen: the whole default catalogs), so it is refused."""
    p = input_file(path, option)
    import yaml

    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise InvalidInputError(f"{option} {p}: not UTF-8 text") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" line {where.line + 1}" if where is not None else ""
        raise InvalidInputError(f"{option} {p}:{line}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    if data is None:
        raise InvalidInputError(f"{option} {p} is empty: give at least one key (see configs/ for examples)")
    if not isinstance(data, dict):
        raise InvalidInputError(f"{option} {p}: expected a mapping of keys, got {type(data).__name__}")
    return p


def training_tables(data_cfg, source: str) -> None:
    """The user's ``data.extra_tables`` of a training config, read and checked strictly (the
    first bad row raises, named) before any reference data is loaded or molecule featurized."""
    from chiscreen.data import read_table
    from chiscreen.data.tables import normalize_pairs
    from chiscreen.model import tasks as _tasks

    for path in getattr(data_cfg, "extra_tables", None) or []:
        where = f"{source}: data.extra_tables"
        input_file(path, where, TABLE_SUFFIXES)
        raw = read_table(path)
        if len(raw) == 0:
            raise InvalidInputError(f"{where}: {path}: the table has no rows")
        all_labels = _tasks.label_columns()  # every registered task's label (chi_oracle included)
        labels = [c for c in all_labels if c in raw.columns]
        if not labels:
            raise InvalidInputError(f"{where}: {path}: no label column; expected at least one of "
                                    f"{', '.join(all_labels)} (got {list(raw.columns)})")
        chi_labels = {_tasks.TASKS[t].label for t in _tasks.chi_tasks()}
        need_t = bool(chi_labels & set(raw.columns))
        normalize_pairs(raw, strict=True, need_temperature=need_t, source=str(path))


def torch_device(name: str, where: str) -> None:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``, and a CUDA device only where one is present."""
    import re

    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", str(name)):
        raise InvalidInputError(f"{where} {name!r}: expected auto, cpu, cuda or cuda:N")
    if str(name).startswith("cuda"):
        import torch

        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        k = int(str(name).partition(":")[2] or 0)
        if k >= n:
            raise InvalidInputError(f"{where} {name!r}: this machine has {n} CUDA device(s); use auto or cpu")
