"""The ``periodic`` polymer representation: the smallest head-to-tail ring of repeat units.

A polymer chain is the infinite repetition of its unit. In a head-to-tail ring of k units every
atom sees the bonds and neighbours it has in the chain (out to about half the ring), which is
why the cyclic trimer (``cyclic:3``) beat capped linear oligomers. Three units are more than that
needs for most units: a ring of >= 6 backbone atoms already gives every atom its chain
environment at the radius that atom-typed 2D descriptors look at (Crippen, TPSA, Labute ASA,
Gasteiger, SMARTS fragments: 1-3 bonds). ``periodic:M`` therefore uses

    k = ceil(M / backbone_atoms) units (default M = 6):
    vinyl units (2 backbone atoms) -> k = 3, the very ring of ``cyclic:3``;
    3-5 backbone atoms -> k = 2;  >= 6 backbone atoms (polyesters, polyamides, ...) -> k = 1,

a third or less of the cyclic trimer's atoms for step-growth polymers. The number of units k is
stored on the molecule (int property ``chiscreen_units``) so that a featurizer can report
extensive descriptors per repeat unit (see :mod:`chiscreen.features.fast2d`).

The ring is sanitized without RDKit's symmetrized SSSR. On backbones of para-linked rings the
symmetrized set holds every equivalent macrocycle, 2^(number of para-phenylenes) of them
(measured: 262,162 rings and 10 s to build the cyclic trimer of a 147-atom aromatic polyamide,
then seconds per ring-based descriptor); the plain SSSR has one.
"""
from __future__ import annotations

import math

from rdkit import Chem, rdBase

from chiscreen.errors import InvalidPolymerError

UNITS_PROP = "chiscreen_units"
CLOSURE_PROP = "chiscreen_closure"  # bool property of the bonds that join units
DEFAULT_MIN_RING = 6
_SANITIZE = Chem.SanitizeFlags.SANITIZE_ALL ^ Chem.SanitizeFlags.SANITIZE_SYMMRINGS


def _stars(mol: Chem.Mol) -> list[int]:
    return [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() == 0]


def units_for(backbone_atoms: int, min_ring: int = DEFAULT_MIN_RING) -> int:
    """Number of repeat units k in the ring: ceil(min_ring / backbone_atoms), at least 1."""
    return max(1, math.ceil(min_ring / max(1, backbone_atoms)))


def periodic_ring(canonical_unit: str, min_ring: int = DEFAULT_MIN_RING) -> Chem.Mol:
    """Head-to-tail ring of the fewest units with >= ``min_ring`` backbone atoms (implicit H).

    Args:
        canonical_unit: repeat-unit SMILES with two '*' (already validated/canonical).
        min_ring: minimum ring size in atoms (>= 3).

    Returns a sanitized Mol (SSSR ring info, not symmetrized) carrying int property
    ``chiscreen_units`` = k. Raises InvalidPolymerError if the unit cannot be closed.
    """
    with rdBase.BlockLogs():
        unit = Chem.MolFromSmiles(canonical_unit, sanitize=False)
    if unit is None:
        raise InvalidPolymerError(f"invalid repeat unit {canonical_unit!r}: RDKit cannot parse it")
    stars = _stars(unit)
    if len(stars) != 2:
        raise InvalidPolymerError(f"invalid repeat unit {canonical_unit!r}: expected two '*'")
    unit.UpdatePropertyCache(strict=False)
    Chem.FastFindRings(unit)
    h, t = stars
    backbone = len(Chem.GetShortestPath(unit, h, t)) - 2
    k = units_for(backbone, min_ring)
    if backbone * k < 3:
        raise InvalidPolymerError(f"periodic ring of {canonical_unit}: fewer than 3 ring atoms")
    bt = unit.GetBondBetweenAtoms(t, unit.GetAtomWithIdx(t).GetNeighbors()[0].GetIdx()).GetBondType()
    n = unit.GetNumAtoms()
    rw = Chem.RWMol()
    # k copies of the unit, then bond tail neighbour of copy i to head neighbour of copy i+1
    for _ in range(k):
        rw.InsertMol(unit)
    hn = unit.GetAtomWithIdx(h).GetNeighbors()[0].GetIdx()
    tn = unit.GetAtomWithIdx(t).GetNeighbors()[0].GetIdx()
    for i in range(k):
        j = (i + 1) % k
        rw.AddBond(i * n + tn, j * n + hn, bt)
        rw.GetBondBetweenAtoms(i * n + tn, j * n + hn).SetBoolProp(CLOSURE_PROP, True)
    for i in reversed(range(k)):
        for s in sorted((h, t), reverse=True):
            rw.RemoveAtom(i * n + s)
    mol = rw.GetMol()
    for a in mol.GetAtoms():
        a.SetAtomMapNum(0)
    try:
        Chem.SanitizeMol(mol, sanitizeOps=_SANITIZE)
    except Exception as exc:
        raise InvalidPolymerError(f"periodic ring of {canonical_unit}: RDKit cannot sanitize it ({exc})") from exc
    mol.SetIntProp(UNITS_PROP, k)
    return mol
