"""Generic user tables of polymer-solvent pairs (CSV or Parquet).

Required columns: ``polymer_smiles``, ``solvent_smiles`` and one of ``temperature_K`` /
``temperature_C``; optional labels ``chi`` (experimental), ``chi_computed``, ``chi_oracle`` and
``soluble`` (0/1). Temperatures become ``temperature_K`` (Kelvin, always, inside the library).
Column names are those of :mod:`chiscreen.schema`; old spellings (``polymer`` / ``solvent`` /
``temp`` of oracle pair files, ``T_K`` of screen outputs, ``t_kelvin`` of oracle results) are
read with a note naming the column.

Two modes, as the house rules ask:
- ``strict=True`` (training): the first bad row raises, naming the row and the problem;
- ``strict=False`` (predict, screen): bad rows are kept with ``status="invalid"`` and a
  ``reason``; the table keeps every input row in order.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chiscreen.chem import try_canonical_key
from chiscreen.errors import InvalidInputError, MissingColumnError
from chiscreen.schema import (
    LABEL_COLUMNS, POLYMER_KEY, POLYMER_SMILES, REASON, SOLUBLE, SOLVENT_KEY, SOLVENT_SMILES,
    STATUS, TEMPERATURE_C, TEMPERATURE_K, rename_old,
)
from chiscreen.units import T_MAX_K, T_MIN_K, ZERO_C

__all__ = ["LABEL_COLUMNS", "read_table", "write_table", "normalize_pairs", "load_pair_table"]


def read_table(path: str | Path) -> pd.DataFrame:
    """Read CSV (``.csv``, ``.tsv``, ``.txt``) or Parquet by extension."""
    p = Path(path)
    if not p.exists():
        raise InvalidInputError(f"table {p} does not exist")
    suffix = p.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(p)
        if suffix in (".csv", ".txt"):
            return pd.read_csv(p)
        if suffix == ".tsv":
            return pd.read_csv(p, sep="\t")
    except Exception as exc:
        raise InvalidInputError(f"cannot read table {p}: {exc}") from exc
    raise InvalidInputError(f"table {p}: unknown extension {suffix!r}, expected .csv, .tsv or .parquet")


def write_table(df: pd.DataFrame, path: str | Path, metadata: dict[bytes, bytes] | None = None) -> Path:
    """Write a CSV or (by suffix) Parquet table; Parquet gets ``metadata`` (e.g.
    :func:`chiscreen.runtime.table_metadata`: model hash, versions) in its schema."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() in (".parquet", ".pq"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        from chiscreen.runtime import with_metadata

        pq.write_table(with_metadata(pa.Table.from_pandas(df, preserve_index=False), metadata), p)
    else:
        df.to_csv(p, index=False)
    return p


def normalize_pairs(df: pd.DataFrame, strict: bool = True, need_temperature: bool = True, source: str = "table",
                    numeric_labels: tuple[str, ...] = ("chi", "chi_computed"),
                    binary_labels: tuple[str, ...] = ("soluble",)) -> pd.DataFrame:
    """Validate a pair table and add ``temperature_K``, ``polymer_key``, ``solvent_key``,
    ``status`` and ``reason``. Rows are numbered from 0 in error messages ("row 3").

    ``numeric_labels`` / ``binary_labels``: label columns coerced to numbers / checked to be 0 or 1
    (the model layer passes its tasks' label columns, see :mod:`chiscreen.model.tasks`).
    Old column spellings are renamed first (:func:`chiscreen.schema.rename_old`, with a note).
    Raises MissingColumnError for a missing column; with ``strict`` InvalidInputError for the
    first bad row (SMILES, temperature out of 150-700 K, a binary label not 0/1)."""
    df = rename_old(df, source=source)
    missing = [c for c in (POLYMER_SMILES, SOLVENT_SMILES) if c not in df.columns]
    if missing:
        raise MissingColumnError(
            f"{source}: missing column(s) {missing}; expected {POLYMER_SMILES}, {SOLVENT_SMILES} and "
            f"{TEMPERATURE_K} or {TEMPERATURE_C} (got {list(df.columns)})"
        )
    out = df.copy().reset_index(drop=True)
    if need_temperature or TEMPERATURE_K in out or TEMPERATURE_C in out:
        if TEMPERATURE_K in out.columns:
            tk = pd.to_numeric(out[TEMPERATURE_K], errors="coerce").to_numpy(dtype=float)
            unit = TEMPERATURE_K
        elif TEMPERATURE_C in out.columns:
            tk = pd.to_numeric(out[TEMPERATURE_C], errors="coerce").to_numpy(dtype=float) + ZERO_C
            unit = TEMPERATURE_C
        else:
            raise MissingColumnError(
                f"{source}: missing column {TEMPERATURE_K} or {TEMPERATURE_C} (got {list(df.columns)})"
            )
        out[TEMPERATURE_K] = tk
    else:
        tk, unit = None, ""
    status = np.array(["ok"] * len(out), dtype=object)
    reason = np.array([""] * len(out), dtype=object)

    def bad(i: int, msg: str) -> None:
        if strict:
            raise InvalidInputError(f"{source}: row {i}: {msg}")
        if status[i] == "ok":
            status[i], reason[i] = "invalid", msg

    keys: dict[str, dict[object, tuple[str | None, str]]] = {"polymer": {}, "solvent": {}}

    def key(kind: str, smiles: object) -> tuple[str | None, str]:
        memo = keys[kind]
        h = smiles if isinstance(smiles, str) else repr(smiles)
        if h not in memo:
            memo[h] = try_canonical_key(kind, smiles)
        return memo[h]

    pk_col, sk_col = [], []
    for i, (p, s) in enumerate(zip(out[POLYMER_SMILES], out[SOLVENT_SMILES])):
        pk, perr = key("polymer", p)
        sk, serr = key("solvent", s)
        if perr:
            bad(i, perr)
        if serr:
            bad(i, serr)
        pk_col.append(pk)
        sk_col.append(sk)
        if tk is not None:
            t = tk[i]
            if not np.isfinite(t):
                bad(i, f"{unit} is missing or not a number")
            elif not (T_MIN_K <= t <= T_MAX_K):
                bad(i, f"temperature {t:.2f} K (from {unit}) outside {T_MIN_K:.0f}-{T_MAX_K:.0f} K"
                    + (" - is the column in the wrong unit?" if unit == TEMPERATURE_K and t < T_MIN_K else ""))
    out[POLYMER_KEY] = pk_col
    out[SOLVENT_KEY] = sk_col
    for c in binary_labels:
        if c in out.columns:
            sol = pd.to_numeric(out[c], errors="coerce")
            for i in np.flatnonzero(sol.notna().to_numpy() & ~sol.isin([0, 1]).to_numpy()):
                bad(int(i), f"{c} = {out[c].iloc[i]!r}, expected 0 or 1")
            out[c] = sol
    for c in numeric_labels:
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce")
    out[STATUS] = status
    out[REASON] = reason
    return out


def load_pair_table(path: str | Path, strict: bool = True, need_temperature: bool = True) -> pd.DataFrame:
    """Read and validate a pair table (see module docstring)."""
    return normalize_pairs(read_table(path), strict=strict, need_temperature=need_temperature, source=str(path))
