"""``chiscreen campaign recycle|compatibilizer --config FILE --out DIR``: the campaign types of
:data:`chiscreen.campaigns.CAMPAIGNS`, each from a YAML config (unknown keys rejected)."""
from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("campaign", help="run a campaign: recycle (selective dissolution) or compatibilizer",
                       description="Campaigns answer a user question from the ensemble, the Flory-Huggins toolkit "
                                   "and catalog facts, and write a folder with tables, plots and report.html.")
    kinds = p.add_subparsers(dest="campaign", metavar="KIND")
    from chiscreen.campaigns import CAMPAIGNS

    helps = {"recycle": "solvent + lowest temperature dissolving one polymer of a mixture and not the others",
             "compatibilizer": "additives and block-pair candidates for a blend of two polymers"}
    for name in CAMPAIGNS.keys():
        q = kinds.add_parser(name, help=helps.get(name, name))
        q.add_argument("--config", required=True, help=f"YAML config (e.g. configs/{'recycle' if name == 'recycle' else 'compat'}-demo.yaml)")
        q.add_argument("--out", help="results folder (default: the config's out)")
        q.add_argument("--overwrite", action="store_true",
                       help="replace an earlier campaign's files in --out, or write into a non-empty folder "
                            "(only files named like this campaign's outputs are replaced; others are kept)")
        q.add_argument("--take-over", action="store_true", help="take over the stale lock of an interrupted run")
        q.add_argument("--model", help="model artifact directory (default: the config's, else the shipped model)")
        q.add_argument("--no-progress", action="store_true")
        q.set_defaults(func=run, kind=name)
    p.set_defaults(func=_usage, parser=p)


def _usage(args: argparse.Namespace) -> int:
    args.parser.print_help()
    return 2


def run(args: argparse.Namespace) -> int:
    from chiscreen.campaigns import CAMPAIGNS
    from chiscreen.config import load_config

    cls, fn = CAMPAIGNS[args.kind]
    cfg = load_config(args.config, cls)
    if args.model:
        cfg.model = args.model
    res = run_campaign(args.kind, cfg, args.out or cfg.out, overwrite=args.overwrite,
                       take_over=args.take_over, progress=not args.no_progress)
    print(res.text)
    print(f"report: {res.files['report']}")
    return 0


def run_campaign(kind: str, cfg, out, overwrite: bool = False, take_over: bool = False, progress: bool = True):
    """Run campaign ``kind`` into ``out`` and add report.html, all under the folder's lock
    (:func:`chiscreen.campaigns.common.open_out`); returns the CampaignResult."""
    from chiscreen.campaigns import CAMPAIGNS
    from chiscreen.campaigns.common import abandon, finish_out, open_out

    _, fn = CAMPAIGNS[kind]
    import importlib

    preflight = getattr(importlib.import_module(fn.__module__), "preflight", None)
    if preflight is not None:
        preflight(cfg)  # bad config or catalog path: one clear line, before the folder is touched
    od = open_out(out, kind, overwrite=overwrite, take_over=take_over)
    try:
        res = fn(cfg, out=od, progress=progress)
        write_report(res)
        finish_out(od, kind, res.summary, res.files)
    except BaseException:
        abandon(od)
        raise
    finally:
        od.release()
    return res


def write_report(res) -> str:
    """report.html beside the campaign's files (self-contained HTML)."""
    from chiscreen.report.html import write_campaign_report

    path = write_campaign_report(res, res.out / "report.html")
    res.files["report"] = path
    return path
