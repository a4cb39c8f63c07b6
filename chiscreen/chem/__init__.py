"""Chemistry layer: SMILES in, typed RDKit-backed objects out.

- :class:`RepeatUnit`: a polymer repeat unit with two attachment points, its canonical identity,
  and cyclic or capped linear oligomers.
- :class:`Solvent`: a single molecule, its canonical SMILES and InChIKey.
- :func:`canonical_key` (kind, SMILES) -> identity: the one canonicalisation by kind
  ("polymer" or "solvent"); :func:`try_canonical_key` returns a reason instead of raising.
"""
from chiscreen.chem.identity import KINDS, canonical_key, check_kind, try_canonical_key
from chiscreen.chem.polymer import RepeatUnit, canonical_repeat_unit, validate_repeat_unit
from chiscreen.chem.solvent import Solvent

__all__ = ["KINDS", "RepeatUnit", "Solvent", "canonical_key", "canonical_repeat_unit", "check_kind",
           "try_canonical_key", "validate_repeat_unit"]
