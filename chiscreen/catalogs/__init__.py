"""Catalog layer: the shipped polymer and solvent catalogs and the facts joined to them.

- :mod:`~chiscreen.catalogs.facts`: polymer facts (Tm0, heat of fusion, molar volume, Tg,
  crystallinity; catalogs/polymers.csv) and solvent facts (boiling point joined at run time from
  the reference data by CAS, molar volume estimate) for the dissolution verdict
"""
