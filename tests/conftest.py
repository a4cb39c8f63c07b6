"""Shared fixtures. Tests read the reference data from ../shared/data (relative to the project
root) and skip, saying why, where that folder is absent. Nothing downloads at test time."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    """Every test session gets its own chiscreen cache (descriptors, profiles), and the data
    locator is pointed at ../shared/data so a user's environment cannot leak in."""
    old = {k: os.environ.get(k) for k in ("CHISCREEN_CACHE", "CHISCREEN_DATA")}
    os.environ["CHISCREEN_CACHE"] = str(tmp_path_factory.mktemp("chiscreen-cache"))
    if SHARED_DATA.is_dir():
        os.environ["CHISCREEN_DATA"] = str(SHARED_DATA)
    else:
        os.environ.pop("CHISCREEN_DATA", None)
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared reference data folder; skips the test when it is absent."""
    if not (SHARED_DATA / "mtl_chi" / "data_Chi.csv").is_file():
        pytest.skip(f"reference data not found at {SHARED_DATA} (../shared/data beside the project)")
    return SHARED_DATA
