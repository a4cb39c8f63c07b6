"""Ray job entrypoint: one active-learning cycle of a run (cron or any scheduler drives it).

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
        python jobs/al_cycle.py --run /data/al-runs/demo [--cycles 1]

Joins the cluster the job runs in (``address="auto"`` inside a Ray job, an embedded local Ray
otherwise); the oracle's profile calculations run as Ray tasks there. Same library call as
``chiscreen al cycle``: resumes an interrupted cycle (``--take-over`` for the stale lock a killed
cycle left), and refuses (exit 2) when another cycle of the run holds its lock. The run directory must be on storage the driver can reach.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see chiscreen.screen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="AL run directory (from `chiscreen al init`)")
    ap.add_argument("--cycles", type=int, default=1)
    ap.add_argument("--address", help="Ray address (default: 'auto' inside a Ray job, else embedded)")
    ap.add_argument("--take-over", action="store_true", help="take over the stale lock of a killed cycle")
    args = ap.parse_args(argv)

    from chiscreen.al import ALRun
    from chiscreen.al.adapters import start_ray
    from chiscreen.errors import ChiscreenError

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        run = ALRun(args.run)
        if run.cfg.oracle.oracle_config().run.backend == "ray":
            start_ray(num_cpus=run.cfg.oracle.num_cpus, address=args.address)  # runtime.connect_ray: the job's cluster inside ray job submit
        for _ in range(max(1, args.cycles)):
            m = run.cycle(take_over=args.take_over)
            print(f"al cycle {m['cycle']} done: model {run.model_dir(m['cycle'])}")
    except ChiscreenError as exc:
        print(f"al_cycle: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
