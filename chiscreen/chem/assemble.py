"""Repeat units assembled from fragments with RDKit's ``molzip``, and the enumeration worker.

Catalog enumeration (:mod:`chiscreen.catalogs.enumerate`) plans every combination of building
blocks as ``(op, a, b)``: ``op`` "join" bonds residue ``a``'s second attachment to residue ``b``'s
first (:func:`join_smiles`), "vinyl" puts alpha fragment ``a`` and substituent ``b`` on a vinyl
backbone (:func:`vinyl_unit`). :func:`build_chunk` builds and canonicalises a list of them; it
lives in the chem layer so that the enumeration's worker processes import RDKit and chiscreen.chem
only (not pandas or the catalog layer: each worker starts ~0.5 s faster).
"""
from __future__ import annotations

from functools import lru_cache

from rdkit import Chem, rdBase

from chiscreen.chem.identity import try_canonical_key

_STAR = Chem.MolFromSmarts("[#0]")


@lru_cache(maxsize=4096)
def _parsed(smiles: str) -> Chem.Mol | None:
    """A fragment parsed once (molzip and CombineMols return new molecules, never edit it)."""
    with rdBase.BlockLogs():
        return Chem.MolFromSmiles(smiles)


@lru_cache(maxsize=4096)
def _zip_ready(smiles: str, which: int) -> Chem.Mol:
    """A residue with its ``which``-th attachment (0 first, 1 second) labelled for molzip."""
    m = Chem.Mol(_parsed(smiles))
    stars = sorted(x[0] for x in m.GetSubstructMatches(_STAR, uniquify=False))
    m.GetAtomWithIdx(stars[which]).SetAtomMapNum(1)
    return m


def join_smiles(a: str, b: str) -> str:
    """Repeat unit a-b from two residue SMILES (two '*' each): a's second attachment bonded to
    b's first; the other two stay '*' (the parsed residues are reused across calls). Raises on a
    residue RDKit cannot parse (see :func:`build`)."""
    with rdBase.BlockLogs():
        z = Chem.molzip(_zip_ready(a, 1), _zip_ready(b, 0))
    return Chem.MolToSmiles(z)


def vinyl_unit(alpha: str, substituent: str) -> str:
    """``*CC(*)(alpha)R`` from fragments with one '*' each (alpha '*' alone means hydrogen)."""
    sub = _parsed(substituent.replace("*", "[*:2]", 1))
    with rdBase.BlockLogs():
        if alpha.strip() in ("*", "[*]", ""):
            z = Chem.molzip(_parsed("*CC(*)[*:2]"), sub)
        else:
            al = _parsed(alpha.replace("*", "[*:1]", 1))
            tpl = _parsed("*CC(*)([*:1])[*:2]")
            z = Chem.molzip(Chem.CombineMols(Chem.CombineMols(tpl, al), sub))
    return Chem.MolToSmiles(z)


def build(op: str, a: str, b: str) -> str:
    """The repeat-unit SMILES of one planned item (``op`` "join" or "vinyl"); a unit that cannot
    be formed gives ``"!<why>"`` (invalid by construction, counted as invalid, never fatal)."""
    try:
        return join_smiles(a, b) if op == "join" else vinyl_unit(a, b)
    except Exception as exc:  # a malformed fragment: reported as invalid
        return f"!{exc}"


def build_chunk(items: list[tuple[str, str, str]]) -> list[tuple[str, str | None]]:
    """Worker: (SMILES, canonical identity or None) of each (op, a, b). Identical SMILES met
    again (symmetric building blocks) come from the canonicalisation cache of this process."""
    out = []
    for op, a, b in items:
        smi = build(op, a, b)
        out.append((smi, try_canonical_key("polymer", smi)[0]))
    return out
