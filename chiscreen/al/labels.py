"""Label stores of an AL run: Parquet parts under ``RUN/labels/<source>/``, one per cycle or
import, written atomically (a part exists completely or not at all).

- ``oracle``: the ``chi_oracle`` task -- the project's own xtb -> COSMO-SAC chi, one row per
  queried (polymer, solvent, T), failures included (status + reason), with provenance: cycle,
  oracle method version (profile method and COSMO-SAC parameter set), engine, conformers,
  profile seconds, wall time. Never mixed with the
  reference COSMO-RS values (those are not in an AL training set at all).
- ``lab``: measured rows imported with ``chiscreen al import`` (chi at T, or soluble 0/1) with
  who / method / date.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from chiscreen.errors import ChiscreenError, InvalidInputError
from chiscreen.io import atomic_path

ORACLE_COLUMNS = ["row_key", "polymer_key", "solvent_key", "temperature_K", "chi", "spread", "status", "reason",
                  "cycle", "method_version", "param_set", "engine", "n_conformers", "profile_seconds", "cost_s", "holdout",
                  "computed_at"]
LAB_COLUMNS = ["row_key", "polymer_key", "solvent_key", "temperature_K", "chi", "soluble", "who", "method", "date",
               "source_file", "source_row", "imported_at"]
SCHEMAS = {"oracle": ORACLE_COLUMNS, "lab": LAB_COLUMNS}
#: columns added after the first runs: parts written before them read with this value
#: ("" = unknown parameter set: such rows never match a run's parameter set unless mixing is allowed)
OPTIONAL = {"oracle": {"param_set": ""}, "lab": {}}


class CorruptLabelStoreError(ChiscreenError):
    """A label part cannot be read or lacks its columns."""


def row_key(polymer_key, solvent_key, temperature_K) -> np.ndarray:
    """Identity of a (polymer, solvent, T) row: 'polymer|solvent|T' with T to 0.01 K."""
    t = pd.Series(np.asarray(temperature_K, dtype=float)).round(2).map("{:.2f}".format)
    return (pd.Series(polymer_key, dtype=object).astype(str).to_numpy() + "|" +
            pd.Series(solvent_key, dtype=object).astype(str).to_numpy() + "|" + t.to_numpy())


class LabelStore:
    """The label parts of one source ("oracle" or "lab") of a run."""

    def __init__(self, run_dir: str | Path, source: str) -> None:
        if source not in SCHEMAS:
            raise InvalidInputError(f"unknown label source {source!r}; expected one of {sorted(SCHEMAS)}")
        self.source = source
        self.dir = Path(run_dir) / "labels" / source

    def parts(self) -> list[Path]:
        return sorted(p for p in self.dir.glob("*.parquet") if not p.name.startswith(".")) if self.dir.is_dir() else []

    def has_part(self, name: str) -> bool:
        return (self.dir / f"{name}.parquet").is_file()

    def write_part(self, name: str, df: pd.DataFrame) -> Path:
        """Write part ``name`` atomically (replaces an earlier part of the same name)."""
        cols = SCHEMAS[self.source]
        miss = [c for c in cols if c not in df.columns]
        if miss:
            raise InvalidInputError(f"{self.source} label part {name}: missing column(s) {miss}")
        path = self.dir / f"{name}.parquet"
        with atomic_path(path) as tmp:
            df[cols].to_parquet(tmp, index=False)
        return path

    def read(self) -> pd.DataFrame:
        """All parts (CorruptLabelStoreError naming the file if one is unreadable or malformed)."""
        cols = SCHEMAS[self.source]
        frames = []
        for p in self.parts():
            try:
                df = pd.read_parquet(p)
            except Exception as exc:  # pyarrow raises several types for a damaged file
                raise CorruptLabelStoreError(f"corrupt label store part {p}: {type(exc).__name__}: {str(exc)[:200]}") from None
            for c, v in OPTIONAL[self.source].items():
                if c not in df.columns:
                    df[c] = v
            miss = [c for c in cols if c not in df.columns]
            if miss:
                raise CorruptLabelStoreError(f"corrupt label store part {p}: missing column(s) {miss}")
            df = df[cols].copy()
            df["part"] = p.stem
            frames.append(df)
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols + ["part"]})
        return pd.concat(frames, ignore_index=True)

    def validate(self) -> int:
        """Read every part (raises if one is corrupt); returns the row count."""
        return len(self.read())
