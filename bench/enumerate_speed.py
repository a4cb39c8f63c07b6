"""Catalog enumeration speed: `chiscreen catalog enumerate` on the shipped building blocks.

    python bench/enumerate_speed.py [--jobs 2] [--rules all] [--reference runs/old/enumerated.parquet]

Times the whole command as a user runs it (a fresh interpreter: imports, building blocks,
residues, building + canonicalising every unit in --jobs worker processes, deduplication, the
Parquet write) and reports wall seconds, CPU seconds of the command and its workers (user + sys;
on a loaded machine CPU / jobs is the better estimate of the idle wall time), units generated and
unique, and, with --reference, whether the catalog equals a catalog written earlier (same rows,
names and canonical identities). Goal (issue 13): <= 15 s wall on 2 cores. The last line is one
JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rules", default="all")
    ap.add_argument("--reference", help="an earlier catalog (Parquet) to compare with")
    args = ap.parse_args()
    import pandas as pd

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "enumerated.parquet"
        env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "chiscreen.cli.main", "catalog", "enumerate", "--rules", args.rules,
                               "--jobs", str(args.jobs), "--no-progress", "--output", str(out)],
                              env=env, cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            print(proc.stdout + proc.stderr, file=sys.stderr)
            return proc.returncode
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        df = pd.read_parquet(out)
        rep = next((line for line in proc.stdout.splitlines() if line.startswith("enumerate:")), "")
        same = None
        if args.reference:
            ref = pd.read_parquet(args.reference)
            cols = ["name", "smiles", "canonical", "rule"]
            same = bool(len(ref) == len(df) and ref[cols].reset_index(drop=True).equals(df[cols].reset_index(drop=True)))
    load = os.getloadavg()[0]
    print(rep)
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s (command + workers), {len(df)} unique units, --jobs {args.jobs}, "
          f"load average {load:.1f} on {os.cpu_count()} CPUs" + ("" if same is None else f", same catalog as reference: {same}"))
    print(json.dumps({"wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "cpu_per_job_s": round(cpu / max(args.jobs, 1), 2),
                      "unique_units": int(len(df)), "jobs": args.jobs, "rules": args.rules, "load_avg_1min": round(load, 1),
                      "same_as_reference": same, "goal_wall_s": 15.0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
