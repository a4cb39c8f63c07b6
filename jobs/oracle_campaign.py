"""Ray job entrypoint: the oracle data campaign (profiles per molecule, then chi_oracle labels).

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \\
        python jobs/oracle_campaign.py --config configs/oracle-campaign.yaml --out /abs/path/oracle-campaign
    python jobs/oracle_campaign.py --config configs/oracle-campaign.yaml --out runs/oracle-campaign   # local Ray

    # relabel a campaign's stored profiles with another COSMO-SAC parameter set (no xtb; seconds)
    python jobs/oracle_campaign.py relabel --out runs/oracle-campaign --param-set xtbfit-2 --output FILE

    # data-choice arms: N new enumerated polymers by diversity / the AL loop (UCB) / random
    python jobs/oracle_campaign.py arms --config configs/oracle-campaign-arms.yaml --out runs/oracle-arms

Inside ``ray job submit`` the profiles run on the job's cluster (``chiscreen.runtime.connect_ray``:
address "auto"); run directly, an embedded local Ray with ``run.num_cpus`` CPUs is started and stopped.
A killed run resumes where it stopped when started again with the same ``--out`` (``--take-over``
for the lock a killed run left). Exit code 2 with a one-line message on bad input.
"""
from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see chiscreen.screen


def _note_relative(out: str, what: str = "--out") -> None:
    if os.environ.get("RAY_JOB_ID") and out and not os.path.isabs(out):
        print(f"jobs/oracle_campaign.py: note: {what} {out!r} is relative, so it lands in this job's copy of the "
              f"working dir ({os.getcwd()}); pass an absolute path to keep results", file=sys.stderr, flush=True)


def _campaign_parser(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--config", required=True, help="campaign YAML (configs/oracle-campaign.yaml)")
    ap.add_argument("--out", required=True, help="output folder (resumed when it holds a campaign)")
    ap.add_argument("--param-set", help="COSMO-SAC parameter set of the labels (overrides the config's params)")
    ap.add_argument("--store", help="profile store folder (overrides the config's store)")
    ap.add_argument("--backend", choices=["ray", "process"], help="override run.backend")
    ap.add_argument("--address", help="Ray address (default: 'auto' inside a Ray job, else a local Ray)")
    ap.add_argument("--enum-cache", help="Parquet file caching the full polymer enumeration (shared between runs)")
    ap.add_argument("--overwrite", action="store_true", help="start the folder afresh (removes only campaign files)")
    ap.add_argument("--take-over", action="store_true", help="take over the stale lock of a killed run")
    ap.add_argument("--no-progress", action="store_true")


def _load(args):
    from chiscreen.qc.campaign import load_campaign_config

    cfg = load_campaign_config(args.config)
    if getattr(args, "store", None):
        cfg.store = args.store
    if getattr(args, "backend", None):
        cfg.run.backend = args.backend
    if getattr(args, "address", None):
        cfg.run.address = args.address
    if getattr(args, "no_progress", False):
        cfg.run.progress = False
    return cfg


def cmd_run(args, command: str) -> int:
    from chiscreen.qc.campaign import run_campaign

    cfg = _load(args)
    _note_relative(args.out)
    try:
        res = run_campaign(cfg, args.out, overwrite=args.overwrite, take_over=args.take_over,
                           progress=cfg.run.progress, param_set=args.param_set, enum_cache=args.enum_cache,
                           command=command)
    finally:
        if cfg.run.backend == "ray":
            from chiscreen.runtime import shutdown_ray

            shutdown_ray()
    m = res.manifest
    print(f"oracle campaign: {res.table}: {m['rows']} rows, {m['pairs']} pairs, "
          f"{m['molecules']['profiled_this_run']} profiles computed, {m['molecules']['failed']} failed, "
          f"{m['wall_s']['total_this_run']:.0f} s; manifest {os.path.join(res.out, 'manifest.json')}")
    return 0


def cmd_relabel(args, command: str) -> int:
    from chiscreen.qc.campaign import relabel

    path, table = relabel(args.out, param_set=args.param_set, output=args.output, store=args.store, command=command)
    print(f"oracle campaign relabel: wrote {path} ({len(table)} rows, parameter set "
          f"{table['param_set'].iloc[0] if len(table) else args.param_set})")
    return 0


def cmd_arms(args, command: str) -> int:
    from chiscreen.al.campaign_arms import run_arms  # noqa: F401  (kept beside the AL layer)

    cfg = _load(args)
    _note_relative(args.out)
    try:
        res = run_arms(cfg, args.out, n=args.n, arms=args.arms.split(","), campaign=args.campaign,
                       seed=args.seed, model=args.model, overwrite=args.overwrite, take_over=args.take_over,
                       enum_cache=args.enum_cache, param_set=args.param_set, command=command,
                       select_only=args.select_only)
    finally:
        if cfg.run.backend == "ray":
            from chiscreen.runtime import shutdown_ray

            shutdown_ray()
    print(res)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = "python jobs/oracle_campaign.py " + " ".join(shlex.quote(a) for a in argv)
    sub = argv[0] if argv and argv[0] in ("run", "relabel", "arms") else "run"
    if argv and argv[0] == sub:
        argv = argv[1:]
    ap = argparse.ArgumentParser(prog=f"jobs/oracle_campaign.py {sub}", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    if sub == "relabel":
        ap.add_argument("--out", required=True, help="the campaign folder whose molecules are relabelled")
        ap.add_argument("--param-set", required=True, help="parameter set: shipped name (xtbfit-1, sac2010) or JSON")
        ap.add_argument("--output", help="label table to write (default OUT/relabel/chi_oracle-NAME.parquet)")
        ap.add_argument("--store", help="profile store folder (default: the campaign's)")
    else:
        _campaign_parser(ap)
    if sub == "arms":
        ap.add_argument("--n", type=int, default=40, help="new polymers per arm")
        ap.add_argument("--arms", default="diversity,al,random", help="comma-separated arms")
        ap.add_argument("--campaign", help="campaign folder whose polymers the arms must not repeat")
        ap.add_argument("--seed", type=int, default=0, help="seed of the random arm")
        ap.add_argument("--model", help="model artifact of the AL arm (default: the shipped model)")
        ap.add_argument("--select-only", action="store_true", help="choose and write the arms, profile nothing")
    args = ap.parse_args(argv)

    from chiscreen.errors import ChiscreenError

    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    try:
        return {"run": cmd_run, "relabel": cmd_relabel, "arms": cmd_arms}[sub](args, command)
    except ChiscreenError as exc:
        print(f"jobs/oracle_campaign.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
