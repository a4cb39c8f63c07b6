"""Generic user tables of polymer-solvent pairs (CSV or Parquet).

Required columns: ``polymer_smiles``, ``solvent_smiles`` and one of ``temperature_K`` /
``temperature_C``; optional labels ``chi`` (experimental), ``chi_computed`` and ``soluble``
(0/1). Temperatures become ``temperature_K`` (Kelvin, always, inside the library).

Two modes, as the house rules ask:
- ``strict=True`` (training): the first bad row raises, naming the row and the problem;
- ``strict=False`` (predict, screen): bad rows are kept with ``status="invalid"`` and a
  ``reason``; the table keeps every input row in order.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chiscreen.chem import RepeatUnit, Solvent
from chiscreen.errors import ChiscreenError, InvalidInputError, MissingColumnError
from chiscreen.units import T_MAX_K, T_MIN_K, ZERO_C

LABEL_COLUMNS = ("chi", "chi_computed", "soluble")


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


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if p.suffix.lower() in (".parquet", ".pq"):
        df.to_parquet(p, index=False)
    else:
        df.to_csv(p, index=False)
    return p


def normalize_pairs(df: pd.DataFrame, strict: bool = True, need_temperature: bool = True, source: str = "table",
                    numeric_labels: tuple[str, ...] = ("chi", "chi_computed"),
                    binary_labels: tuple[str, ...] = ("soluble",)) -> pd.DataFrame:
    """Validate a pair table and add ``temperature_K``, ``polymer_key``, ``solvent_key``,
    ``status`` and ``reason``. Rows are numbered from 0 in error messages ("row 3").

    ``numeric_labels`` / ``binary_labels``: label columns coerced to numbers / checked to be 0 or 1
    (the model layer passes its tasks' label columns, see :mod:`chiscreen.model.tasks`)."""
    missing = [c for c in ("polymer_smiles", "solvent_smiles") if c not in df.columns]
    if missing:
        raise MissingColumnError(
            f"{source}: missing column(s) {missing}; expected polymer_smiles, solvent_smiles and "
            f"temperature_K or temperature_C (got {list(df.columns)})"
        )
    out = df.copy().reset_index(drop=True)
    if need_temperature or "temperature_K" in out or "temperature_C" in out:
        if "temperature_K" in out.columns:
            tk = pd.to_numeric(out["temperature_K"], errors="coerce").to_numpy(dtype=float)
            unit = "temperature_K"
        elif "temperature_C" in out.columns:
            tk = pd.to_numeric(out["temperature_C"], errors="coerce").to_numpy(dtype=float) + ZERO_C
            unit = "temperature_C"
        else:
            raise MissingColumnError(
                f"{source}: missing column temperature_K or temperature_C (got {list(df.columns)})"
            )
        out["temperature_K"] = tk
    else:
        tk, unit = None, ""
    status = np.array(["ok"] * len(out), dtype=object)
    reason = np.array([""] * len(out), dtype=object)

    def bad(i: int, msg: str) -> None:
        if strict:
            raise InvalidInputError(f"{source}: row {i}: {msg}")
        if status[i] == "ok":
            status[i], reason[i] = "invalid", msg

    pkeys = {}
    skeys = {}
    pk_col, sk_col = [], []
    for i, (p, s) in enumerate(zip(out["polymer_smiles"], out["solvent_smiles"])):
        if p not in pkeys:
            try:
                pkeys[p] = (RepeatUnit.from_smiles(p).canonical, "")
            except ChiscreenError as exc:
                pkeys[p] = (None, str(exc))
        if s not in skeys:
            try:
                skeys[s] = (Solvent.from_smiles(s).canonical, "")
            except ChiscreenError as exc:
                skeys[s] = (None, str(exc))
        pk, perr = pkeys[p]
        sk, serr = skeys[s]
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
                    + (" - is the column in the wrong unit?" if unit == "temperature_K" and t < T_MIN_K else ""))
    out["polymer_key"] = pk_col
    out["solvent_key"] = sk_col
    for c in binary_labels:
        if c in out.columns:
            sol = pd.to_numeric(out[c], errors="coerce")
            for i in np.flatnonzero(sol.notna().to_numpy() & ~sol.isin([0, 1]).to_numpy()):
                bad(int(i), f"{c} = {out[c].iloc[i]!r}, expected 0 or 1")
            out[c] = sol
    for c in numeric_labels:
        if c in out.columns:
            out[c] = pd.to_numeric(out[c], errors="coerce")
    out["status"] = status
    out["reason"] = reason
    return out


def load_pair_table(path: str | Path, strict: bool = True, need_temperature: bool = True) -> pd.DataFrame:
    """Read and validate a pair table (see module docstring)."""
    return normalize_pairs(read_table(path), strict=strict, need_temperature=need_temperature, source=str(path))
