"""Driver memory of a screen's catalog path at 1e4 vs 1e6 polymers (issue 13 item 4).

The catalogs: a built polymer catalog written as a Parquet dataset (a folder of part files, never
one frame): the enumerated catalog's repeat units (``chiscreen catalog enumerate``), each repeated
as ``--variants`` tacticity grades ("grade-000", ...: rows with one identity, status ok), units in
catalog order, grades of one unit adjacent. So the 1e6-row catalog holds ~1e4 distinct
identities, all in the descriptor cache once the enumerated screen has run; the 1e4-row catalog
is its first 1e4 rows.

Each measurement runs in a fresh process (peak RSS = that process's VmHWM; its RSS after the
imports is reported beside it):

- ``plan``: what the driver does before the first shard: open the dataset, validate and plan in
  record batches (compact table: ids, ok, identity), locate every row in the descriptor cache
  (positions, not values), the manifest hash of the scored rows, and polymers.parquet written
  batch by batch.
- ``screen``: a real screen (``run_screen``, plain engine, driver featurization from the cache) of
  the catalog x every shipped solvent at 25 C, top 3 solvents per polymer.
- ``frame`` (reference): the same dataset read as one pandas frame, what the driver did before.

    python bench/catalog_stream.py                       # 1e4 and 1e6, plan + frame + screen
    python bench/catalog_stream.py --screen-rows 10000   # real screen only on the 1e4 catalog

Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _hwm_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB (Linux)."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out.get("VmRSS", float("nan")), out.get("VmHWM", float("nan"))


def write_dataset(units: Path, out: Path, n_rows: int, variants: int, part_rows: int = 100_000) -> dict:
    """The catalog folder: ``n_rows`` rows, part files of ``part_rows``; arrays built per part."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    from chiscreen.runtime import table_metadata, with_metadata

    u = pq.read_table(units, columns=["name", "smiles", "canonical", "status"])
    u = u.filter(pc.equal(u.column("status"), "ok"))
    need = (n_rows + variants - 1) // variants
    if need > u.num_rows:
        raise SystemExit(f"{units}: {u.num_rows} ok units, need {need} for {n_rows} rows x {variants} variants")
    out.mkdir(parents=True, exist_ok=True)
    meta = table_metadata(None, writer="catalog", kind="polymer")
    for k, s in enumerate(range(0, n_rows, part_rows)):
        i = np.arange(s, min(n_rows, s + part_rows), dtype=np.int64)
        unit, v = i // variants, i % variants
        t = u.take(pa.array(unit))
        grade = [f"grade-{x:03d}" for x in v]
        tab = pa.table({
            "id": pa.array(i), "name": pc.binary_join_element_wise(t.column("name").cast(pa.string()), pa.array(grade), " "),
            "smiles": t.column("smiles"), "canonical": t.column("canonical"),
            "status": pa.array(["ok"] * len(i)), "reason": pa.array([""] * len(i)),
            "tacticity": pa.array(grade),
        })
        pq.write_table(with_metadata(tab, meta), out / f"part-{k:04d}.parquet", row_group_size=65536)
    return {"rows": n_rows, "identities": int(need), "variants": variants,
            "bytes": sum(p.stat().st_size for p in out.glob("*.parquet"))}


def child_plan(path: str, work: str) -> dict:
    import numpy as np

    from chiscreen.catalogs.catalog import open_catalog
    from chiscreen.features import get_featurizer
    from chiscreen.features.cache import DescriptorCache
    from chiscreen.model import load_ensemble
    from chiscreen.screen.featurize import PolymerRows
    from chiscreen.screen.job import _hash_polymers, _polymer_tables
    from chiscreen.screen.sinks import OutputDir

    ens = load_ensemble(None)
    rss0, _ = _hwm_mb()
    c0, t0 = time.process_time(), time.perf_counter()
    src, rep = open_catalog(path, "polymer")
    rows = PolymerRows(src)
    t_plan = time.perf_counter() - t0
    fz = get_featurizer(ens.featurizer)
    ix = DescriptorCache(fz.name, fz.version, ens.polymer_representation).locate(rows.canonical)
    t_index = time.perf_counter() - t0 - t_plan
    pi = np.flatnonzero(rows.ok & (ix.part >= 0) & ix.ok)
    h = _hash_polymers(rows, pi)
    t1 = time.perf_counter()
    OutputDir(work).write_parquet_tables(_polymer_tables(rows), "polymers.parquet")
    t_write = time.perf_counter() - t1
    _, hwm = _hwm_mb()
    return {"rows": len(rows), "ok": rep.n_ok, "cached_rows": int(len(pi)), "hash": h,
            "seconds_read_validate_plan": round(t_plan, 2), "seconds_cache_index": round(t_index, 2),
            "seconds_write_polymers": round(t_write, 2), "seconds_total": round(time.perf_counter() - t0, 2),
            "cpu_seconds": round(time.process_time() - c0, 2), "rss_after_imports_mb": round(rss0, 1),
            "peak_rss_mb": round(hwm, 1)}


def child_frame(path: str) -> dict:
    import pyarrow.dataset as ds

    rss0, _ = _hwm_mb()
    t0 = time.perf_counter()
    df = ds.dataset(path, format="parquet").to_table().to_pandas()
    _, hwm = _hwm_mb()
    return {"rows": len(df), "seconds": round(time.perf_counter() - t0, 2), "rss_after_imports_mb": round(rss0, 1),
            "peak_rss_mb": round(hwm, 1)}


def child_screen(path: str, work: str) -> dict:
    from chiscreen.model import load_ensemble
    from chiscreen.screen import ScreenConfig, run_screen
    from chiscreen.screen.engine import EngineConfig
    from chiscreen.screen.job import FeaturizeOptions
    from chiscreen.screen.queries import QueryConfig

    ens = load_ensemble(None)
    rss0, _ = _hwm_mb()
    cfg = ScreenConfig(polymers=path, solvents=str(ROOT / "catalogs" / "solvents.csv"), temperatures=["25C"],
                       query=QueryConfig(top_k_per_polymer=3),
                       engine=EngineConfig(kind="plain", shard_size=5000, threads=1),
                       featurize=FeaturizeOptions(where="driver", n_jobs=1))
    c0, t0 = time.process_time(), time.perf_counter()
    res = run_screen(cfg, out=work, ensemble=ens, progress=False)
    _, hwm = _hwm_mb()
    s = res.summary
    return {"rows": s["polymers"]["rows"], "scored": s["polymers"]["scored"], "pairs": s["pairs_total"],
            "rows_in_pairs": s["rows_in_pairs"], "shards": res.manifest.n_shards,
            "featurization": {k: s["featurization"][k] for k in ("computed", "from_cache", "failed")},
            "seconds": round(time.perf_counter() - t0, 2), "cpu_seconds": round(time.process_time() - c0, 2),
            "seconds_scoring": round(res.stats.seconds, 2), "rss_after_imports_mb": round(rss0, 1),
            "peak_rss_mb": round(hwm, 1)}


def _run_child(mode: str, path: Path, work: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    r = subprocess.run([sys.executable, __file__, "--child", mode, str(path), str(work)], env=env,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"{mode} {path} failed:\n{r.stderr[-3000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        mode, path, work = sys.argv[2:5]
        out = {"plan": lambda: child_plan(path, work), "frame": lambda: child_frame(path),
               "screen": lambda: child_screen(path, work)}[mode]()
        print(json.dumps(out))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--units", default=str(ROOT / "runs" / "catalogs" / "enumerated.parquet"),
                    help="built catalog whose ok repeat units are repeated (chiscreen catalog enumerate --output)")
    ap.add_argument("--sizes", default="10000,1000000")
    ap.add_argument("--variants", type=int, default=97, help="tacticity grades per unit (1e6 / 97 ~ 1.03e4 units)")
    ap.add_argument("--screen-rows", default="10000,1000000", help="sizes that also get a real screen ('' none)")
    ap.add_argument("--work", default=None, help="folder for the catalogs and outputs (default: a temp folder)")
    args = ap.parse_args()
    sizes = [int(float(x)) for x in args.sizes.split(",") if x]
    screen = {int(float(x)) for x in args.screen_rows.split(",") if x}
    base = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="catalog-stream-"))
    res: dict = {"bench": "catalog_stream", "load_avg": os.getloadavg()[0], "catalogs": {}, "plan": {}, "frame": {},
                 "screen": {}}
    for n in sizes:
        d = base / f"catalog-{n}"
        if not d.exists():
            t0 = time.perf_counter()
            res["catalogs"][n] = write_dataset(Path(args.units), d, n, args.variants)
            res["catalogs"][n]["seconds_write"] = round(time.perf_counter() - t0, 2)
        for mode in ("plan", "frame") + (("screen",) if n in screen else ()):
            r = _run_child(mode, d, base / f"out-{mode}-{n}")
            res[mode][n] = r
            print(f"{mode:6s} {n:>9,} rows: " + ", ".join(f"{k} {v}" for k, v in r.items() if k != "hash"), flush=True)
    if len(sizes) >= 2:
        lo, hi = min(sizes), max(sizes)
        for mode in ("plan", "frame", "screen"):
            if lo in res[mode] and hi in res[mode]:
                a, b = res[mode][lo], res[mode][hi]
                res[f"{mode}_peak_rss_growth_mb"] = round(b["peak_rss_mb"] - a["peak_rss_mb"], 1)
                res[f"{mode}_peak_rss_growth_above_imports_ratio"] = round(
                    (b["peak_rss_mb"] - b["rss_after_imports_mb"]) / max(1.0, a["peak_rss_mb"] - a["rss_after_imports_mb"]), 2)
        res["rows_ratio"] = hi / lo
    res["load_avg_end"] = os.getloadavg()[0]
    res["work"] = str(base)
    print(json.dumps(res))


if __name__ == "__main__":
    main()
