"""Featurization cost on the reference data: 46 polymers + 140 solvents, cold and warm.

    python bench/featurize_reference.py [--representation cyclic:10] [--n-jobs 2] [--timeout 20] [--out DIR]

Cold = a fresh, empty descriptor cache; warm = the same call again (cache hits). Also runs the
three para-linked aromatic polymers whose cyclic 10-mers hang or exhaust memory in RDKit, to show
the guard ends them. Last line: one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import pandas as pd

from chiscreen.data import load_experimental_chi
from chiscreen.features import featurize

AROMATIC = [
    "*Oc1ccc(Oc2ccc(OC(*)=O)cc2)cc1",
    "*Oc1ccc(cc1)C(C)(C)c1ccc(cc1)OC(=O)c1cccc(c1)C(*)=O",
    "*c1ccc(Oc2ccc(N3C(=O)c4cc5C(=O)N(*)C(=O)c5cc4C3=O)cc2)cc1",
]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--representation", default="cyclic:10")
    ap.add_argument("--n-jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=20.0)
    ap.add_argument("--mem-limit-mb", type=int, default=3000)
    ap.add_argument("--out", default=None, help="folder for the per-molecule status table")
    args = ap.parse_args()

    df = load_experimental_chi(canonicalize=False)
    polys = list(pd.unique(df.polymer_smiles))
    solvs = list(pd.unique(df.solvent_smiles))
    kw = dict(representation=args.representation, n_jobs=args.n_jobs, timeout_s=args.timeout,
              mem_limit_mb=args.mem_limit_mb, progress=False)
    with tempfile.TemporaryDirectory() as cache:
        t0 = time.perf_counter()
        fp = featurize(polys, "polymer", cache_root=cache, **kw)
        fs = featurize(solvs, "solvent", cache_root=cache, **kw)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        fp2 = featurize(polys, "polymer", cache_root=cache, **kw)
        fs2 = featurize(solvs, "solvent", cache_root=cache, **kw)
        warm = time.perf_counter() - t0
        assert fp2.n_computed == 0 and fs2.n_computed == 0
        t0 = time.perf_counter()
        fa = featurize(AROMATIC, "polymer", cache_root=cache, **kw)
        arom = time.perf_counter() - t0
    print(f"reference molecules: {len(polys)} polymers ({args.representation}) + {len(solvs)} solvents, "
          f"{args.n_jobs} workers")
    print(f"  cold {cold:.1f} s, warm {warm:.3f} s; polymer status {dict(Counter(fp.status))}, "
          f"solvent status {dict(Counter(fs.status))}")
    for s, st, why in zip(fp.inputs, fp.status, fp.reason):
        if st != "ok":
            print(f"  failed polymer {s}: {why}")
    print(f"aromatic polymers ({args.representation}, timeout {args.timeout:g} s): {arom:.1f} s in all")
    for s, st, why in zip(fa.inputs, fa.status, fa.reason):
        print(f"  {st:6s} {s} {why}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        pd.concat([fp.report(), fs.report(), fa.report()]).to_csv(out / "featurize_status.csv", index=False)
        print(f"wrote {out / 'featurize_status.csv'}")
    print(json.dumps({
        "representation": args.representation, "n_molecules": len(polys) + len(solvs),
        "cold_s": round(cold, 2), "warm_s": round(warm, 4),
        "polymers_ok": int(sum(s == "ok" for s in fp.status)), "solvents_ok": int(sum(s == "ok" for s in fs.status)),
        "aromatic_s": round(arom, 2), "aromatic_status": fa.status,
    }))


if __name__ == "__main__":
    main()
