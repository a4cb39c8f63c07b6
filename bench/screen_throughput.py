"""Screening throughput: plain single-process torch vs the Ray engine, in one run.

    python bench/screen_throughput.py [--n-polymers 100000 --n-solvents 1000 --members 10] --out DIR

What is timed (each engine, same job): per shard, the polymer towers of every ensemble member
(once per molecule), the GEMM pair head over every solvent and temperature, the ensemble mean and
std, the query (keep chi < threshold, calibrated to keep ~1% of pairs; P(soluble) for kept rows)
and the atomic zstd Parquet write of the kept rows. A pair evaluation = one (polymer, solvent, T)
through all members, giving mean and std.

Engines: ``plain`` (this process; shards side by side in threads, one torch thread each),
``ray`` (fresh actors: their start-up, process + torch import + ensemble, is inside the timed
screen) and ``ray_warm`` (a second screen right after on the same actors, kept with
``engine.keep_warm``: what repeated screens of one driver see). Every engine reports wall
figures and CPU-normalised ones (pairs per CPU-second of the processes that did the work:
``*_pairs_per_cpu_s`` with start-up, ``*_shard_pairs_per_cpu_s`` of the shards alone), because
the machine is shared: wall figures depend on the load average (printed).

Descriptors are SYNTHETIC (standard normal, 217 columns like rdkit2d) and the ensemble is
untrained (ChiEnsemble.random): the engine, not the chemistry, is measured. Featurization of
real molecules is timed separately (--featurize-sample, cold temp cache) and reported per
molecule. The last line is one JSON object with the named figures.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the CLI does; set OMP_WAIT_POLICY=ACTIVE to compare

import numpy as np
import torch


def rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2


def current_rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 ** 3


def calibrate_chi_max(ens, Xp, Xs, temps, keep: float, n: int = 4000) -> float:
    """chi threshold keeping ~``keep`` of the pairs: the quantile over a random sample of n
    polymers (x every solvent and temperature)."""
    from chiscreen.screen.scoring import BlockScorer

    W, b = ens.head_params()
    sc = BlockScorer(W, b, ens.outputs, ens.encode_solvents(Xs), temps, p_all=False, mean_first=True)
    rows = np.sort(np.random.default_rng(1).choice(len(Xp), size=min(n, len(Xp)), replace=False))
    chi = sc.score(ens.encode_polymers(Xp[rows])).chi.numpy().ravel()
    return float(np.quantile(chi, keep))


def time_featurization(n: int, jobs: int, featurizer: str = "rdkit2d_periodic", representation: str = "periodic") -> dict:
    """Cold featurization of n real enumerated polymers and n catalog solvents (temp cache), with
    the shipped model's featurizer and representation by default."""
    import pandas as pd

    from chiscreen.features import featurize
    from chiscreen.paths import project_root
    from chiscreen.catalogs.enumerate import RULES, generate, read_blocks

    items = list(generate(read_blocks(), RULES))
    rng = np.random.default_rng(0)
    poly = [items[i][2] for i in rng.choice(len(items), size=min(n, len(items)), replace=False)]
    solv = pd.read_csv(project_root() / "catalogs" / "solvents.csv").smiles.tolist()[:n]
    cache = tempfile.mkdtemp(prefix="bench-featcache-")
    try:
        out = {}
        for kind, smi in (("polymer", poly), ("solvent", solv)):
            t = time.perf_counter()
            ft = featurize(smi, kind=kind, featurizer=featurizer, representation=representation, cache_root=cache,
                           n_jobs=jobs, progress=False)
            dt = time.perf_counter() - t
            out[kind] = {"n": len(smi), "seconds": round(dt, 2), "s_per_mol": dt / len(smi),
                         "failed": int(sum(s != "ok" for s in ft.status))}
        return out
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n-polymers", type=int, default=100_000)
    ap.add_argument("--n-solvents", type=int, default=1000)
    ap.add_argument("--members", type=int, default=10)
    ap.add_argument("--d", type=int, default=34)
    ap.add_argument("--features", type=int, default=217)
    ap.add_argument("--temperatures", default="298.15K", help="comma-separated (pairs = P x S x n_T)")
    ap.add_argument("--keep", type=float, default=0.01, help="fraction of pairs the query keeps")
    ap.add_argument("--shard-size", type=int, default=2000)
    ap.add_argument("--engines", default="plain,ray,ray_warm", help="plain, ray, ray_warm (needs ray before it)")
    ap.add_argument("--featurize-sample", type=int, default=100, help="molecules per kind for the featurization timing (0: skip)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--featurizer", default="rdkit2d_periodic", help="for the featurization timing (the shipped model's)")
    ap.add_argument("--representation", default="periodic", help="polymer representation for that timing")
    ap.add_argument("--out", default="runs/bench-screen")
    args = ap.parse_args(argv)

    from chiscreen.model import ChiEnsemble
    from chiscreen.screen import EngineConfig, QueryConfig, ScreenConfig, run_screen
    from chiscreen.screen.job import count_rows
    from chiscreen.screen.engine import close_warm_actors
    from chiscreen.screen.synthetic import synthetic_catalogs
    from chiscreen.units import parse_temperatures

    out = Path(args.out)
    temps = parse_temperatures(args.temperatures)
    n_pairs = args.n_polymers * args.n_solvents * len(temps)
    print(f"screen throughput: {args.n_polymers:,} polymers x {args.n_solvents:,} solvents x {len(temps)} T = "
          f"{n_pairs:,} pairs, {args.members}-member ensemble (d={args.d}), SYNTHETIC descriptors "
          f"({args.features} columns), untrained weights; {os.cpu_count()} CPUs, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads, OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY')}; device cpu (no GPU available)" if not torch.cuda.is_available()
          else "GPU present", flush=True)
    pol, sol, Xp, Xs = synthetic_catalogs(args.n_polymers, args.n_solvents, args.features, seed=0)
    ens = ChiEnsemble.random(args.features, args.features, n_members=args.members, d=args.d, seed=0)
    chi_max = calibrate_chi_max(ens, Xp, Xs, temps, args.keep)
    t = time.perf_counter()
    with torch.no_grad():
        ens.encode_polymers(Xp[:10_000])
    tower_s_per_1e4 = time.perf_counter() - t
    print(f"query: chi < {chi_max:.4f} (calibrated to keep ~{args.keep:.1%}); towers: {tower_s_per_1e4:.2f} s per "
          f"10^4 polymers (all members)", flush=True)
    results: dict[str, dict] = {}
    rss_before = rss_gb()
    load_start = os.getloadavg()[0]
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    for engine in engines:
        kind = "ray" if engine.startswith("ray") else engine
        cfg = ScreenConfig(temperatures=[f"{t}K" for t in temps], query=QueryConfig(chi_max=chi_max),
                           engine=EngineConfig(kind=kind, shard_size=args.shard_size,
                                               keep_warm=engine == "ray" and "ray_warm" in engines))
        dest = out / engine
        shutil.rmtree(dest, ignore_errors=True)
        t_init = 0.0
        if engine == "ray":
            from chiscreen.runtime import connect_ray

            t0 = time.perf_counter()
            connect_ray()
            t_init = time.perf_counter() - t0
        t0 = time.perf_counter()
        cpu0 = time.process_time()
        res = run_screen(cfg, out=str(dest), ensemble=ens, descriptors=(Xp, Xs), catalogs=(pol, sol), progress=False)
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0  # this process only (the plain engine's work; not Ray actors)
        if engine == "ray_warm":
            close_warm_actors()
        st = res.stats
        # CPU of the processes that worked: the driver, plus each actor process over this screen
        # (for fresh actors since their start: start-up included)
        worker_cpu = 0.0
        if kind == "ray":
            worker_cpu = sum(st.worker_cpu_total)
            if engine == "ray_warm" and "ray" in results:
                worker_cpu -= sum(results["ray"]["worker_cpu_total"])
        rows = count_rows(res.out)
        worker_rss = [b / 1024 ** 3 for b in st.peak_rss_bytes]
        peak = rss_gb() if engine == "plain" else current_rss_gb() + sum(worker_rss)
        results[engine] = {"pairs_per_s": st.pairs / st.seconds, "engine_seconds": st.seconds, "job_seconds": wall,
                           "startup_seconds": st.startup_seconds,
                           "ray_init_seconds": t_init, "rows_kept": rows, "kept_fraction": rows / n_pairs,
                           "workers": st.workers, "worker_peak_rss_gb": worker_rss, "peak_rss_gb": peak,
                           "tower_share": st.encode_seconds / st.worker_seconds if st.worker_seconds else float("nan"),
                           # pair step alone (GEMM head, ensemble stats, query, write), from worker time
                           "pair_step_pairs_per_s": st.pairs * st.workers / max(1e-9, st.worker_seconds - st.encode_seconds),
                           "driver_cpu_seconds": cpu, "worker_cpu_total": list(st.worker_cpu_total),
                           "cpu_seconds": cpu + worker_cpu, "shard_cpu_seconds": st.cpu_seconds}
        print(f"{engine:>5}: {st.pairs:,} pairs in {st.seconds:.2f} s = {st.pairs / st.seconds:.3g} pairs/s "
              f"({st.workers} worker(s)); job incl. setup {wall:.2f} s"
              + (f", ray.init {t_init:.1f} s, actor start {st.startup_seconds:.1f} s (included)" if kind == "ray" else "")
              + f"; {st.pairs / max(1e-9, cpu + worker_cpu):.3g} pairs per CPU-s ({cpu + worker_cpu:.1f} CPU-s"
              + (f" incl. actor start-up" if engine == "ray" else "") + f"), shards alone "
              f"{st.pairs / max(1e-9, st.cpu_seconds):.3g} pairs per CPU-s"
              + f"; kept {rows:,} rows ({rows / n_pairs:.2%}); peak RSS {peak:.2f} GB; polymer towers "
              f"{results[engine]['tower_share']:.0%} of worker time (pair step alone "
              f"{results[engine]['pair_step_pairs_per_s']:.3g} pairs/s over {st.workers} worker(s))", flush=True)
    feat = (time_featurization(args.featurize_sample, args.jobs, args.featurizer, args.representation)
            if args.featurize_sample else {})
    for kind, f in feat.items():
        print(f"featurization ({kind}, {args.featurizer}/{args.representation if kind == 'polymer' else 'molecule'}, "
              f"cold cache, {args.jobs} processes): {f['n']} molecules in {f['seconds']} s = "
              f"{f['s_per_mol'] * 1000:.1f} ms/molecule ({f['failed']} failed); separate from the screen timing",
              flush=True)
    summary = {"n_polymers": args.n_polymers, "n_solvents": args.n_solvents, "n_temperatures": len(temps),
               "n_pairs": n_pairs, "members": args.members, "descriptors": "synthetic", "device": "cpu",
               "cpus": os.cpu_count(), "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"), "tower_seconds_per_1e4_polymers": round(tower_s_per_1e4, 3)}
    for e, r in results.items():
        summary[f"{e}_pairs_per_s"] = round(r["pairs_per_s"])
        summary[f"{e}_seconds"] = round(r["engine_seconds"], 2)
        summary[f"{e}_startup_seconds"] = round(r["startup_seconds"], 2)
        # the same pairs over the engine time without worker start-up (Ray actors starting and
        # loading the ensemble); the headline figure above includes it
        summary[f"{e}_pairs_per_s_excl_startup"] = round(r["pairs_per_s"] * r["engine_seconds"]
                                                         / max(1e-9, r["engine_seconds"] - r["startup_seconds"]))
        summary[f"{e}_peak_rss_gb"] = round(r["peak_rss_gb"], 3)
        summary[f"{e}_kept_fraction"] = round(r["kept_fraction"], 5)
        summary[f"{e}_tower_share"] = round(r["tower_share"], 3)
        summary[f"{e}_pair_step_pairs_per_s"] = round(r["pair_step_pairs_per_s"])
        summary[f"{e}_pairs_per_cpu_s"] = round(n_pairs / max(1e-9, r["cpu_seconds"]))
        summary[f"{e}_shard_pairs_per_cpu_s"] = round(n_pairs / max(1e-9, r["shard_cpu_seconds"]))
        summary[f"{e}_workers"] = r["workers"]
        if e == "plain":  # load-independent: what the 2 cores would do if they were ours alone
            # pairs per CPU-second of the job x its threads (setup included)
            summary["plain_pairs_per_cpu_s_x_threads"] = round(n_pairs / max(1e-9, r["driver_cpu_seconds"])
                                                               * min(os.cpu_count() or 1, torch.get_num_threads()))
    if "plain" in results and "ray" in results:
        summary["ratio"] = round(results["ray"]["pairs_per_s"] / results["plain"]["pairs_per_s"], 3)
        summary["ratio_excl_startup"] = round(summary["ray_pairs_per_s_excl_startup"]
                                              / summary["plain_pairs_per_s_excl_startup"], 3)
        summary["same_rows"] = results["ray"]["rows_kept"] == results["plain"]["rows_kept"]
    if "plain" in results and "ray_warm" in results:
        summary["ratio_warm"] = round(results["ray_warm"]["pairs_per_s"] / results["plain"]["pairs_per_s"], 3)
    summary["peak_rss_gb"] = round(max(r["peak_rss_gb"] for r in results.values()), 3) if results else rss_before
    for kind, f in feat.items():
        summary[f"featurize_{kind}_ms_per_mol"] = round(f["s_per_mol"] * 1000, 2)
    summary["load_avg_1min_start"] = round(load_start, 1)
    summary["load_avg_1min"] = round(os.getloadavg()[0], 1)
    summary["out"] = str(out)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
