"""``chiscreen featurize``: descriptors for polymers and solvents, cached.

Without input it featurizes the reference data's 46 polymers and 140 solvents (a demo and a
cache warm-up); with ``--input`` a pair table or a one-column SMILES list.
"""
from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from chiscreen.cli.validate import positive_float, positive_int, worker_count
from chiscreen.errors import InvalidInputError
from chiscreen.features import FEATURIZERS, DEFAULT_POLYMER_REPRESENTATION, featurize
from chiscreen.features.cache import DescriptorCache


def register(sub) -> None:
    p = sub.add_parser("featurize", help="compute (and cache) descriptors; default: the reference data's molecules")
    p.add_argument("--input", help="CSV/Parquet with polymer_smiles and/or solvent_smiles (default: reference data)")
    p.add_argument("--featurizer", default="rdkit2d", choices=FEATURIZERS.keys())
    p.add_argument("--representation", default=DEFAULT_POLYMER_REPRESENTATION,
                   help="polymer representation: cyclic:N, linear:N:H, linear:N:CH3, unit or periodic "
                        "(the shipped model's, with --featurizer rdkit2d_periodic; default %(default)s)")
    p.add_argument("--n-jobs", type=worker_count, default=2, help="worker processes (default %(default)s)")
    p.add_argument("--timeout", type=positive_float, default=30.0, help="seconds per molecule before it is recorded as failed")
    p.add_argument("--cache", default=None, help="descriptor cache folder (default $CHISCREEN_CACHE/descriptors)")
    p.add_argument("--out", default=None, help="write features and per-molecule status as Parquet into this folder")
    p.add_argument("--overwrite", action="store_true",
                   help="write --out into a non-empty folder chiscreen does not own (its other files are kept)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def _check_representation(rep: str) -> None:
    """cyclic:N, linear:N:H, linear:N:CH3 or unit, checked before any molecule is featurized."""
    from chiscreen.features import parse_representation

    try:
        parse_representation(rep)
    except InvalidInputError as exc:
        raise InvalidInputError(f"--representation: {exc}") from None


#: files ``featurize --out`` writes
FEATURIZE_FILES = ["polymer_features.parquet", "solvent_features.parquet"]


def _inputs(path: str | None) -> tuple[list[str], list[str], str]:
    if path is None:
        from chiscreen.data import load_experimental_chi

        df = load_experimental_chi(canonicalize=False)
        return list(pd.unique(df.polymer_smiles)), list(pd.unique(df.solvent_smiles)), "reference data (mtl_chi)"
    from chiscreen.data import read_table

    from chiscreen.cli.validate import TABLE_SUFFIXES, input_file

    input_file(path, "--input", TABLE_SUFFIXES)
    df = read_table(path)
    if len(df) == 0:
        raise InvalidInputError(f"--input {path}: the table has no rows")
    if "polymer_smiles" not in df and "solvent_smiles" not in df:
        raise InvalidInputError(f"{path}: expected a column polymer_smiles and/or solvent_smiles, got {list(df.columns)}")
    polys = list(pd.unique(df["polymer_smiles"].astype(str))) if "polymer_smiles" in df else []
    solvs = list(pd.unique(df["solvent_smiles"].astype(str))) if "solvent_smiles" in df else []
    return polys, solvs, str(path)


def run(args) -> int:
    _check_representation(args.representation)
    owned = None
    if args.out:  # checked and locked before any work
        from chiscreen.runtime import OwnedDir

        owned = OwnedDir(args.out, "featurize", FEATURIZE_FILES, overwrite=args.overwrite).open()
    try:
        return _run(args, owned)
    finally:
        if owned is not None:
            owned.release()


def _run(args, owned) -> int:
    polys, solvs, source = _inputs(args.input)
    print(f"featurizing {len(polys)} polymers ({args.representation}) and {len(solvs)} solvents from {source} "
          f"with {args.featurizer}, {args.n_jobs} workers")
    results = {}
    for kind, smiles in (("polymer", polys), ("solvent", solvs)):
        if not smiles:
            continue
        t0 = time.perf_counter()
        ft = featurize(smiles, kind=kind, featurizer=args.featurizer, representation=args.representation,
                       cache_root=args.cache, n_jobs=args.n_jobs, timeout_s=args.timeout,
                       progress=not args.no_progress)
        dt = time.perf_counter() - t0
        counts = pd.Series(ft.status).value_counts().to_dict()
        print(f"  {kind}s: {len(ft)} in {dt:.2f} s ({ft.n_computed} computed, {len(ft) - ft.n_computed} from cache); "
              + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        for s, st, why in zip(ft.inputs, ft.status, ft.reason):
            if st != "ok":
                print(f"    {st}: {s}: {why}")
        results[kind] = ft
    rep = args.representation
    cache = DescriptorCache(args.featurizer, FEATURIZERS[args.featurizer].version, rep, root=args.cache)
    print(f"descriptor cache: {cache.path.parent}")
    if owned is not None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from chiscreen.io import atomic_path
        from chiscreen.runtime import table_metadata, with_metadata

        out = Path(owned.root)
        for kind, ft in results.items():
            df = ft.report()
            feats = pd.DataFrame(ft.X, columns=ft.feature_names)
            path = out / f"{kind}_features.parquet"
            meta = table_metadata(None, writer="featurize", featurizer=ft.featurizer, featurizer_version=str(ft.version),
                                  representation=ft.representation)
            with atomic_path(path) as tmp:
                pq.write_table(with_metadata(pa.Table.from_pandas(pd.concat([df, feats], axis=1),
                                                                  preserve_index=False), meta), tmp)
            print(f"wrote {path}")
        owned.write_manifest({"source": source, "featurizer": args.featurizer, "representation": rep})
    return 0
