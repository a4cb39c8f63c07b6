"""Find the reference data folder.

Order: ``$CHISCREEN_DATA``; else ``../shared/data`` beside the project root (a source checkout);
else ``../shared/data`` beside the current directory; else the user cache
(``$CHISCREEN_CACHE/data``), where ``chiscreen data fetch`` downloads the public files.
"""
from __future__ import annotations

import os
from pathlib import Path

from chiscreen.errors import DataNotFoundError
from chiscreen.paths import cache_dir, project_root


def candidate_dirs() -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    env = os.environ.get("CHISCREEN_DATA")
    if env:
        out.append(("CHISCREEN_DATA", Path(env).expanduser()))
    root = project_root()
    if root is not None:
        out.append(("beside the project", root.parent / "shared" / "data"))
    out.append(("beside the working directory", Path.cwd().parent / "shared" / "data"))
    out.append(("user cache", cache_dir("data")))
    seen, uniq = set(), []
    for label, p in out:
        key = p.resolve() if p.exists() else p
        if key not in seen:
            seen.add(key)
            uniq.append((label, p))
    return uniq


def data_dir(required: str | None = None) -> Path:
    """The first candidate folder that exists (and holds ``required``, a relative path, if given).

    Raises DataNotFoundError listing where it looked.
    """
    tried = []
    for label, p in candidate_dirs():
        if p.is_dir() and (required is None or (p / required).exists()):
            return p
        tried.append(f"{label}: {p}")
    what = f" holding {required}" if required else ""
    if os.environ.get("CHISCREEN_DATA"):
        hint = "check CHISCREEN_DATA"
    else:
        hint = "run `chiscreen data fetch` to download the public files, or set CHISCREEN_DATA"
    raise DataNotFoundError(f"no reference data folder{what} found; looked in " + "; ".join(tried) + f". {hint}")


def data_file(relpath: str) -> Path:
    """Path of one reference file, e.g. ``data_file("mtl_chi/data_Chi.csv")``."""
    return data_dir(relpath) / relpath
