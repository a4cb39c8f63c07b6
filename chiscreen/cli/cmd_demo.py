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
    p.add_argument("--overwrite", action="store_true",
                   help="also replace another screen's results in --out, or write into a non-empty folder chiscreen "
                        "does not own (only files chiscreen writes are replaced; others are kept). Not needed for a "
                        "rerun: the demo replaces its own earlier results by itself")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--no-recycle", action="store_true", help="skip the closing recycling campaign (configs/recycle-demo.yaml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from chiscreen.report.text import run_demo

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    res = run_demo(out=args.out, engine=args.engine, top=args.top, progress=not args.no_progress, model=args.model,
                   overwrite=args.overwrite)
    print(res.text)
    if not args.no_recycle:
        print()
        print(recycling_answer(args))
    return 0


def recycling_answer(args: argparse.Namespace) -> str:
    """The demo's closing answer: configs/recycle-demo.yaml (dissolve PS out of PE/PP/PS/PET/PVC) into
    <out>-recycle, a few lines and the report path."""
    from pathlib import Path

    from chiscreen.campaigns.recycle import RecycleConfig
    from chiscreen.config import load_config
    from chiscreen.paths import project_root

    cfg_path = next((b / "configs" / "recycle-demo.yaml" for b in (Path.cwd(), project_root())
                     if b is not None and (b / "configs" / "recycle-demo.yaml").is_file()), None)
    cfg = load_config(cfg_path, RecycleConfig) if cfg_path else RecycleConfig(
        mixture=["PE", "iPP", "PS", "PET", "PVC"], target="PS")
    if args.model:
        cfg.model = args.model
    out = Path(str(args.out).rstrip("/") + "-recycle")
    from chiscreen.cli.cmd_campaign import run_campaign

    r = run_campaign("recycle", cfg, str(out), overwrite=args.overwrite or _earlier_demo_answer(out),
                     progress=not args.no_progress)
    head = r.text.splitlines()
    keep = [head[0]] + [l for l in head[1:] if l.lstrip()[:1].isdigit()][:3]
    return "\n".join(keep + [f"  full answer (table, chi(T) plots, unknowns): {out / 'report.html'}"])


def _earlier_demo_answer(out) -> bool:
    """Whether ``out`` holds an earlier demo recycling answer (replaced on a rerun): chiscreen's
    recycle manifest, or the campaign.json of a demo run before campaign folders had one.
    Any other non-empty folder is left to the owned-folder rules (refused, exit 2)."""
    import json

    name, key, want = (("manifest.json", "format", "chiscreen-campaign-recycle") if (out / "manifest.json").exists()
                       else ("campaign.json", "kind", "recycle"))
    try:
        return json.loads((out / name).read_text()).get(key) == want
    except (OSError, ValueError, AttributeError):
        return False
