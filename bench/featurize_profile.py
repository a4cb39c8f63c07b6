"""Where featurization time goes: per descriptor, per representation, and end-to-end throughput.

    python bench/featurize_profile.py [--n 300] [--catalog enumerated.parquet] [--throughput-n 0]
                                      [--n-jobs 2] [--no-big] [--skip-profile] [--throughput-only] [--out DIR]

The throughput figure alone (issue 13: >= 400 polymers/s on 2 cores), on a quiet machine:

    chiscreen catalog enumerate --output /tmp/enumerated.parquet   # or any enumerated catalog
    python bench/featurize_profile.py --catalog /tmp/enumerated.parquet --throughput-only

1. Sample: ``--n`` polymers drawn (seed 0) from the enumerated catalog (``--catalog``, the output
   of ``chiscreen catalog enumerate``; without it the combinations of catalogs/building_blocks are
   generated here and the sample canonicalized), plus the reference polymers (46 chi + PolySol).
2. Per-descriptor CPU time (``time.process_time``, in this process, one core) of ``rdkit2d``
   (RDKit's descList) on the representations ``unit``, ``cyclic:3`` and ``periodic``, and the cost
   of building each molecule; the 147-heavy-atom aromatic polyamide trimer of issue 13 separately
   (``--no-big`` skips it: ~1 min). Then the parts of ``rdkit2d_periodic`` (v1) and
   ``rdkit2d_periodic_fast`` (the same numbers from shared intermediates).
3. Agreement: per-unit descriptors of ``rdkit2d_periodic``/``periodic`` against ``rdkit2d``/
   ``cyclic:3`` divided by 3 (Pearson r per descriptor over the sample); ``rdkit2d_periodic_fast``
   against ``rdkit2d_periodic`` v1 (molecules whose float32 vectors are not bit-identical).
4. Throughput: ``featurize()`` exactly as a screen calls it (guarded workers, ``assume_canonical``,
   an empty descriptor cache in a temp folder) for ``rdkit2d_periodic_fast`` and
   ``rdkit2d_periodic`` on ``--throughput-n`` catalog polymers (0 = the whole catalog), and (not
   with ``--throughput-only``) ``rdkit2d``/``cyclic:3`` on the first 200 of them: wall time,
   polymers/s, worker CPU seconds (children's rusage, worker start-up included), the driver's CPU
   seconds, load average and failures with their reasons. On a shared machine wall time also
   measures the other jobs; the CPU figure gives what 2 free cores would do
   (``cpu_polymers_per_s_2cores``; ``all_in_polymers_per_s_2cores`` counts the driver too).

Last line: one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import resource
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import rdBase
from rdkit.Chem import Descriptors

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chiscreen.features import featurize, get_featurizer  # noqa: E402
from chiscreen.features.representation import molecule_for  # noqa: E402

BIG = "*C(=O)Nc1ccc(Oc2ccc(C(C)(C)c3ccc(Oc4ccc(NC(=O)c5ccc(C(=O)c6ccc(*)cc6)cc5)cc4)cc3)cc2)cc1"


def catalog_polymers(path: str | None) -> list[str]:
    """Canonical repeat units of the enumerated catalog (file, or generated + canonicalized here)."""
    if path:
        df = pd.read_parquet(path) if str(path).endswith(".parquet") else pd.read_csv(path)
        return df.loc[df["status"] == "ok", "canonical"].tolist()
    try:
        from chiscreen.catalogs.enumerate import generate, read_blocks  # after the schema move
    except ImportError:
        from chiscreen.screen.enumerate import generate, read_blocks
    return [s for _, _, s in generate(read_blocks())]


def reference_polymers() -> list[str]:
    from chiscreen.data import load_experimental_chi
    from chiscreen.data.polysol import load_solubility_labels

    return sorted(set(load_experimental_chi()["polymer_key"]) | set(load_solubility_labels()["polymer_key"]))


def canon(units: list[str]) -> list[str]:
    from chiscreen.chem import RepeatUnit

    out = []
    for u in units:
        try:
            out.append(RepeatUnit.from_smiles(u).canonical)
        except Exception:
            pass
    return out


def descriptor_times(m) -> dict[str, float]:
    """CPU seconds of each RDKit 2D descriptor on one molecule (a descriptor that raises still counts)."""
    per = {}
    with rdBase.BlockLogs():
        for n, f in Descriptors.descList:
            t = time.process_time()
            try:
                f(m)
            except Exception:
                pass
            per[n] = time.process_time() - t
    return per


def profile_rdkit2d(units: list[str], rep: str) -> dict:
    """CPU ms per molecule: build and every descList function (mean over ``units``)."""
    acc: dict[str, float] = defaultdict(float)
    build = []
    atoms = []
    for u in units:
        t = time.process_time()
        m = molecule_for("polymer", u, rep)
        build.append(time.process_time() - t)
        atoms.append(m.GetNumAtoms())
        for k, v in descriptor_times(m).items():
            acc[k] += v
    n = len(units)
    per = {k: 1e3 * v / n for k, v in acc.items()}
    top = sorted(per.items(), key=lambda kv: -kv[1])
    return {"n": n, "heavy_atoms_median": float(np.median(atoms)), "build_ms": 1e3 * float(np.mean(build)),
            "descriptors_ms": float(sum(per.values())), "fr_ms": float(sum(v for k, v in per.items() if k.startswith("fr_"))),
            "top": [(k, round(v, 4)) for k, v in top[:15]]}


def profile_big() -> dict:
    """rdkit2d on the 147-heavy-atom aromatic polyamide: cyclic:3 (seconds) vs periodic."""
    from chiscreen.chem import RepeatUnit

    u = RepeatUnit.from_smiles(BIG).canonical
    res = {}
    for rep in ("cyclic:3", "periodic"):
        t = time.process_time()
        m = molecule_for("polymer", u, rep)
        b = time.process_time() - t
        rings = m.GetRingInfo().NumRings()  # before descriptors: some re-perceive rings (plain SSSR)
        per = descriptor_times(m)
        top = sorted(per.items(), key=lambda kv: -kv[1])[:8]
        res[rep] = {"atoms": m.GetNumAtoms(), "rings": rings, "build_s": round(b, 3),
                    "descriptors_s": round(sum(per.values()), 3), "top_s": [(k, round(v, 3)) for k, v in top]}
        print(f"  big polymer {rep}: {res[rep]}", flush=True)
    for name in ("rdkit2d_periodic", "rdkit2d_periodic_fast"):
        fz = get_featurizer(name)
        t = time.process_time()
        fz(molecule_for("polymer", u, "periodic"))
        res[f"{name}_s"] = round(time.process_time() - t, 4)
    return res


PARTS = {"rdkit2d_periodic": ("_atoms_part", "_rings_part", "_morgan_part", "_stereo_part", "_frag_part"),
         "rdkit2d_periodic_fast": ("_atoms_fast", "_rings_fast", "_morgan_fast", "_stereo_fast", "_frag_fast")}


def profile_fast(units: list[str], name: str = "rdkit2d_periodic") -> dict:
    """CPU ms per molecule of the parts of rdkit2d_periodic (or _fast) on the periodic representation
    (each part on its own: parts that share state in the whole call, like the _fast graph part, are
    counted in "whole_call" only)."""
    fz = get_featurizer(name)
    mols = []
    t = time.process_time()
    for u in units:
        mols.append(molecule_for("polymer", u, "periodic"))
    parts = {"build": time.process_time() - t}
    for name in PARTS[fz.name]:
        fn = getattr(fz, name)
        t = time.process_time()
        for m in mols:
            fn(m, np.full(len(fz), np.nan))
        parts[name.strip("_")] = time.process_time() - t
    rest: dict[str, float] = defaultdict(float)
    for m in mols:
        for _i, n, f in fz._funcs:
            t = time.process_time()
            f(m)
            rest[n] += time.process_time() - t
    parts["other_descriptors"] = sum(rest.values())
    t = time.process_time()
    for m in mols:
        fz(m)
    parts["whole_call"] = time.process_time() - t
    n = len(units)
    return {"ms": {k: round(1e3 * v / n, 4) for k, v in parts.items()},
            "top_other": [(k, round(1e3 * v / n, 4)) for k, v in sorted(rest.items(), key=lambda kv: -kv[1])[:10]]}


def agreement_fast(units: list[str]) -> dict:
    """rdkit2d_periodic_fast against rdkit2d_periodic v1 on ``units`` (periodic): molecules and
    descriptors whose float32 values are not bit-identical (NaN = NaN), largest relative difference."""
    from rdkit import Chem

    v1, fast = get_featurizer("rdkit2d_periodic"), get_featurizer("rdkit2d_periodic_fast")
    rows, cols = 0, Counter()
    worst = 0.0
    for u in units:
        m = molecule_for("polymer", u, "periodic")
        a, b = v1(Chem.Mol(m)), fast(Chem.Mol(m))
        same = (a == b) | (np.isnan(a) & np.isnan(b))
        if not same.all():
            rows += 1
            for j in np.flatnonzero(~same):
                cols[v1.feature_names[j]] += 1
                if np.isfinite(a[j]) and np.isfinite(b[j]):
                    worst = max(worst, float(abs(a[j] - b[j]) / max(abs(a[j]), 1e-12)))
                else:
                    worst = float("inf")
    return {"n": len(units), "rows_not_identical": rows, "descriptors_not_identical": dict(cols),
            "max_rel_diff": worst}


def agreement(units: list[str]) -> dict:
    """Pearson r per descriptor: rdkit2d_periodic (periodic) vs rdkit2d (cyclic:3) / 3."""
    fast, slow = get_featurizer("rdkit2d_periodic"), get_featurizer("rdkit2d")
    A, B = [], []
    for u in units:
        A.append(fast(molecule_for("polymer", u, "periodic")))
        B.append(slow(molecule_for("polymer", u, "cyclic:3")))
    A, B = np.array(A, float), np.array(B, float)
    jb = {n: j for j, n in enumerate(slow.feature_names)}
    r = {}
    for j, n in enumerate(fast.feature_names):
        a, b = A[:, j], B[:, jb[n]]
        ok = np.isfinite(a) & np.isfinite(b)
        if ok.sum() > 3 and a[ok].std() > 0 and b[ok].std() > 0:
            r[n] = float(np.corrcoef(a[ok], b[ok])[0, 1])
    vals = np.array(list(r.values()))
    worst = sorted(r.items(), key=lambda kv: kv[1])[:12]
    return {"n_descriptors": len(r), "r_ge_0.99": int((vals >= 0.99).sum()), "r_ge_0.9": int((vals >= 0.9).sum()),
            "median_r": float(np.median(vals)), "worst": [(k, round(v, 3)) for k, v in worst]}


def throughput(units: list[str], featurizer: str, rep: str, n_jobs: int) -> dict:
    with tempfile.TemporaryDirectory() as cache:
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        s0 = resource.getrusage(resource.RUSAGE_SELF)
        t = time.perf_counter()
        ft = featurize(units, kind="polymer", featurizer=featurizer, representation=rep, cache_root=cache,
                       n_jobs=n_jobs, progress=False, assume_canonical=True)
        wall = time.perf_counter() - t
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        s1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    drv = (s1.ru_utime - s0.ru_utime) + (s1.ru_stime - s0.ru_stime)
    fails = [(s, why) for s, st, why in zip(ft.inputs, ft.status, ft.reason) if st != "ok"]
    res = {"featurizer": featurizer, "representation": rep, "n": len(units), "n_jobs": n_jobs, "wall_s": round(wall, 2),
           "polymers_per_s": round(len(units) / wall, 1), "worker_cpu_s": round(cpu, 2),
           "cpu_ms_per_polymer": round(1e3 * cpu / len(units), 3),
           "cpu_polymers_per_s_2cores": round(2 * len(units) / cpu, 1) if cpu > 0 else None,
           # worker start-up included; the driver (dispatch, cache writes) shares the same 2 cores
           "driver_cpu_s": round(drv, 2), "all_in_cpu_ms_per_polymer": round(1e3 * (cpu + drv) / len(units), 3),
           "all_in_polymers_per_s_2cores": round(2 * len(units) / (cpu + drv), 1) if cpu + drv > 0 else None,
           "load_avg_1min": round(os.getloadavg()[0], 2),
           "failed": len(fails), "failures": fails[:20], "failure_reasons": dict(Counter(w.split(":")[0] for _, w in fails))}
    print(f"  throughput {featurizer}/{rep}: {res}", flush=True)
    return res


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300, help="catalog polymers in the per-descriptor sample")
    ap.add_argument("--catalog", default=None, help="enumerated catalog (Parquet/CSV with a canonical column)")
    ap.add_argument("--throughput-n", type=int, default=0, help="catalog polymers for the throughput run (0: all)")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--no-big", action="store_true", help="skip the 147-atom aromatic polyamide (~1 min)")
    ap.add_argument("--skip-profile", action="store_true", help="no per-descriptor profile (throughput, agreement)")
    ap.add_argument("--throughput-only", action="store_true",
                    help="only the screen-path throughput of rdkit2d_periodic_fast and rdkit2d_periodic (v1)")
    ap.add_argument("--out", default=None, help="folder for featurize_profile.json")
    a = ap.parse_args(argv)

    cat = catalog_polymers(a.catalog)
    rng = random.Random(0)
    sample = rng.sample(cat, min(a.n, len(cat)))
    if not a.catalog:
        sample = canon(sample)
    refs = reference_polymers()
    print(f"catalog: {len(cat)} polymers; sample {len(sample)} + {len(refs)} reference polymers", flush=True)
    res: dict = {"n_catalog": len(cat), "n_sample": len(sample), "n_reference": len(refs)}
    if not (a.skip_profile or a.throughput_only):
        for rep in ("unit", "periodic", "cyclic:3"):
            for name, units in (("catalog", sample), ("reference", refs)):
                p = profile_rdkit2d(units, rep)
                res[f"rdkit2d/{rep}/{name}"] = p
                print(f"  rdkit2d {rep:9s} {name:9s}: build {p['build_ms']:.2f} ms + descriptors {p['descriptors_ms']:.2f} ms "
                      f"(median {p['heavy_atoms_median']:.0f} atoms); top {p['top'][:8]}", flush=True)
        for fzname in PARTS:
            for name, units in (("catalog", sample), ("reference", refs)):
                res[f"{fzname}/periodic/{name}"] = p = profile_fast(units, fzname)
                print(f"  {fzname} parts ({name}): {p}", flush=True)
        res["agreement_vs_cyclic3"] = agreement(sample + refs)
        print(f"  agreement with rdkit2d/cyclic:3 / 3: {res['agreement_vs_cyclic3']}", flush=True)
        if not a.no_big:
            res["big"] = profile_big()
    if not a.throughput_only:
        res["agreement_fast_vs_v1"] = agreement_fast(sample + refs)
        print(f"  rdkit2d_periodic_fast vs rdkit2d_periodic v1: {res['agreement_fast_vs_v1']}", flush=True)
    tp_units = cat if a.throughput_n <= 0 else cat[: a.throughput_n]
    if not a.catalog:
        tp_units = canon(tp_units)
    res["throughput_new"] = throughput(tp_units, "rdkit2d_periodic_fast", "periodic", a.n_jobs)
    res["throughput_v1"] = throughput(tp_units, "rdkit2d_periodic", "periodic", a.n_jobs)
    keys = ["throughput_new", "throughput_v1"]
    if not a.throughput_only:
        res["throughput_old"] = throughput(tp_units[:200], "rdkit2d", "cyclic:3", a.n_jobs)
        res["throughput_reference_new"] = throughput(refs, "rdkit2d_periodic_fast", "periodic", a.n_jobs)
        keys += ["throughput_old", "throughput_reference_new"]
    for k in ("throughput_new", "throughput_v1"):
        r = res[k]
        print(f"{r['featurizer']}/{r['representation']} on {r['n']} catalog polymers, {r['n_jobs']} guarded workers: "
              f"{r['cpu_ms_per_polymer']:.2f} ms CPU per polymer in the workers -> {r['cpu_polymers_per_s_2cores']:.0f} "
              f"polymers/s on 2 cores ({r['all_in_polymers_per_s_2cores']:.0f}/s with the driver's CPU); wall "
              f"{r['wall_s']:.1f} s = {r['polymers_per_s']:.0f} polymers/s at load {r['load_avg_1min']}; "
              f"failed {r['failed']}", flush=True)
    if a.out:
        out = Path(a.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "featurize_profile.json").write_text(json.dumps(res, indent=1))
        print(f"wrote {out / 'featurize_profile.json'}")
    summary = {k: res[k] for k in ("n_catalog", "n_sample")}
    for k in keys:
        summary[k] = {kk: v for kk, v in res[k].items() if kk != "failures"}
    if "agreement_fast_vs_v1" in res:
        summary["fast_vs_v1_rows_not_identical"] = res["agreement_fast_vs_v1"]["rows_not_identical"]
        summary["fast_vs_v1_n"] = res["agreement_fast_vs_v1"]["n"]
    if "agreement_vs_cyclic3" in res:
        summary["agreement_r_ge_0.99"] = res["agreement_vs_cyclic3"]["r_ge_0.99"]
        summary["agreement_n"] = res["agreement_vs_cyclic3"]["n_descriptors"]
        for rep in ("unit", "periodic", "cyclic:3"):
            p = res[f"rdkit2d/{rep}/catalog"]
            summary[f"rdkit2d_{rep}_ms"] = round(p["build_ms"] + p["descriptors_ms"], 3)
        for fzname in PARTS:
            ms = res[f"{fzname}/periodic/catalog"]["ms"]
            summary[f"{fzname}_ms"] = round(ms["whole_call"] + ms["build"], 3)
    if "big" in res:
        summary["big_cyclic3_s"] = res["big"]["cyclic:3"]["build_s"] + res["big"]["cyclic:3"]["descriptors_s"]
        summary["big_rdkit2d_periodic_s"] = res["big"]["rdkit2d_periodic_s"]
        summary["big_rdkit2d_periodic_fast_s"] = res["big"]["rdkit2d_periodic_fast_s"]
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
