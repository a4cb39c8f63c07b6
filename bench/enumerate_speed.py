"""Catalog enumeration speed: `chiscreen catalog enumerate` on the shipped building blocks.

    python bench/enumerate_speed.py                      # the whole command, --jobs 2, + per-stage CPU
    python bench/enumerate_speed.py --reference OLD.parquet   # ... and compare with a catalog written earlier
    python bench/enumerate_speed.py --tree /tmp/main     # time another source tree (A/B on one machine)

1. The whole command as a user runs it (a fresh interpreter: imports, building blocks, residues,
   building + canonicalising every unit in --jobs worker processes, deduplication, the Parquet
   write), --repeat times: wall seconds and CPU seconds of the command and its workers (user +
   sys). On a shared machine wall time says little: CPU / jobs estimates the wall time on that
   many free cores (pool start-up and the serial driver included in the CPU, so it is a slight
   over-estimate of the parallel part and an under-estimate of the serial part). The load average
   is printed before and after.
2. --stages (default on; --no-stages to skip): CPU seconds per stage in one process, serial, on
   every planned unit: building units (molzip of residues), validation (parse + checks), period
   reduction, trimer building (molzip), backbone cuts, rotations (pieces, trimming), windows
   (copy, edit, sanitize), canonical SMILES, then deduplication, the catalog frame, the Parquet
   write; plus the start-up of one pool worker (interpreter + imports).
3. --reference: the new catalog must equal the old one exactly (rows, order, every column, dtypes)
   and, where both are files, byte for byte.

Goal (issue 13): <= 15 s wall on 2 cores from a fresh clone. The last line is one JSON object.
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


def _run_command(tree: Path, jobs: int, rules: str, out: Path) -> tuple[float, float, str]:
    env = {**os.environ, "PYTHONPATH": str(tree) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "chiscreen.cli.main", "catalog", "enumerate", "--rules", rules,
                           "--jobs", str(jobs), "--no-progress", "--output", str(out)],
                          env=env, cwd=tree, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        print(proc.stdout + proc.stderr, file=sys.stderr)
        raise SystemExit(proc.returncode)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rep = next((line for line in proc.stdout.splitlines() if line.startswith("enumerate:")), "")
    return wall, cpu, rep


class _Stages:
    """Exclusive CPU time per stage: a wrapped function's time excludes wrapped functions it calls."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._stack: list[list] = []

    def wrap(self, module, attr: str, stage: str) -> None:
        f = getattr(module, attr)
        f = getattr(f, "__wrapped__", f) if attr == "canonical_repeat_unit" else f

        def timed(*a, **k):
            now = time.process_time()
            if self._stack:
                self._stack[-1][1] += now - self._stack[-1][2]
            self._stack.append([stage, 0.0, now])
            try:
                return f(*a, **k)
            finally:
                end = time.process_time()
                name, acc, start = self._stack.pop()
                self.cpu[name] = self.cpu.get(name, 0.0) + acc + (end - start)
                self.calls[name] = self.calls.get(name, 0) + 1
                if self._stack:
                    self._stack[-1][2] = end

        setattr(module, attr, timed)


def _stages(tree: Path, rules_arg: str) -> dict[str, float]:
    sys.path.insert(0, str(tree))
    t0 = time.process_time()
    import pandas as pd  # already imported by main(): this stage is chiscreen's own imports

    from chiscreen.catalogs import enumerate as E
    from chiscreen.catalogs.catalog import write_catalog
    from chiscreen.chem import _rdkit as R, polymer as P
    try:
        from chiscreen.chem import assemble as A
    except ImportError:  # a tree from before the speed-up: building lived in catalogs.enumerate
        A = E
    t_import = time.process_time() - t0

    st = _Stages()
    st.wrap(A, "build", "building units (molzip of residues)")
    st.wrap(P, "validate_repeat_unit", "validation (parse, checks)")
    st.wrap(P, "_reduce_period", "period reduction")
    st.wrap(P, "_zip_chain", "trimer / oligomer building (molzip, sanitize)")
    st.wrap(P, "_backbone_cuts", "backbone cuts")
    for helper in ("_pieces", "_segment_of"):  # new tree / old tree
        if hasattr(P, helper):
            st.wrap(P, helper, "rotations (pieces, trimming)")
    st.wrap(P, "_windows", "rotations (pieces, trimming)")
    st.wrap(P, "_window", "windows (copy, edit, sanitize)")
    st.wrap(P, "canonical_smiles", "canonical SMILES")
    st.wrap(R, "canonical_smiles", "canonical SMILES")
    out: dict[str, float] = {"driver imports (chiscreen; pandas was loaded)": t_import}
    t = time.process_time()
    rules = E.RULES if rules_arg == "all" else tuple(rules_arg.split(","))
    rows = list(E.plan(E.read_blocks(tree / "catalogs" / "building_blocks"), rules))
    out["plan (blocks, residues, combinations)"] = time.process_time() - t
    t = time.process_time()
    built = []
    for _, _, op, a, b in rows:
        smi = A.build(op, a, b)
        try:
            can = P.canonical_repeat_unit.__wrapped__(smi)
        except Exception:
            can = None
        built.append((smi, can))
    t_units = time.process_time() - t
    out.update(st.cpu)
    out["other (canonical_repeat_unit glue)"] = t_units - sum(st.cpu.values())
    t = time.process_time()
    seen, keep = set(), []
    for (rule, name, *_), (smi, can) in zip(rows, built):
        if can is not None and can not in seen:
            seen.add(can)
            keep.append((name, smi, can, rule))
    out["deduplication"] = time.process_time() - t
    t = time.process_time()
    df = pd.DataFrame(keep, columns=["name", "smiles", "canonical", "rule"])
    df.insert(0, "id", range(len(df)))
    df["status"], df["reason"] = "ok", ""
    out["catalog frame"] = time.process_time() - t
    with tempfile.TemporaryDirectory() as tmp:
        t = time.process_time()
        write_catalog(df[["id", "name", "smiles", "canonical", "status", "reason", "rule"]], Path(tmp) / "c.parquet")
        out["Parquet write"] = time.process_time() - t
    # one pool worker's start-up: a fresh interpreter importing the worker's task module
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    mod = "chiscreen.chem.assemble" if (tree / "chiscreen/chem/assemble.py").is_file() else "chiscreen.catalogs.enumerate"
    subprocess.run([sys.executable, "-c", f"import chiscreen.runtime._worker, {mod}"], env=env, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["pool start-up per worker (interpreter + imports)"] = ((after.ru_utime - before.ru_utime)
                                                               + (after.ru_stime - before.ru_stime))
    out["_units"] = float(len(rows))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--rules", default="all")
    ap.add_argument("--repeat", type=int, default=1, help="runs of the whole command (the best is reported too)")
    ap.add_argument("--reference", help="an earlier catalog (Parquet) the new one must equal")
    ap.add_argument("--tree", default=str(ROOT), help="source tree to time (default: this one)")
    ap.add_argument("--no-stages", dest="stages", action="store_false", help="skip the per-stage CPU profile")
    args = ap.parse_args()
    tree = Path(args.tree).resolve()
    import pandas as pd

    load0 = os.getloadavg()
    walls, cpus, same, same_bytes, rep, n = [], [], None, None, "", 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "enumerated.parquet"
        for _ in range(max(1, args.repeat)):
            w, c, rep = _run_command(tree, args.jobs, args.rules, out)
            walls.append(w)
            cpus.append(c)
        df = pd.read_parquet(out)
        n = len(df)
        if args.reference:
            ref = pd.read_parquet(args.reference)
            same = bool(list(ref.columns) == list(df.columns) and list(ref.dtypes) == list(df.dtypes)
                        and ref.reset_index(drop=True).equals(df.reset_index(drop=True)))
            same_bytes = Path(args.reference).read_bytes() == out.read_bytes()
    load1 = os.getloadavg()
    print(rep)
    for k, (w, c) in enumerate(zip(walls, cpus), 1):
        print(f"run {k}: wall {w:.1f} s, CPU {c:.1f} s (command + workers), CPU/{args.jobs} {c / args.jobs:.1f} s")
    print(f"{n} unique units, --jobs {args.jobs}, tree {tree}; load average {load0[0]:.1f} before, "
          f"{load1[0]:.1f} after, on {os.cpu_count()} CPUs"
          + ("" if same is None else f"; same catalog as reference: {same} (bytes identical: {same_bytes})"))
    stages = {}
    if args.stages:
        stages = _stages(tree, args.rules)
        units = stages.pop("_units")
        print(f"per-stage CPU, one process, serial, {int(units)} planned units:")
        for k, v in stages.items():
            print(f"  {k:52s} {v:7.2f} s" + (f"  {1e3 * v / units:6.3f} ms/unit" if v > 0.05 else ""))
        print(f"  {'total':52s} {sum(stages.values()):7.2f} s")
    print(json.dumps({"wall_s": round(min(walls), 2), "cpu_s": round(min(cpus), 2),
                      "cpu_per_job_s": round(min(cpus) / max(args.jobs, 1), 2),
                      "walls_s": [round(w, 2) for w in walls], "cpus_s": [round(c, 2) for c in cpus],
                      "unique_units": int(n), "jobs": args.jobs, "rules": args.rules,
                      "load_avg_1min_before": round(load0[0], 1), "load_avg_1min_after": round(load1[0], 1),
                      "same_as_reference": same, "bytes_identical_to_reference": same_bytes,
                      "stages_cpu_s": {k: round(v, 3) for k, v in stages.items()},
                      "tree": str(tree), "goal_wall_s": 15.0}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
