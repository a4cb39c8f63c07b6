"""Synthetic screening problems for tests and benchmarks (clearly labelled: not chemistry).

Catalog rows carry placeholder SMILES and identities (``synthetic-p17``); descriptors are
standard-normal float32 of the requested width, so an untrained ``ChiEnsemble.random`` can score
them. Use only where the engine, not the model, is under test.
"""
from __future__ import annotations

import numpy as np
import pandas as pd


def synthetic_catalogs(n_polymers: int, n_solvents: int, n_features: int = 64, seed: int = 0,
                       n_invalid: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, np.ndarray]:
    """(polymers, solvents, Xp, Xs): catalog DataFrames with the core columns and descriptors.

    ``n_invalid`` polymer rows (spread evenly) get status "invalid" and NaN descriptors, as a
    real catalog with bad rows would.
    """
    rng = np.random.default_rng(seed)
    pol = pd.DataFrame({
        "id": np.arange(n_polymers, dtype=np.int64),
        "name": [f"synthetic polymer {i}" for i in range(n_polymers)],
        "smiles": ["*CC*"] * n_polymers,
        "canonical": [f"synthetic-p{i}" for i in range(n_polymers)],
        "status": "ok", "reason": "",
    })
    sol = pd.DataFrame({
        "id": np.arange(n_solvents, dtype=np.int64),
        "name": [f"synthetic solvent {i}" for i in range(n_solvents)],
        "smiles": ["C"] * n_solvents,
        "canonical": [f"synthetic-s{i}" for i in range(n_solvents)],
        "status": "ok", "reason": "",
    })
    Xp = rng.standard_normal((n_polymers, n_features), dtype=np.float32)
    Xs = rng.standard_normal((n_solvents, n_features), dtype=np.float32)
    if n_invalid:
        bad = np.linspace(0, n_polymers - 1, n_invalid).astype(int)
        pol.loc[bad, "status"] = "invalid"
        pol.loc[bad, "reason"] = "synthetic invalid row"
        pol.loc[bad, "canonical"] = None
        Xp[bad] = np.nan
    return pol, sol, Xp, Xs


def write_synthetic_polymer_dataset(path: str, n_polymers: int, n_features: int = 64, rows_per_file: int = 100_000,
                                    seed: int = 0, progress: bool = False) -> int:
    """Write a SYNTHETIC polymer catalog of ``n_polymers`` rows as a Parquet dataset (one file
    per ``rows_per_file`` rows, written one chunk at a time: memory ~ one chunk).

    Columns: id (int64), canonical (string), status (string), x (fixed-size list of
    ``n_features`` float32: standard-normal descriptors, chunk c drawn with seed (seed, c)).
    Existing files of the same layout are kept (a rerun resumes). Returns the number of files.
    """
    import os

    import pyarrow as pa
    import pyarrow.parquet as pq
    from tqdm.auto import tqdm

    from chiscreen.io import atomic_path

    os.makedirs(path, exist_ok=True)
    n_files = (n_polymers + rows_per_file - 1) // rows_per_file
    for c in tqdm(range(n_files), desc="synthetic catalog", unit="file", disable=not progress):
        dest = os.path.join(path, f"part-{c:05d}.parquet")
        if os.path.exists(dest):
            continue
        p0, p1 = c * rows_per_file, min(n_polymers, (c + 1) * rows_per_file)
        X = np.random.default_rng((seed, c)).standard_normal((p1 - p0, n_features), dtype=np.float32)
        ids = np.arange(p0, p1, dtype=np.int64)
        t = pa.table({
            "id": ids,
            "canonical": pa.array([f"synthetic-p{i}" for i in ids]),
            "status": pa.array(["ok"] * (p1 - p0)),
            "x": pa.FixedSizeListArray.from_arrays(pa.array(X.ravel()), n_features),
        })
        with atomic_path(dest) as tmp:   # a killed writer leaves no partial part file
            pq.write_table(t, str(tmp), compression="none", row_group_size=min(rows_per_file, 50_000))
    return n_files


def iter_polymer_dataset(path: str, columns=("id", "x")):
    """Yield (file name, number of rows, loader) per file of a polymer Parquet dataset, in
    file order, reading only metadata up front; ``loader()`` -> (ids (n,) int64, X (n, F)
    float32) reads that one file (pyarrow.dataset: never the whole catalog in memory)."""
    import os

    import pyarrow.dataset as pds

    ds = pds.dataset(path, format="parquet")
    for frag in sorted(ds.get_fragments(), key=lambda f: f.path):
        n = frag.metadata.num_rows

        def load(frag=frag):
            t = frag.to_table(columns=list(columns))
            x = t.column("x").combine_chunks()
            F = x.type.list_size
            X = x.values.to_numpy(zero_copy_only=False).reshape(-1, F)
            return t.column("id").to_numpy(), np.ascontiguousarray(X, dtype=np.float32)

        yield os.path.basename(frag.path), n, load
