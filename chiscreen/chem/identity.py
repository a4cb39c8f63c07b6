"""Canonical identity of a molecule by kind: the one function every layer uses.

``canonical_key("polymer", s)`` is the canonical repeat unit (:func:`canonical_repeat_unit`),
``canonical_key("solvent", s)`` the RDKit canonical SMILES of the solvent (:class:`Solvent`).
Descriptor caches, catalogs, label tables, screens and the oracle all key molecules by it.
"""
from __future__ import annotations

from chiscreen.chem.polymer import canonical_repeat_unit
from chiscreen.chem.solvent import Solvent
from chiscreen.errors import ChiscreenError, InvalidInputError, InvalidPolymerError

KINDS = ("polymer", "solvent")


def check_kind(kind: str) -> str:
    """``kind`` if it is "polymer" or "solvent", else InvalidInputError."""
    if kind not in KINDS:
        raise InvalidInputError(f"unknown molecule kind {kind!r}; expected 'polymer' or 'solvent'")
    return kind


def canonical_key(kind: str, smiles: str) -> str:
    """Canonical identity of a polymer repeat unit or a solvent.

    Raises InvalidPolymerError / InvalidSolventError naming the input and the problem, or
    InvalidInputError for an unknown ``kind``.
    """
    if kind == "polymer":
        if not isinstance(smiles, str):
            raise InvalidPolymerError(f"invalid repeat unit {smiles!r}: expected a SMILES string")
        return canonical_repeat_unit(smiles.strip())
    if kind == "solvent":
        return Solvent.from_smiles(smiles).canonical
    check_kind(kind)
    raise AssertionError("unreachable")


def try_canonical_key(kind: str, smiles: object) -> tuple[str | None, str]:
    """(canonical identity, "") or (None, reason). Never raises on bad input (an unknown
    ``kind`` still raises InvalidInputError: that is a programming error, not a bad row)."""
    check_kind(kind)
    if not isinstance(smiles, str) or not smiles.strip():
        return None, f"empty or missing SMILES ({smiles!r})"
    try:
        return canonical_key(kind, smiles), ""
    except ChiscreenError as exc:
        return None, str(exc)
    except Exception as exc:  # RDKit internals on exotic input: recorded, never fatal
        return None, f"cannot process {smiles!r}: {type(exc).__name__}: {exc}"
