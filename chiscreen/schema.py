"""One schema: the column names of every table chiscreen reads or writes.

Every layer spells a column through the constants here, so that a label table, a prediction, a
screen output and an oracle result join without renaming. Temperatures are Kelvin everywhere.

Pair tables (user input, label tables, predictions, oracle results)
    polymer_smiles   polymer repeat unit with two '*' (as given; canonical in outputs)
    solvent_smiles   solvent molecule
    temperature_K    temperature, K (``temperature_C`` is accepted on input and converted)
    polymer_key, solvent_key   canonical identities (:func:`chiscreen.chem.canonical_key`)
    polymer_name, solvent_name names, where a table carries them (catalog ``name``)
    status, reason   "ok" or why a row could not be used

Every polymer column is ``polymer_<what>`` (smiles, key, name, id), every solvent column
``solvent_<what>``. Not yet: the campaign tables (:mod:`chiscreen.campaigns`) name molecules in
bare ``polymer`` / ``solvent`` columns, and the PolySol curation report keeps its source file's.

Labels (one column per kind of measurement; a row may carry any subset)
    chi              experimental Flory-Huggins chi (task chi_exp)
    chi_computed     COSMO-RS chi of the reference data (task chi_comp)
    chi_oracle       chiscreen's own xtb -> COSMO-SAC chi (never mixed with chi_computed)
    soluble          1 soluble / 0 not

Prediction columns (``chi_mean``, ``chi_std``, ``p_soluble``, ...) derive from the model's task
registry (each task's result prefix), not from this module.

Screen tables (pair shards, top_per_solvent, selective-*): catalog ids and the compact on-disk
names that screens have always written, kept so that existing outputs stay readable:
    polymer_id, solvent_id   catalog ``id`` of the polymer / solvent
    T_K                      temperature, K (the same quantity as ``temperature_K``)
:func:`chiscreen.screen.read_pairs` adds polymer_name / polymer_smiles (canonical) and the
solvent's from the run's catalogs.

Catalog tables: id, name, smiles, canonical, status, reason (+ source columns).

Old spellings of user input files (``polymer`` / ``solvent`` / ``temp`` of the oracle's pair
files, ``T_K`` of screen outputs, ``t_kelvin`` of oracle results) are accepted by
:func:`accept_old_names`, which renames them and logs one note naming each column.
"""
from __future__ import annotations

import logging
from typing import Iterable, Mapping

import numpy as np

from chiscreen.errors import InvalidInputError, TemperatureError
from chiscreen.units import parse_temperature

log = logging.getLogger("chiscreen.schema")

# ------------------------------------------------------------------ pair identity
POLYMER_SMILES = "polymer_smiles"
SOLVENT_SMILES = "solvent_smiles"
TEMPERATURE_K = "temperature_K"
TEMPERATURE_C = "temperature_C"   # input only; converted to TEMPERATURE_K
POLYMER_KEY = "polymer_key"
SOLVENT_KEY = "solvent_key"
POLYMER_NAME = "polymer_name"
SOLVENT_NAME = "solvent_name"
STATUS = "status"
REASON = "reason"
PAIR_COLUMNS = (POLYMER_SMILES, SOLVENT_SMILES, TEMPERATURE_K)
KEY_COLUMNS = (POLYMER_KEY, SOLVENT_KEY)
SMILES_OF_KIND = {"polymer": POLYMER_SMILES, "solvent": SOLVENT_SMILES}
KEY_OF_KIND = {"polymer": POLYMER_KEY, "solvent": SOLVENT_KEY}

# ------------------------------------------------------------------ labels
CHI = "chi"
CHI_COMPUTED = "chi_computed"
CHI_ORACLE = "chi_oracle"
SOLUBLE = "soluble"
#: label columns of the reference data (experimental, COSMO-RS, solubility)
LABEL_COLUMNS = (CHI, CHI_COMPUTED, SOLUBLE)
#: every label column chiscreen knows, including its own oracle's
ALL_LABEL_COLUMNS = (CHI, CHI_COMPUTED, CHI_ORACLE, SOLUBLE)
#: provenance of a label row
SOURCE = "source"
SOURCE_ROW = "source_row"

# ------------------------------------------------------------------ oracle results
# an oracle results table: polymer_smiles, solvent_smiles (canonical), temperature_K, chi,
# spread, chi_calibrated, status ("ok" | "failed"), reason, message
SPREAD = "spread"                  # conformer spread (standard error) of an oracle chi
CHI_CALIBRATED = "chi_calibrated"  # oracle chi through a fitted calibration
MESSAGE = "message"                # details of a failure
CHI_ORACLE_SPREAD = "chi_oracle_spread"  # SPREAD carried into oracle label rows

# ------------------------------------------------------------------ catalogs
ID = "id"
NAME = "name"
SMILES = "smiles"
CANONICAL = "canonical"
CATALOG_COLUMNS = (ID, NAME, SMILES, CANONICAL, STATUS, REASON)

# ------------------------------------------------------------------ screen tables
POLYMER_ID = "polymer_id"
SOLVENT_ID = "solvent_id"
T_K = "T_K"

# ------------------------------------------------------------------ old spellings
#: old input spelling -> column it means. Applied only where the new column is absent.
OLD_NAMES: Mapping[str, str] = {
    "polymer": POLYMER_SMILES,      # oracle pair files (polymer, solvent, temp)
    "solvent": SOLVENT_SMILES,
    "temp": "temp",                 # see accept_old_names: a temperature with unit, bare = K
    T_K: TEMPERATURE_K,             # screen outputs
    "t_kelvin": TEMPERATURE_K,      # oracle results before the one schema
}


def accept_old_names(columns: Iterable[str], source: str = "table",
                     old: Mapping[str, str] = OLD_NAMES) -> dict[str, str]:
    """Renames {old: new} for the old spellings among ``columns`` whose new column is absent.

    Logs one note per renamed column (``source: column 'temp' read as 'temperature_K' ...``).
    ``temp`` maps to ``temperature_K`` only when neither temperature_K nor temperature_C is
    present; its values must then be parsed with :func:`chiscreen.units.parse_temperature`
    (strings carry their unit, bare numbers are Kelvin), which :func:`parse_temp_column` does.
    Raises InvalidInputError when two old spellings would give the same column.
    """
    cols = list(columns)
    have = set(cols)
    out: dict[str, str] = {}
    for c in cols:
        new = old.get(c)
        if new is None:
            continue
        if new == "temp":
            if TEMPERATURE_K in have or TEMPERATURE_C in have:
                continue
            new = TEMPERATURE_K
        if new in have:
            continue
        if new in out.values():
            first = next(k for k, v in out.items() if v == new)
            raise InvalidInputError(f"{source}: columns {first!r} and {c!r} both mean {new!r}; keep one")
        out[c] = new
    for c, new in out.items():
        log.warning("%s: column %r read as %r (old spelling; rename the column to silence this note)",
                    source, c, new)
    return out


def parse_temp_column(values, source: str = "table", column: str = "temp"):
    """Kelvin array of a ``temp`` column (strings with unit, bare numbers Kelvin).

    Raises TemperatureError naming the row for a value that cannot be read or is out of range."""
    out = np.empty(len(values), dtype=float)
    for i, v in enumerate(values):
        try:
            out[i] = parse_temperature(v)
        except TemperatureError as exc:
            raise TemperatureError(f"{source}: row {i}: column {column!r}: {exc}") from None
    return out


def rename_old(df, source: str = "table", old: Mapping[str, str] = OLD_NAMES):
    """``df`` with old spellings renamed (see :func:`accept_old_names`); a ``temp`` column is
    converted to Kelvin. Returns the same frame when nothing needs renaming."""
    ren = accept_old_names(df.columns, source=source, old=old)
    if not ren:
        return df
    out = df.rename(columns=ren)
    inv = {v: k for k, v in ren.items()}
    if inv.get(TEMPERATURE_K) == "temp":
        out[TEMPERATURE_K] = parse_temp_column(out[TEMPERATURE_K].tolist(), source=source)
    return out
