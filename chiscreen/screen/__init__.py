"""Screening layer: GEMM block scoring, streaming queries, a plain and a Ray engine writing
resumable per-shard Parquet. Catalogs and enumeration live in :mod:`chiscreen.catalogs`, the
text of results in :mod:`chiscreen.report.text`.

    from chiscreen.config import load_config
    from chiscreen.screen import ScreenConfig, run_screen
    res = run_screen(load_config("configs/screen-demo.yaml", ScreenConfig), out="runs/demo")

Nothing here imports Ray at import time; :mod:`chiscreen.screen.engine` connects on use.

OpenMP wait policy: with torch's default (active spin-waiting) a multi-threaded screen on a busy
machine collapsed from 9e6 to 3e5 pairs/s (2 cores, load ~5); ``OMP_WAIT_POLICY=PASSIVE``
avoids that. It is set here (``setdefault``: an explicit user choice wins) when torch has not
been imported yet; the CLI and jobs/screen.py set it before anything imports torch.
"""
import os as _os
import sys as _sys

if "torch" not in _sys.modules:
    _os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
from chiscreen.screen.engine import (
    EngineConfig, EngineHooks, RayPool, RunStats, ScreenTask, ShardWorker, run_plain, run_ray,
)
from chiscreen.screen.job import FeaturizeOptions, ScreenConfig, ScreenResult, read_pairs, run_screen
from chiscreen.screen.queries import QueryConfig, SelectiveQuery
from chiscreen.screen.scoring import BlockScorer, BlockScores, collapse_head

__all__ = [
    "EngineConfig", "EngineHooks", "RayPool", "RunStats", "ScreenTask", "ShardWorker", "run_plain", "run_ray",
    "FeaturizeOptions", "ScreenConfig", "ScreenResult", "read_pairs", "run_screen",
    "QueryConfig", "SelectiveQuery", "BlockScorer", "BlockScores", "collapse_head",
]
