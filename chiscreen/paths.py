"""Where chiscreen keeps things on disk. Every location can be overridden by the environment.

- ``CHISCREEN_CACHE``: descriptor cache, downloaded data, oracle profiles
  (default ``$XDG_CACHE_HOME/chiscreen`` or ``~/.cache/chiscreen``).
- ``CHISCREEN_DATA``: the reference data folder (see :mod:`chiscreen.data.locator`).
"""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    base = os.environ.get("CHISCREEN_CACHE")
    if base:
        root = Path(base).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "chiscreen"
    p = root.joinpath(*parts)
    p.mkdir(parents=True, exist_ok=True)
    return p


def project_root() -> Path | None:
    """The source checkout's root (holding pyproject.toml), when running from one."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").is_file() else None
