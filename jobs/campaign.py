"""Ray job entrypoint for a campaign (the same options as ``chiscreen campaign``).

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \\
        python jobs/campaign.py recycle --config configs/recycle-demo.yaml --out /abs/path/recycle-ps
    ray job submit ... -- python jobs/campaign.py compatibilizer --config configs/compat-demo.yaml --out /abs/path/compat

A campaign is one driver process (its predictions take seconds), so the job runs the CLI's own code
path in the job's driver: same arguments, same validation, same exit codes (2 on bad input).
"""
from __future__ import annotations

import os
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see chiscreen.screen


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--out" in argv and os.environ.get("RAY_JOB_ID"):
        out = argv[argv.index("--out") + 1] if argv.index("--out") + 1 < len(argv) else ""
        if out and not os.path.isabs(out):
            print(f"jobs/campaign.py: note: output {out!r} is relative, so it lands in this job's copy of the "
                  f"working dir ({os.getcwd()}); pass --out /absolute/path to keep results", file=sys.stderr, flush=True)
    from chiscreen.cli.main import main as cli_main

    return cli_main(["campaign", *argv])


if __name__ == "__main__":
    sys.exit(main())
