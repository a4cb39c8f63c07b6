"""``chiscreen demo``: screen the shipped catalogs and print the best solvents of well-known polymers."""
from __future__ import annotations

import argparse
import logging
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="screen the shipped catalogs with the shipped model; print the best solvents",
        description="Screens every shipped polymer x solvent at 25, 80 and 140 C (configs/screen-demo.yaml), "
                    "prints the best solvents for PS, PMMA, PVC, PE, ... and a PS-from-PE/PP recycling query, "
                    "and says where the results are. Descriptors are cached after the first run.")
    p.add_argument("--out", default="runs/screen-demo", help="results folder (default runs/screen-demo)")
    p.add_argument("--engine", choices=["ray", "plain"], help="override the config's engine (default ray)")
    p.add_argument("--model", help="model artifact directory (default: the shipped model)")
    p.add_argument("--top", type=int, default=5, help="solvents shown per polymer")
    p.add_argument("--no-progress", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from chiscreen.report.text import run_demo

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    res = run_demo(out=args.out, engine=args.engine, top=args.top, progress=not args.no_progress, model=args.model)
    print(res.text)
    return 0
