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
