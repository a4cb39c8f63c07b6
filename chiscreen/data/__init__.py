"""Data layer: locating the reference data, loaders, user tables and splits."""
from chiscreen.data.locator import data_dir, data_file
from chiscreen.data.reference import (
    load_cosmo_chi,
    load_experimental_chi,
    load_official_splits,
    matched_rows,
)
from chiscreen.data.splits import grouped_holdout, grouped_kfold, groups_for
from chiscreen.data.tables import load_pair_table, normalize_pairs, read_table, write_table

__all__ = [
    "data_dir", "data_file", "load_experimental_chi", "load_cosmo_chi", "load_official_splits",
    "matched_rows", "grouped_kfold", "grouped_holdout", "groups_for", "load_pair_table",
    "normalize_pairs", "read_table", "write_table",
]
