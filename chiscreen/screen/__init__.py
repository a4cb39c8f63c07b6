"""Screening layer: catalogs, combinatorial enumeration, GEMM block scoring, streaming queries,
a plain and a Ray engine writing resumable per-shard Parquet, and the demo.

    from chiscreen.config import load_config
    from chiscreen.screen import ScreenConfig, run_screen
    res = run_screen(load_config("configs/screen-demo.yaml", ScreenConfig), out="runs/demo")

Nothing here imports Ray at import time; :mod:`chiscreen.screen.engine` connects on use.
"""
from chiscreen.screen.catalogs import CatalogReport, build_catalog, join_greenness, load_catalog, write_catalog
from chiscreen.screen.engine import EngineConfig, EngineHooks, RunStats, ScreenTask, ShardWorker, run_plain, run_ray
from chiscreen.screen.job import FeaturizeOptions, ScreenConfig, ScreenResult, read_pairs, run_screen
from chiscreen.screen.queries import QueryConfig, SelectiveQuery
from chiscreen.screen.scoring import BlockScorer, BlockScores, collapse_head

__all__ = [
    "CatalogReport", "build_catalog", "join_greenness", "load_catalog", "write_catalog",
    "EngineConfig", "EngineHooks", "RunStats", "ScreenTask", "ShardWorker", "run_plain", "run_ray",
    "FeaturizeOptions", "ScreenConfig", "ScreenResult", "read_pairs", "run_screen",
    "QueryConfig", "SelectiveQuery", "BlockScorer", "BlockScores", "collapse_head",
]
