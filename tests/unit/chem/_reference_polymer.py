"""Frozen reference: main's canonical_repeat_unit (commit 8b5dc85) before the enumeration speed-up.

The library's fast path (:func:`chiscreen.chem.polymer.canonical_repeat_unit`) must return the very
same string (a cache key everywhere); tests compare the two. Do not edit, except to retire it.
"""
from __future__ import annotations

import math

from rdkit import Chem, rdBase

from chiscreen.chem._rdkit import canonical_smiles, parse_smiles
from chiscreen.errors import InvalidPolymerError

_STAR = Chem.MolFromSmarts("[#0]")


def _stars(mol: Chem.Mol) -> list[int]:
    """Indices of the dummy atoms ('*'), ascending."""
    return sorted(m[0] for m in mol.GetSubstructMatches(_STAR, uniquify=False, maxMatches=1_000_000))


def validate_repeat_unit(smiles: str) -> Chem.Mol:
    """Parse a repeat-unit SMILES and check its two attachment points.

    Returns the sanitized RDKit Mol (hydrogens implicit, star labels cleared).
    Raises InvalidPolymerError naming the input and what is wrong.
    """
    mol, reason = parse_smiles(smiles)
    if mol is None:
        raise InvalidPolymerError(f"invalid repeat unit {smiles!r}: {reason}")
    mol = Chem.RemoveHs(mol)
    stars = _stars(mol)
    if len(stars) != 2:
        raise InvalidPolymerError(
            f"invalid repeat unit {smiles!r}: found {len(stars)} attachment point(s) '*', "
            "expected exactly 2 (e.g. '*CC(*)c1ccccc1' for polystyrene)"
        )
    for i, s in enumerate(stars, 1):
        deg = mol.GetAtomWithIdx(s).GetDegree()
        if deg != 1:
            raise InvalidPolymerError(
                f"invalid repeat unit {smiles!r}: attachment point {i} is bonded to {deg} atoms, "
                "expected exactly 1"
            )
    if mol.GetBondBetweenAtoms(*stars) is not None:
        raise InvalidPolymerError(
            f"invalid repeat unit {smiles!r}: the two '*' are bonded to each other, expected "
            "atoms between them"
        )
    n_frag = len(Chem.GetMolFrags(mol))
    if n_frag != 1:
        raise InvalidPolymerError(
            f"invalid repeat unit {smiles!r}: {n_frag} fragments, expected one connected unit"
        )
    t1 = mol.GetBondBetweenAtoms(stars[0], mol.GetAtomWithIdx(stars[0]).GetNeighbors()[0].GetIdx())
    t2 = mol.GetBondBetweenAtoms(stars[1], mol.GetAtomWithIdx(stars[1]).GetNeighbors()[0].GetIdx())
    if t1.GetBondType() != t2.GetBondType():
        raise InvalidPolymerError(
            f"invalid repeat unit {smiles!r}: the two attachment bonds differ "
            f"({t1.GetBondType()} vs {t2.GetBondType()}), expected the same bond at both ends"
        )
    if not any(mol.GetAtomWithIdx(s).GetAtomMapNum() or mol.GetAtomWithIdx(s).GetIsotope() for s in stars):
        return mol  # nothing to clear (the usual case): already sanitized
    rw = Chem.RWMol(mol)
    for s in stars:
        a = rw.GetAtomWithIdx(s)
        a.SetAtomMapNum(0)
        a.SetIsotope(0)
    m = rw.GetMol()
    Chem.SanitizeMol(m)
    return m


# ------------------------------------------------------------------ chain building
def _zip_chain(unit: Chem.Mol, n: int, cyclic: bool, tag: bool = True) -> Chem.Mol:
    """Join ``n`` copies of ``unit`` head-to-tail with molzip.

    The first star (lowest index) is the head, the second the tail. Linear chains keep a '*' at
    each end. With ``tag`` every atom carries int props ``_copy`` and ``_orig`` (copy number,
    index in unit); the canonical-identity path needs no tags and skips them (same molecule).
    """
    h, t = _stars(unit)
    base = Chem.RWMol(unit)
    if tag:
        for a in base.GetAtoms():
            a.SetIntProp("_orig", a.GetIdx())
    for i in range(base.GetNumAtoms()):  # index loop: cheaper than the Python atom iterator
        a = base.GetAtomWithIdx(i)
        if a.GetAtomMapNum():
            a.SetAtomMapNum(0)
    combined = None
    if tag:
        for k in range(n):
            m = Chem.RWMol(base)
            for a in m.GetAtoms():
                a.SetIntProp("_copy", k)
            combined = m.GetMol() if combined is None else Chem.CombineMols(combined, m.GetMol())
    else:  # the same molecule without per-copy tags: combine the copies first, label after
        combined = base.GetMol()
        for _ in range(n - 1):
            combined = Chem.CombineMols(combined, base)
    size = base.GetNumAtoms()
    for k in range(n):  # CombineMols keeps each copy's atoms in order, copy k at offset k * size
        head_label = k if k > 0 else (n if cyclic else 0)
        tail_label = k + 1 if k < n - 1 else (n if cyclic else 0)
        combined.GetAtomWithIdx(h + k * size).SetAtomMapNum(head_label)
        combined.GetAtomWithIdx(t + k * size).SetAtomMapNum(tail_label)
    with rdBase.BlockLogs():
        out = Chem.molzip(combined)
    Chem.SanitizeMol(out)
    return out


def _backbone_cuts(chain: Chem.Mol) -> list[tuple[int, int]]:
    """Cuttable bonds (left atom, right atom) along the backbone of a linear chain, in order.

    A bond is cuttable when it is acyclic and of the same type as the attachment bonds (so a
    rotated unit is again a unit whose two '*' bonds match).
    """
    s1, s2 = _stars(chain)
    path = list(Chem.GetShortestPath(chain, s1, s2))
    link = chain.GetBondBetweenAtoms(path[0], path[1]).GetBondType()
    cuts = []
    for a, b in zip(path[1:-2], path[2:-1]):  # skip the bonds to the end stars
        bond = chain.GetBondBetweenAtoms(a, b)
        if not bond.IsInRing() and not bond.GetIsAromatic() and bond.GetBondType() == link:
            cuts.append((a, b))
    return cuts


def _segment_of(chain: Chem.Mol, cuts: list[tuple[int, int]]) -> list[int]:
    """Per atom of ``chain``, the index of the piece it falls in once every cuttable bond is cut
    (cut bonds are acyclic, so each piece is a connected component)."""
    rw = Chem.RWMol(chain)
    for a, b in cuts:
        rw.RemoveBond(a, b)
    seg = [0] * chain.GetNumAtoms()
    for k, atoms in enumerate(Chem.GetMolFrags(rw.GetMol(), sanitizeFrags=False)):
        for i in atoms:
            seg[i] = k
    return seg


def _window(chain: Chem.Mol, left: tuple[int, int], right: tuple[int, int],
            keep: set[int] | None = None) -> Chem.Mol:
    """The unit between two cuttable bonds of ``chain``, with '*' at both cuts.

    ``keep`` (optional) is the set of atoms between the cuts, outer atoms included, when the
    caller has it (:func:`_windows`); else it is found by a walk from the left cut.
    """
    outer_l, inner_l = left
    inner_r, outer_r = right
    if keep is None:
        keep = _walk(chain, left, right) | {outer_l, outer_r}
    rw = Chem.RWMol(chain)
    for idx in (outer_l, outer_r):
        a = rw.GetAtomWithIdx(idx)
        a.SetAtomicNum(0)
        a.SetIsAromatic(False)
        a.SetFormalCharge(0)
        a.SetNumExplicitHs(0)
        a.SetNoImplicit(True)
        a.SetIsotope(0)
        a.SetAtomMapNum(0)
        a.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
        # the new star keeps only its cut bond (acyclic, never aromatic); clear leftover flags
        for b in a.GetBonds():
            b.SetIsAromatic(False)
            if b.GetBondType() == Chem.BondType.AROMATIC:
                b.SetBondType(Chem.BondType.SINGLE)
    rw.BeginBatchEdit()  # one removal pass instead of one renumbering per removed atom
    for idx in set(range(chain.GetNumAtoms())).difference(keep):
        rw.RemoveAtom(idx)
    rw.CommitBatchEdit()
    m = rw  # an RWMol is a Mol: no copy
    if chain.GetNumAtoms() and chain.GetAtomWithIdx(0).HasProp("_orig"):
        for a in m.GetAtoms():
            for p in ("_copy", "_orig"):
                if a.HasProp(p):
                    a.ClearProp(p)
    Chem.SanitizeMol(m)
    return m


def _walk(chain: Chem.Mol, left: tuple[int, int], right: tuple[int, int]) -> set[int]:
    """Atoms reachable from the inner atom of ``left`` without crossing either cut bond."""
    outer_l, inner_l = left
    inner_r, outer_r = right
    seen = {inner_l}
    stack = [inner_l]
    blocked = {outer_l, outer_r}
    while stack:
        i = stack.pop()
        for nb in chain.GetAtomWithIdx(i).GetNeighbors():
            j = nb.GetIdx()
            if j in seen or j in blocked:
                continue
            if (i == inner_r and j == outer_r) or (i == inner_l and j == outer_l):
                continue
            seen.add(j)
            stack.append(j)
    return seen


def _windows(chain: Chem.Mol, cuts: list[tuple[int, int]], spans: list[tuple[int, int]]) -> list[Chem.Mol]:
    """Windows between ``cuts[i]`` and ``cuts[j]`` for each (i, j) in ``spans`` (i < j).

    The pieces between the cuts are found once for all windows, and the chain is first trimmed
    to the atoms any window keeps (never sanitized: every window turns the trimmed ends into
    '*' or drops them, then is sanitized itself), so each window copies and edits less.
    """
    seg = _segment_of(chain, cuts)
    members: dict[int, list[int]] = {}
    for idx, k in enumerate(seg):
        members.setdefault(k, []).append(idx)

    def between(i: int, j: int) -> set[int]:
        keep = {cuts[i][0], cuts[j][1]}
        keep.update(*(members[seg[cuts[k][1]]] for k in range(i, j)))
        return keep

    lo, hi = min(i for i, _ in spans), max(j for _, j in spans)
    region = between(lo, hi)
    if len(region) < chain.GetNumAtoms():
        new_idx = {old: new for new, old in enumerate(sorted(region))}
        rw = Chem.RWMol(chain)
        rw.BeginBatchEdit()
        for idx in range(chain.GetNumAtoms()):
            if idx not in region:
                rw.RemoveAtom(idx)
        rw.CommitBatchEdit()
        trimmed = rw.GetMol()
    else:
        new_idx = {i: i for i in range(chain.GetNumAtoms())}
        trimmed = chain
    out = []
    for i, j in spans:
        keep = {new_idx[a] for a in between(i, j)}
        left = (new_idx[cuts[i][0]], new_idx[cuts[i][1]])
        right = (new_idx[cuts[j][0]], new_idx[cuts[j][1]])
        out.append(_window(trimmed, left, right, keep))
    return out


def _linear_smiles(unit: Chem.Mol, n: int) -> str:
    return canonical_smiles(_zip_chain(unit, n, cyclic=False, tag=False))


def _backbone_atoms(unit: Chem.Mol) -> int:
    s1, s2 = _stars(unit)
    return len(Chem.GetShortestPath(unit, s1, s2)) - 2


def _formula_gcd(unit: Chem.Mol) -> int:
    """gcd of the unit's element counts (hydrogens included): a k-fold repeat needs k | gcd."""
    counts: dict[int, int] = {}
    for i in range(unit.GetNumAtoms()):
        a = unit.GetAtomWithIdx(i)
        z = a.GetAtomicNum()
        if z:
            counts[z] = counts.get(z, 0) + 1
            counts[1] = counts.get(1, 0) + a.GetTotalNumHs()
    return math.gcd(*[v for v in counts.values() if v]) if counts else 1


def _reduce_period(unit: Chem.Mol) -> tuple[Chem.Mol, Chem.Mol | None]:
    """Smallest sub-unit whose repetition rebuilds ``unit``'s chain (``unit`` itself if none),
    and the linear trimer of ``unit`` when it was built and ``unit`` is kept (else None)."""
    g = _formula_gcd(unit)
    if g == 1:
        return unit, None  # the common case: no sub-period is possible
    chain = _zip_chain(unit, 3, cyclic=False, tag=False)
    cuts = _backbone_cuts(chain)
    c = (len(cuts) + 1) // 3  # cuttable bonds per period
    target = None
    for k in range(c, 1, -1):  # largest number of sub-periods first
        if c % k or g % k:
            continue
        if target is None:
            target = _linear_smiles(unit, 2)
        j = c // k
        sub = _window(chain, cuts[0], cuts[j])
        if _linear_smiles(sub, 2 * k) == target:
            return sub, None
    return unit, chain


def _rotations(unit: Chem.Mol, chain: Chem.Mol | None = None) -> list[str]:
    """Canonical SMILES of every rotation of ``unit`` (``chain``: its linear trimer, if built)."""
    if chain is None:
        chain = _zip_chain(unit, 3, cyclic=False, tag=False)
    cuts = _backbone_cuts(chain)
    c = (len(cuts) + 1) // 3
    return [canonical_smiles(w) for w in _windows(chain, cuts, [(i, i + c) for i in range(c)])]


def reference_canonical_repeat_unit(smiles: str) -> str:
    """Canonical SMILES of the polymer a repeat unit describes.

    Invariant to where the unit is cut, to its direction and to being written several periods
    long; stereo is kept. Raises InvalidPolymerError for invalid units.
    """
    unit = validate_repeat_unit(smiles)
    try:
        unit, chain = _reduce_period(unit)
        if _backbone_atoms(unit) == 1:
            unit, chain = Chem.MolFromSmiles(_linear_smiles(unit, 2)), None
        return min(_rotations(unit, chain))
    except InvalidPolymerError:
        raise
    except Exception as exc:  # RDKit failures on exotic units
        raise InvalidPolymerError(
            f"invalid repeat unit {smiles!r}: cannot canonicalize ({exc})"
        ) from exc
