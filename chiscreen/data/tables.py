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
from chiscreen.units import T_MAX_K, T_MIN_K, ZERO_C, format_number

__all__ = ["LABEL_COLUMNS", "read_table", "write_table", "normalize_pairs", "load_pair_table"]


def not_utf8_error(path: str | Path, header: bool = True) -> InvalidInputError:
    """The error for a file that is not UTF-8, naming the line (from 1) of the first bad byte and,
    for a table with a ``header`` line, its data row (from 0, as every row message counts)."""
    p = Path(path)
    data = p.read_bytes()
    try:
        data.decode("utf-8")
        return InvalidInputError(f"table {p}: not UTF-8 text; save the file as UTF-8")
    except UnicodeDecodeError as exc:
        pos = exc.start
    line = data.count(b"\n", 0, pos) + 1
    if not header:
        where = f"line {line}"
    else:
        where = f"line {line} (row {line - 2})" if line >= 2 else "line 1 (the header)"
    return InvalidInputError(f"table {p}: {where}: byte {data[pos:pos + 1]!r} is not UTF-8 text; "
                             "save the file as UTF-8")


def _plain_numbers(df: pd.DataFrame) -> pd.DataFrame:
    """Columns that hold only numbers but came back as Python objects (integers too large for
    int64, e.g. a 300-digit temperature) become float64 (inf beyond 1.8e308), so every writer and
    every range check sees an ordinary number."""
    for col in df.columns:
        if df[col].dtype != object:
            continue
        vals = df[col].dropna()
        if len(vals) and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)
                             for v in vals):
            def to_float(v):
                try:
                    return float(v)
                except OverflowError:
                    return float("inf") if v > 0 else float("-inf")

            df[col] = df[col].map(lambda v: np.nan if v is None else to_float(v)).astype(float)
    return df


def read_table(path: str | Path) -> pd.DataFrame:
    """Read CSV (``.csv``, ``.txt``: comma-separated; ``.tsv``: tab-separated), UTF-8, or Parquet,
    by extension. Raises InvalidInputError naming the file (and the line, for a byte that is not
    UTF-8; and the likely separator, when a .csv file is separated by ';' or tabs)."""
    p = Path(path)
    if not p.exists():
        raise InvalidInputError(f"table {p} does not exist")
    if p.is_dir():
        raise InvalidInputError(f"table {p} is a folder, expected a file")
    suffix = p.suffix.lower()
    if suffix not in (".parquet", ".pq", ".csv", ".txt", ".tsv"):
        raise InvalidInputError(f"table {p}: unknown extension {suffix!r}, expected .csv, .tsv or .parquet")
    try:
        if suffix in (".parquet", ".pq"):
            df = pd.read_parquet(p)
        else:
            df = pd.read_csv(p, sep="\t" if suffix == ".tsv" else ",", encoding="utf-8")
    except UnicodeDecodeError:
        raise not_utf8_error(p) from None
    except pd.errors.EmptyDataError:
        raise InvalidInputError(f"table {p} is empty (no header, no rows)") from None
    except Exception as exc:
        msg = " ".join(str(exc).split())
        raise InvalidInputError(f"cannot read table {p}: {msg[:300]}") from None
    if suffix != ".parquet" and suffix != ".pq" and len(df.columns) == 1:
        name = str(df.columns[0])
        others = ((",", "commas"), (";", "';'"), ("|", "'|'")) if suffix == ".tsv" else \
            ((";", "';'"), ("\t", "tabs"), ("|", "'|'"))
        for sep, what in others:
            if sep in name:
                want = "tabs (.tsv)" if suffix == ".tsv" else "commas (.csv)"
                raise InvalidInputError(f"table {p}: one column named {name[:80]!r}: the file looks separated by "
                                        f"{what}, but a {suffix} file must be separated by {want}")
    return _plain_numbers(df)


def write_table(df: pd.DataFrame, path: str | Path, metadata: dict[bytes, bytes] | None = None) -> Path:
    """Write a CSV or (by suffix) Parquet table atomically (a failure leaves no half-written file);
    Parquet gets ``metadata`` (e.g. :func:`chiscreen.runtime.table_metadata`: model hash, versions) in
    its schema. Raises InvalidInputError naming the file when it cannot be written."""
    from chiscreen.io import atomic_path

    p = Path(path)
    try:
        with atomic_path(p) as tmp:
            if p.suffix.lower() in (".parquet", ".pq"):
                import pyarrow as pa
                import pyarrow.parquet as pq

                from chiscreen.runtime import with_metadata

                pq.write_table(with_metadata(pa.Table.from_pandas(df, preserve_index=False), metadata), tmp)
            else:
                df.to_csv(tmp, index=False)
    except OSError as exc:
        raise InvalidInputError(f"cannot write {p}: {exc.strerror or exc}") from None
    except (OverflowError, ValueError, TypeError) as exc:  # pyarrow: a value Parquet cannot hold
        raise InvalidInputError(f"cannot write {p}: {' '.join(str(exc).split())[:200]}") from None
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
                shown = f"{t:.2f}" if abs(t) < 1e7 else format_number(t)
                bad(i, f"temperature {shown} K (from {unit}) outside {T_MIN_K:.0f}-{T_MAX_K:.0f} K"
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
