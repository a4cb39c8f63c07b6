"""Loaders for the reference data of Aoki et al. (Macromolecules 2023) in ``mtl_chi/``.

``data_Chi.csv``: experimental chi. ``ps_pair_nonCyclic`` = repeat unit + '_' + solvent;
``temp`` is Celsius (converted to Kelvin here). ``data_COSMO.csv``: COSMO-RS chi, joined through
``ps_pair`` (the cyclic 10-mer pair); its own ``ps_pair_nonCyclic``, ``polymer_class`` and index
are unreliable and ignored (see the data README).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from chiscreen.chem import canonical_key
from chiscreen.data.locator import data_file
from chiscreen.errors import InvalidInputError
from chiscreen.schema import CHI, PAIR_COLUMNS, POLYMER_KEY, POLYMER_SMILES, SOLVENT_KEY, SOLVENT_SMILES, TEMPERATURE_K
from chiscreen.units import ZERO_C

PAIR_COLUMNS = list(PAIR_COLUMNS)


def _split_pair(pairs: pd.Series) -> tuple[pd.Series, pd.Series]:
    parts = pairs.str.split("_", n=1, expand=True)
    return parts[0], parts[1]


def load_experimental_chi(path: str | Path | None = None, canonicalize: bool = True) -> pd.DataFrame:
    """Experimental chi (1190 rows).

    Columns: row (original CSV index), polymer_smiles (repeat unit as given), solvent_smiles,
    polymer_key / solvent_key (canonical identities), temperature_K, chi, polymer_class, ps_pair.
    """
    path = Path(path) if path else data_file("mtl_chi/data_Chi.csv")
    raw = pd.read_csv(path, index_col=0)
    for col in ("ps_pair", "ps_pair_nonCyclic", "temp", "chi"):
        if col not in raw.columns:
            raise InvalidInputError(f"{path}: column {col!r} missing; expected the mtl_chi data_Chi.csv format")
    poly, solv = _split_pair(raw["ps_pair_nonCyclic"])
    df = pd.DataFrame(
        {
            "row": raw.index.to_numpy(),
            POLYMER_SMILES: poly.to_numpy(),
            SOLVENT_SMILES: solv.to_numpy(),
            TEMPERATURE_K: raw["temp"].to_numpy(dtype=float) + ZERO_C,
            CHI: raw["chi"].to_numpy(dtype=float),
            "polymer_class": raw.get("polymer_class", pd.Series([""] * len(raw))).to_numpy(),
            "ps_pair": raw["ps_pair"].to_numpy(),
        }
    )
    if canonicalize:
        add_keys(df)
    return df


def load_cosmo_chi(path: str | Path | None = None, exp: pd.DataFrame | None = None) -> pd.DataFrame:
    """COSMO-RS chi joined to the experimental table's repeat units through ``ps_pair``.

    Returns the 1206 COSMO rows whose ps_pair is in data_Chi.csv, with the columns of
    :func:`load_experimental_chi` (chi = the COSMO-RS value) minus ``row``.
    """
    path = Path(path) if path else data_file("mtl_chi/data_COSMO.csv")
    raw = pd.read_csv(path, index_col=0)
    exp = exp if exp is not None else load_experimental_chi()
    pairs = exp.drop_duplicates("ps_pair").set_index("ps_pair")
    keep = raw["ps_pair"].isin(pairs.index)
    raw = raw[keep]
    cols = [POLYMER_SMILES, SOLVENT_SMILES] + [c for c in (POLYMER_KEY, SOLVENT_KEY) if c in pairs.columns]
    df = pairs.loc[raw["ps_pair"], cols].reset_index()
    df[TEMPERATURE_K] = raw["temp"].to_numpy(dtype=float) + ZERO_C
    df[CHI] = raw["chi"].to_numpy(dtype=float)
    return df


def matched_rows(exp: pd.DataFrame | None = None, cosmo: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows where experiment and COSMO-RS share (ps_pair, T): 1178 rows, columns chi_exp, chi_cosmors."""
    exp = exp if exp is not None else load_experimental_chi()
    cosmo = cosmo if cosmo is not None else load_cosmo_chi(exp=exp)
    c = cosmo[["ps_pair", TEMPERATURE_K, CHI]].copy()
    c["tk"] = c[TEMPERATURE_K].round(6)
    e = exp.copy()
    e["tk"] = e[TEMPERATURE_K].round(6)
    m = e.merge(c.drop(columns=TEMPERATURE_K).rename(columns={CHI: "chi_cosmors"}), on=["ps_pair", "tk"])
    return m.drop(columns="tk").rename(columns={CHI: "chi_exp"})


def load_official_splits(path: str | Path | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The five predefined train/test splits of data_Chi.csv, as arrays of ``row`` values."""
    path = Path(path) if path else data_file("mtl_chi/splits.json")
    d = json.loads(Path(path).read_text())
    if not {"train", "test"} <= set(d) or len(d["train"]) != len(d["test"]):
        raise InvalidInputError(f"{path}: expected keys 'train' and 'test' with one list per split")
    return [(np.asarray(tr, dtype=np.int64), np.asarray(te, dtype=np.int64)) for tr, te in zip(d["train"], d["test"])]


def add_keys(df: pd.DataFrame) -> pd.DataFrame:
    """Add canonical polymer_key / solvent_key columns in place (raises on invalid SMILES)."""
    pk = {s: canonical_key("polymer", s) for s in pd.unique(df[POLYMER_SMILES])}
    sk = {s: canonical_key("solvent", s) for s in pd.unique(df[SOLVENT_SMILES])}
    df[POLYMER_KEY] = df[POLYMER_SMILES].map(pk)
    df[SOLVENT_KEY] = df[SOLVENT_SMILES].map(sk)
    return df
