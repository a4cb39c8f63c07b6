"""``chiscreen screen``: run or resume a sharded polymer x solvent x temperature screen."""
from __future__ import annotations

import argparse
import logging
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "screen",
        help="screen every polymer x solvent x temperature of two catalogs (Ray or in-process)",
        description="Score every polymer x solvent x temperature of two catalogs with the ensemble, keep what "
                    "the query asks for, write one Parquet file per shard (resumable) under --out.",
    )
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``chiscreen screen``; ``jobs/screen.py`` takes exactly the same."""
    p.add_argument("--config", required=True, help="screen config YAML (e.g. configs/screen-demo.yaml)")
    p.add_argument("--out", help="results folder or filesystem URI (overrides the config's out)")
    p.add_argument("--engine", choices=["ray", "plain"], help="override engine.kind")
    p.add_argument("--model", help="model artifact directory (overrides the config's model)")
    p.add_argument("--ray-address", "--address", dest="ray_address",
                   help="Ray cluster address (default: the current Ray job's cluster, else an embedded local Ray)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an output folder that holds a different screen, or write into a non-empty folder "
                        "chiscreen does not own (only files a screen writes are removed; others are kept)")
    p.add_argument("--take-over", action="store_true",
                   help="take over the stale lock of an interrupted run of this folder (a killed process)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--trust-unsigned", action="store_true",
                   help="load a model artifact that carries no artifact_hash (unverifiable; default: refuse)")


def load_job(args: argparse.Namespace):
    """The ScreenConfig of ``--config`` with the command-line overrides applied."""
    from chiscreen.config import load_config
    from chiscreen.screen.job import ScreenConfig

    cfg = load_config(args.config, ScreenConfig)
    if args.engine:
        cfg.engine.kind = args.engine
    if args.model:
        cfg.model = args.model
    if args.ray_address:
        cfg.ray_address = args.ray_address
    return cfg


def run(args: argparse.Namespace) -> int:
    from chiscreen.report.text import format_result
    from chiscreen.screen.job import run_screen

    cfg = load_job(args)
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    res = run_screen(cfg, out=args.out, overwrite=args.overwrite, progress=not args.no_progress,
                     take_over=args.take_over, trust_unsigned=args.trust_unsigned)
    print(format_result(res))
    return 0
