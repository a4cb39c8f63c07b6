"""Lab measurements as a label source: ``chiscreen al import --run DIR rows.csv``.

Input columns: polymer_smiles, solvent_smiles, temperature_K or temperature_C, a label --
``chi`` (measured chi at that T) and/or ``soluble`` (1/0, true/false, soluble/insoluble) --
and provenance ``who``, ``method``, ``date`` (ISO date). Every row is validated (strict: the
first bad row raises an InvalidInputError naming it, and nothing is written). The rows land
in ``RUN/labels/lab/import-<content hash>.parquet`` (importing the same file twice adds
nothing); the next cycle trains on them (chi -> experimental-chi task, soluble -> solubility).
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path

import numpy as np
import pandas as pd

from chiscreen.al.labels import LabelStore, row_key
from chiscreen.errors import InvalidInputError, MissingColumnError

_TRUE = {"1", "1.0", "true", "yes", "soluble"}
_FALSE = {"0", "0.0", "false", "no", "insoluble", "non-soluble", "not soluble"}


def parse_lab_rows(path: str | Path) -> pd.DataFrame:
    """Validate a lab table; returns rows in the lab label-store schema."""
    from chiscreen.data import normalize_pairs, read_table

    raw = read_table(path)
    src = str(path)
    for c in ("who", "method", "date"):
        if c not in raw.columns:
            raise MissingColumnError(f"{src}: missing provenance column {c!r} (need who, method, date)")
    if "chi" not in raw.columns and "soluble" not in raw.columns:
        raise MissingColumnError(f"{src}: no label column; expected chi and/or soluble")
    if len(raw) == 0:
        raise InvalidInputError(f"{src}: no rows")
    raw = raw.reset_index(drop=True)
    sol = pd.Series(np.nan, index=raw.index)
    if "soluble" in raw.columns:
        for i, x in enumerate(raw["soluble"]):
            if pd.isna(x) or str(x).strip() == "":
                continue
            v = str(x).strip().lower()
            if v in _TRUE:
                sol.iat[i] = 1.0
            elif v in _FALSE:
                sol.iat[i] = 0.0
            else:
                raise InvalidInputError(f"{src}: row {i}: soluble {x!r}; expected 1/0, true/false or soluble/insoluble")
        raw = raw.assign(soluble=sol)
    t = normalize_pairs(raw, strict=True, source=src)
    chi = pd.to_numeric(t["chi"], errors="coerce") if "chi" in t.columns else pd.Series(np.nan, index=t.index)
    for i in range(len(t)):
        who, method, date = (str(t.at[i, c]).strip() if pd.notna(t.at[i, c]) else "" for c in ("who", "method", "date"))
        if not who or not method:
            raise InvalidInputError(f"{src}: row {i}: 'who' and 'method' must not be empty")
        try:
            pd.Timestamp(date)
        except (ValueError, TypeError):
            raise InvalidInputError(f"{src}: row {i}: date {date!r} is not a date (use YYYY-MM-DD)") from None
        if "chi" in t.columns and pd.notna(t.at[i, "chi"]) and str(t.at[i, "chi"]).strip() != "":
            if not np.isfinite(chi.iat[i]):
                raise InvalidInputError(f"{src}: row {i}: chi {t.at[i, 'chi']!r} is not a number")
            if not -10.0 <= chi.iat[i] <= 20.0:
                raise InvalidInputError(f"{src}: row {i}: chi {chi.iat[i]} outside the plausible range [-10, 20]")
        if not np.isfinite(chi.iat[i]) and not np.isfinite(sol.iat[i]):
            raise InvalidInputError(f"{src}: row {i}: no label (chi or soluble)")
    return pd.DataFrame({"row_key": row_key(t["polymer_key"], t["solvent_key"], t["temperature_K"]),
                         "polymer_key": t["polymer_key"], "solvent_key": t["solvent_key"],
                         "temperature_K": t["temperature_K"].astype(float), "chi": chi.astype(float), "soluble": sol,
                         "who": t["who"].astype(str), "method": t["method"].astype(str), "date": t["date"].astype(str),
                         "source_file": Path(src).name, "source_row": np.arange(len(t)),
                         "imported_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})


def import_lab_rows(run, path: str | Path) -> tuple[Path, int, bool]:
    """Validate ``path`` and add it to the run's lab store. Returns (part, rows, new)."""
    rows = parse_lab_rows(path)
    h = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    store: LabelStore = run.lab_labels
    name = f"import-{h}"
    if store.has_part(name):
        return store.dir / f"{name}.parquet", len(rows), False
    return store.write_part(name, rows), len(rows), True
