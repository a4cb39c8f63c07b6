"""Chemistry layer: SMILES in, typed RDKit-backed objects out.

- :class:`RepeatUnit`: a polymer repeat unit with two attachment points, its canonical identity,
  and cyclic or capped linear oligomers.
- :class:`Solvent`: a single molecule, its canonical SMILES and InChIKey.
"""
from chiscreen.chem.polymer import RepeatUnit, canonical_repeat_unit, validate_repeat_unit
from chiscreen.chem.solvent import Solvent

__all__ = ["RepeatUnit", "Solvent", "canonical_repeat_unit", "validate_repeat_unit"]
