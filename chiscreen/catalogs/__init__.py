"""Catalog layer: building, reading and enumerating polymer and solvent catalogs, and the facts
joined to them.

Layer ``catalogs`` (above data, below qc): used by screens, by compatibilizer design and by
anything else that needs catalogs without screening. It imports nothing from qc, model or screen.

- :mod:`~chiscreen.catalogs.catalog`: validate and canonicalise a table of SMILES into a catalog
  (id, name, smiles, canonical, status, reason, ...), load / write / look up catalogs, join the
  GSK solvent greenness.
- :mod:`~chiscreen.catalogs.enumerate`: combinatorial polymers from monomer building blocks and
  polymerization rules.
- :mod:`~chiscreen.catalogs.facts`: polymer facts (Tm0, heat of fusion, molar volume, Tg,
  crystallinity; catalogs/polymers.csv) and solvent facts (boiling point joined at run time from
  the reference data by CAS, molar volume estimate) for the dissolution verdict
"""
from chiscreen.catalogs.catalog import (
    CORE_COLUMNS, CatalogReport, build_catalog, builtin_catalog, canonicalize_many, canonicalize_one, is_catalog,
    join_greenness, load_catalog, lookup, read_source, write_catalog,
)
from chiscreen.catalogs.enumerate import RULES, EnumerationReport, enumerate_polymers, generate, read_blocks

__all__ = [
    "CORE_COLUMNS", "CatalogReport", "build_catalog", "builtin_catalog", "canonicalize_many", "canonicalize_one",
    "is_catalog", "join_greenness", "load_catalog", "lookup", "read_source", "write_catalog",
    "RULES", "EnumerationReport", "enumerate_polymers", "generate", "read_blocks",
]
