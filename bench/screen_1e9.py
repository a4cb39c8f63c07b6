"""A 1e9-pair screen with bounded memory that resumes after a kill (SYNTHETIC descriptors).

    python bench/screen_1e9.py [--n-polymers 1000000 --n-solvents 1000 --temperatures 298.15K] --out DIR

The polymer catalog (synthetic: standard-normal descriptors, untrained ``ChiEnsemble.random``;
the engine, not the chemistry, is measured) is written once as a Parquet dataset under
DIR/catalog (one file per ``--rows-per-file`` polymers) and read back one file at a time with
pyarrow.dataset: the driver never holds more than one file of descriptors. Each catalog file is
one screen task (ScreenTask + the engine's ShardWorker: towers, mean-first pair head, query,
atomic zstd Parquet write per shard) writing DIR/pairs/part-NNNNN/shard-NNNNNN.parquet.

Resume: rerun the same command after a kill (SIGKILL included): finished shards are files and
are skipped; a catalog file whose shards are all written is not even read. ``--fresh`` deletes
DIR/pairs first. The query keeps chi < threshold, calibrated on a random sample to keep
``--keep`` of the pairs (default 1e-3: ~1e6 rows of 1e9).

Prints time, pairs/s and peak RSS; the last line is one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-polymers", type=int, default=1_000_000)
    ap.add_argument("--n-solvents", type=int, default=1000)
    ap.add_argument("--temperatures", default="298.15K", help="comma-separated (pairs = P x S x n_T)")
    ap.add_argument("--members", type=int, default=10)
    ap.add_argument("--d", type=int, default=34)
    ap.add_argument("--features", type=int, default=217)
    ap.add_argument("--rows-per-file", type=int, default=100_000)
    ap.add_argument("--shard-size", type=int, default=2000)
    ap.add_argument("--keep", type=float, default=1e-3)
    ap.add_argument("--engine", choices=("plain", "ray"), default="plain")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (plain engine)")
    ap.add_argument("--fresh", action="store_true", help="delete DIR/pairs first (no resume)")
    ap.add_argument("--out", default="runs/bench-1e9")
    args = ap.parse_args(argv)

    from tqdm.auto import tqdm

    from chiscreen.model import ChiEnsemble
    from chiscreen.screen import EngineConfig, QueryConfig
    from chiscreen.screen.engine import PAIRS_DIR, EngineHooks, ScreenTask, run_plain, shard_name
    from chiscreen.screen.scoring import BlockScorer
    from chiscreen.screen.sinks import OutputDir
    from chiscreen.screen.synthetic import iter_polymer_dataset, write_synthetic_polymer_dataset
    from chiscreen.units import parse_temperatures

    out = Path(args.out)
    temps = parse_temperatures(args.temperatures)
    n_pairs = args.n_polymers * args.n_solvents * len(temps)
    print(f"1e9 screen bench: {args.n_polymers:,} polymers x {args.n_solvents:,} solvents x {len(temps)} T = "
          f"{n_pairs:,} pairs; SYNTHETIC descriptors ({args.features} columns), untrained {args.members}-member "
          f"ensemble (d={args.d}); engine {args.engine}; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; out {out}", flush=True)
    t_all = time.perf_counter()
    cat = out / "catalog"
    t = time.perf_counter()
    n_files = write_synthetic_polymer_dataset(str(cat), args.n_polymers, args.features, args.rows_per_file,
                                              seed=0, progress=True)
    t_catalog = time.perf_counter() - t
    print(f"catalog: {n_files} Parquet file(s) under {cat} ({t_catalog:.1f} s, existing files kept)", flush=True)

    ens = ChiEnsemble.random(args.features, args.features, n_members=args.members, d=args.d, seed=0)
    Xs = np.random.default_rng(1).standard_normal((args.n_solvents, args.features), dtype=np.float32)
    Us = ens.encode_solvents(Xs)
    # threshold: chi quantile over a sample of the first catalog file's polymers
    _, _, load0 = next(iter_polymer_dataset(str(cat)))
    _, X0 = load0()
    sample = X0[np.random.default_rng(2).choice(len(X0), size=min(3000, len(X0)), replace=False)]
    W, b = ens.head_params()
    sc = BlockScorer(W, b, ens.outputs, Us, temps, p_all=False, mean_first=True)
    chi_max = float(np.quantile(sc.score(ens.encode_polymers(sample)).chi.numpy().ravel(), args.keep))
    del X0, sample, sc
    query = QueryConfig(chi_max=chi_max)
    print(f"query: chi < {chi_max:.5f} (calibrated to keep ~{args.keep:.2%}); mean-first scoring: "
          f"{query.allows_mean_first}", flush=True)

    pairs_root = out / PAIRS_DIR
    if args.fresh:
        shutil.rmtree(pairs_root, ignore_errors=True)
    n_shards_total = sum((n + args.shard_size - 1) // args.shard_size for _, n, _ in iter_polymer_dataset(str(cat)))
    bar = tqdm(total=n_shards_total, desc="shards", unit="shard", file=sys.stderr, dynamic_ncols=True)
    counts = {"written": 0, "skipped": 0, "kept": 0, "pairs": 0, "encode_s": 0.0, "worker_s": 0.0,
              "shard_cpu_s": 0.0, "files_skipped_unread": 0}

    def on_shard(s: dict) -> None:
        bar.update(1)
        if s.get("skipped"):
            counts["skipped"] += 1
        else:
            counts["written"] += 1
            counts["kept"] += s["kept"]
            counts["pairs"] += s["pairs"]
            counts["encode_s"] += s.get("encode_seconds", 0.0)
            counts["worker_s"] += s.get("seconds", 0.0)
            counts["shard_cpu_s"] += s.get("cpu_seconds", 0.0)

    hooks = EngineHooks(on_shard=on_shard)
    ecfg = EngineConfig(kind=args.engine, shard_size=args.shard_size, threads=args.threads)
    pool = None
    if args.engine == "ray":
        from chiscreen.screen.engine import RayPool

        pool = RayPool(ens, ecfg)
    worker_rss: list[int] = []
    t_screen = time.perf_counter()
    cpu_screen = time.process_time()
    load_start = os.getloadavg()[0]
    try:
        for name, n, load in iter_polymer_dataset(str(cat)):
            sub = pairs_root / Path(name).stem
            n_sh = (n + args.shard_size - 1) // args.shard_size
            odir = OutputDir(str(sub))
            if all(odir.exists(PAIRS_DIR, shard_name(i)) for i in range(n_sh)):
                counts["files_skipped_unread"] += 1
                for _ in range(n_sh):
                    on_shard({"skipped": True})
                continue
            ids, Xp = load()
            task = ScreenTask(Xp=Xp, polymer_ids=ids, solvent_ids=np.arange(args.n_solvents, dtype=np.int64),
                              Us=Us.numpy(), temperatures_K=list(temps), head="exp", chi_c=0.5, query=query,
                              out=str(sub), shard_size=args.shard_size)
            if pool is None:
                st = run_plain(ens, task, ecfg, progress=False, hooks=hooks, device="cpu")
            else:
                st = pool.run(task, progress=False, hooks=hooks)
            worker_rss = st.peak_rss_bytes or worker_rss
            del Xp, ids, task
    finally:
        bar.close()
        if pool is not None:
            pool.close()
    screen_s = time.perf_counter() - t_screen
    cpu_s = time.process_time() - cpu_screen  # this process (the plain engine's work; not Ray actors)
    # check: one shard file per shard, all readable
    import pyarrow.dataset as pds

    files = sorted(str(p) for p in pairs_root.glob("*/pairs/shard-*.parquet"))
    rows = pds.dataset(files, format="parquet").count_rows() if files else 0
    wall = time.perf_counter() - t_all
    rate = counts["pairs"] / screen_s if screen_s > 0 else float("nan")
    peak = rss_gb() + (sum(worker_rss) / 1024 ** 3 if pool is not None else 0.0)
    print(f"screen: {counts['written']} shard(s) written, {counts['skipped']} skipped (resumed; "
          f"{counts['files_skipped_unread']} catalog file(s) not read); {counts['pairs']:,} pairs scored in "
          f"{screen_s:.1f} s = {rate:.3g} pairs/s; towers {counts['encode_s'] / max(counts['worker_s'], 1e-9):.0%} "
          f"of worker time; driver CPU {cpu_s:.1f} s"
          + (f" = {counts['pairs'] / cpu_s:.3g} pairs per CPU-s" if pool is None and cpu_s > 0 else "")
          + f"; shards alone {counts['pairs'] / max(counts['shard_cpu_s'], 1e-9):.3g} pairs per CPU-s; "
          f"load average {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end", flush=True)
    print(f"output: {len(files)} shard files (expected {n_shards_total}), {rows:,} rows kept "
          f"({rows / n_pairs:.3%} of {n_pairs:,}); total {wall:.1f} s incl. catalog; peak RSS {peak:.2f} GB", flush=True)
    summary = {"n_polymers": args.n_polymers, "n_solvents": args.n_solvents, "n_temperatures": len(temps),
               "n_pairs": n_pairs, "descriptors": "synthetic", "engine": args.engine, "members": args.members,
               "cpus": os.cpu_count(), "load_average_1min_end": round(os.getloadavg()[0], 2),
               "catalog_files": n_files, "catalog_seconds": round(t_catalog, 2),
               "shards_total": n_shards_total, "shards_written": counts["written"], "shards_skipped": counts["skipped"],
               "shard_files": len(files), "complete": len(files) == n_shards_total,
               "pairs_scored_this_run": counts["pairs"], "screen_seconds": round(screen_s, 2),
               "pairs_per_s": round(rate) if np.isfinite(rate) else None,
               "tower_share": round(counts["encode_s"] / counts["worker_s"], 3) if counts["worker_s"] else None,
               "cpu_seconds_driver": round(cpu_s, 2),
               "pairs_per_cpu_s": round(counts["pairs"] / cpu_s) if pool is None and cpu_s > 0 else None,
               "shard_pairs_per_cpu_s": round(counts["pairs"] / counts["shard_cpu_s"]) if counts["shard_cpu_s"] else None,
               "load_average_1min_start": round(load_start, 2),
               "rows_kept": rows, "kept_fraction": round(rows / n_pairs, 6), "wall_seconds": round(wall, 2),
               "peak_rss_gb": round(peak, 3), "torch_threads": torch.get_num_threads(), "out": str(out)}
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
