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
    p.add_argument("--config", required=True, help="screen config YAML (e.g. configs/screen-demo.yaml)")
    p.add_argument("--out", help="results folder or filesystem URI (overrides the config's out)")
    p.add_argument("--engine", choices=["ray", "plain"], help="override engine.kind")
    p.add_argument("--model", help="model artifact directory (overrides the config's model)")
    p.add_argument("--ray-address", help="Ray cluster address (default: embedded local Ray)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an output folder that holds a different screen (default: refuse)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--trust-unsigned", action="store_true",
                   help="load a model artifact that carries no artifact_hash (unverifiable; default: refuse)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from chiscreen.config import load_config
    from chiscreen.screen.job import ScreenConfig, run_screen

    cfg = load_config(args.config, ScreenConfig)
    if args.engine:
        cfg.engine.kind = args.engine
    if args.model:
        cfg.model = args.model
    if args.ray_address:
        cfg.ray_address = args.ray_address
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    ens = None
    if getattr(args, "trust_unsigned", False):
        from chiscreen.model import load_ensemble

        ens = load_ensemble(cfg.model, trust_unsigned=True)
    res = run_screen(cfg, out=args.out, overwrite=args.overwrite, progress=not args.no_progress, ensemble=ens)
    print(format_result(res))
    return 0


def format_result(res) -> str:
    s = res.summary
    run = s["run"]
    lines = [
        f"screened {s['polymers']['scored']} polymers x {s['solvents']['scored']} solvents x "
        f"{len(res.manifest.temperatures_K)} temperature(s) = {s['pairs_total']:,} pairs"
        + (" (resumed)" if res.resumed else ""),
        f"  {run['written']} shard(s) written, {run['skipped']} skipped, {run['pairs_per_s']:.3g} pairs/s "
        f"({run['engine']}, {run['workers']} worker(s)); {s['rows_in_pairs']:,} rows kept",
    ]
    for kind in ("polymers", "solvents"):
        n_bad = s[kind]["rows"] - s[kind]["scored"]
        if n_bad:
            shown = "; ".join(f"{b['name']} ({b['status']}: {b['reason'][:80]})" for b in s[kind]["not_scored"][:3])
            lines.append(f"  {n_bad} {kind} not scored (see {kind}.parquet status / feature_reason): {shown}")
    lines.append(f"results in {res.out}:")
    for k, v in res.files.items():
        lines.append(f"  {k}: {v}")
    return "\n".join(lines)
