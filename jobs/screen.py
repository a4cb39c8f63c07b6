"""Ray job entrypoint for a screen: the same options as ``chiscreen screen``.

    python jobs/submit.py --address http://127.0.0.1:8265 -- \\
        python jobs/screen.py --config configs/screen-demo.yaml [--out DIR] [--no-progress] ...

(``jobs/submit.py`` is ``ray job submit`` with the working dir and your CHISCREEN_* variables in
the job's runtime_env; plain ``ray job submit`` works too, passing them with --runtime-env-json.)
Connects to the cluster the job runs in (chiscreen.runtime.connect_ray: "auto" when submitted,
an embedded local Ray otherwise) and calls the same library function as ``chiscreen screen``.
Exit code 2 with a one-line message on bad input, as the CLI.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see chiscreen.screen


def build_parser() -> argparse.ArgumentParser:
    from chiscreen.cli.cmd_screen import add_arguments

    ap = argparse.ArgumentParser(prog="jobs/screen.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(ap)
    return ap


def main(argv: list[str] | None = None) -> int:
    from chiscreen.cli.cmd_screen import load_job
    from chiscreen.report.text import format_result

    args = build_parser().parse_args(argv)

    from chiscreen.errors import ChiscreenError
    from chiscreen.runtime import connect_ray
    from chiscreen.screen.job import run_screen

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    try:
        cfg = load_job(args)
        if not args.engine:
            cfg.engine.kind = "ray"
        if cfg.engine.kind == "ray":
            connect_ray(cfg.ray_address)
        out = args.out or cfg.out
        if os.environ.get("RAY_JOB_ID") and "://" not in out and not os.path.isabs(out):
            print(f"jobs/screen.py: note: output {out!r} is relative, so it lands in this job's copy of the "
                  f"working dir ({os.getcwd()}); pass --out /absolute/path or a filesystem URI "
                  "(s3://..., gs://...) to keep results; on multi-node clusters use shared storage",
                  file=sys.stderr, flush=True)
        res = run_screen(cfg, out=args.out, overwrite=args.overwrite, progress=not args.no_progress,
                         take_over=args.take_over, trust_unsigned=args.trust_unsigned)
    except ChiscreenError as exc:
        print(f"jobs/screen.py: error: {exc}", file=sys.stderr)
        return 2
    print(format_result(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
