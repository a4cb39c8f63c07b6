"""Submit a chiscreen job to a Ray cluster with your environment: ``ray job submit`` plus a
runtime_env holding the working dir and your CHISCREEN_* variables (CHISCREEN_CACHE, ...), so the
job reads the same descriptor cache and data as a local run. The reference data folder found here
is sent as CHISCREEN_DATA when you did not set it (the job's working-dir copy has no
../shared/data beside it).

    python jobs/submit.py --address http://127.0.0.1:8265 [--working-dir .] -- \\
        python jobs/screen.py --config configs/screen-demo.yaml --out /shared/runs/x

Everything after ``--`` is the job's entrypoint. Prints the runtime_env it sends, then runs
``ray job submit`` (its exit code is returned).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        print("jobs/submit.py: error: give the job's entrypoint after '--', e.g. -- python jobs/screen.py "
              "--config configs/screen-demo.yaml", file=sys.stderr)
        return 2
    k = argv.index("--")
    ap = argparse.ArgumentParser(prog="jobs/submit.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--address", default=os.environ.get("RAY_ADDRESS"), help="Ray dashboard address")
    ap.add_argument("--working-dir", default=".", help="folder uploaded as the job's working dir")
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="one more job variable")
    ap.add_argument("--no-wait", action="store_true", help="return after submitting")
    args = ap.parse_args(argv[:k])

    from chiscreen.runtime import job_runtime_env

    extra = {}
    for item in args.env:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"jobs/submit.py: error: --env {item!r} is not NAME=VALUE", file=sys.stderr)
            return 2
        extra[name] = value
    renv = job_runtime_env(extra_env=extra, data_dir=_driver_data_dir())
    ray = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    cmd = [ray, "job", "submit", "--working-dir", args.working_dir, "--runtime-env-json", json.dumps(renv)]
    if args.address:
        cmd += ["--address", args.address]
    if args.no_wait:
        cmd.append("--no-wait")
    print(f"jobs/submit.py: runtime_env {json.dumps(renv)}", file=sys.stderr, flush=True)
    return subprocess.call(cmd + ["--"] + argv[k + 1:])


def _driver_data_dir():
    """The reference data folder found here (None when there is none): the job gets it as
    CHISCREEN_DATA, since its working-dir copy has no ../shared/data beside it."""
    from chiscreen.data.locator import data_dir
    from chiscreen.errors import DataNotFoundError

    try:
        return data_dir()
    except DataNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
