"""Ray job entrypoint for a screen.

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \
        python jobs/screen.py --config configs/screen-demo.yaml [--out DIR]

Connects to the cluster the job runs in (``ray.init(address="auto")`` when submitted, an
embedded local Ray otherwise) and calls the same library function as ``chiscreen screen``.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see chiscreen.screen


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--out")
    ap.add_argument("--address", help="Ray address (default: 'auto' inside a Ray job, else embedded)")
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args(argv)

    import ray

    from chiscreen.report.text import format_result
    from chiscreen.config import load_config
    from chiscreen.errors import ChiscreenError
    from chiscreen.screen.job import ScreenConfig, run_screen

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    address = args.address or ("auto" if os.environ.get("RAY_ADDRESS") or os.environ.get("RAY_JOB_ID") else None)
    if address:
        ray.init(address=address)
    else:
        ray.init(include_dashboard=False)
    try:
        cfg = load_config(args.config, ScreenConfig)
        cfg.engine.kind = "ray"
        out = args.out or cfg.out
        if os.environ.get("RAY_JOB_ID") and "://" not in out and not os.path.isabs(out):
            print(f"jobs/screen.py: note: output {out!r} is relative, so it lands in this job's copy of the "
                  f"working dir ({os.getcwd()}); pass --out /absolute/path or a filesystem URI "
                  "(s3://..., gs://...) to keep results; on multi-node clusters use shared storage",
                  file=sys.stderr, flush=True)
        res = run_screen(cfg, out=args.out, overwrite=args.overwrite, progress=False)
    except ChiscreenError as exc:
        print(f"jobs/screen.py: error: {exc}", file=sys.stderr)
        return 2
    print(format_result(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
