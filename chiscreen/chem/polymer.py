"""Polymer repeat units: parsing, canonical identity and oligomers.

A repeat unit is a SMILES with exactly two attachment points, written ``*`` or ``[*]``, each
bonded to exactly one atom: ``*CC(*)c1ccccc1`` is polystyrene. The chain is the infinite
head-to-tail repetition of the unit.

Canonical identity
------------------
One polymer can be written many ways: the unit may be cut at any acyclic backbone bond
(``*OCCOC(=O)CCCCC(=O)*`` and ``*CCOC(=O)CCCCC(=O)O*``), read in either direction, or written
several periods long (``*CCCC*`` for polyethylene). :func:`canonical_repeat_unit` maps all of
them to one SMILES:

1. build a linear trimer of the unit (``Chem.molzip`` keeps bond and atom stereo across joins);
2. list the cuttable bonds on the trimer's backbone (acyclic bonds on the shortest path between
   the two ends); the windows between a cuttable bond and the matching bond one period later are
   all the rotations of the unit;
3. reduce to the minimal period: a window of 1/k of the period that, repeated, rebuilds the
   chain exactly (compared as canonical SMILES of oligomers) replaces the unit;
4. a period of a single backbone atom is written doubled, matching convention
   (polyethylene ``*CC*``, PTFE ``*C(F)(F)C(F)(F)*``), so that oligomers stay chemically sane;
5. the identity is the lexicographically smallest canonical SMILES over all rotations.

Windows are cut out of the trimer by turning the atom just outside each end into ``*`` (rather
than deleting it), so a stereo double bond next to a cut keeps its reference atom: cis and trans
polybutadiene stay two polymers. Direction needs no work: both ends are identical ``*`` atoms.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from rdkit import Chem, rdBase
from rdkit.Chem import rdqueries

from chiscreen.chem._rdkit import canonical_smiles, parse_smiles, renumber_canonical
from chiscreen.errors import InvalidPolymerError

_CAPS = ("H", "CH3")


_STAR = Chem.MolFromSmarts("[#0]")
_MAPPED = rdqueries.HasPropQueryAtom("molAtomMapNumber")  # atoms with an atom-map number


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
    for a in base.GetAtomsMatchingQuery(_MAPPED):  # one C++ pass finds the (rare) mapped atoms
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


def _window(chain: Chem.Mol, left: tuple[int, int], right: tuple[int, int],
            keep: set[int] | None = None, remove: list[int] | None = None) -> Chem.Mol:
    """The unit between two cuttable bonds of ``chain``, with '*' at both cuts.

    ``keep`` (optional) is the set of atoms between the cuts, outer atoms included, when the
    caller has it; else it is found by a walk from the left cut. ``remove`` (optional, from
    :func:`_windows`, whose chain is untagged) is its complement, given instead of ``keep``.
    """
    outer_l, inner_l = left
    inner_r, outer_r = right
    if keep is None and remove is None:
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
        # The new star keeps only its cut bond, which is never aromatic (a cut is acyclic and
        # non-aromatic); its other bonds go with the atoms removed below (a cut bond is a bridge,
        # so they lie outside the window): no bond needs editing.
    rw.BeginBatchEdit()  # one removal pass instead of one renumbering per removed atom
    for idx in (set(range(chain.GetNumAtoms())).difference(keep) if remove is None else remove):
        rw.RemoveAtom(idx)  # batch mode: the order of the calls does not matter
    rw.CommitBatchEdit()
    m = rw  # an RWMol is a Mol: no copy
    if remove is None and chain.GetNumAtoms() and chain.GetAtomWithIdx(0).HasProp("_orig"):
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


def _pieces(chain: Chem.Mol, cuts: list[tuple[int, int]]) -> list[tuple[int, ...]]:
    """The atoms of each piece of ``chain`` once every cuttable bond is cut, in backbone order:
    piece 0 holds the first '*', piece p (1 <= p <= len(cuts)) lies right of cut p-1 (cut bonds
    are acyclic, so each piece is a connected component; atom indices ascending)."""
    rw = Chem.RWMol(chain)
    for a, b in cuts:
        rw.RemoveBond(a, b)
    frags = Chem.GetMolFrags(rw.GetMol(), sanitizeFrags=False)
    frag_of = [0] * chain.GetNumAtoms()
    for k, atoms in enumerate(frags):
        for i in atoms:
            frag_of[i] = k
    return [frags[frag_of[cuts[0][0]]]] + [frags[frag_of[b]] for _, b in cuts]


def _windows(chain: Chem.Mol, cuts: list[tuple[int, int]], c: int) -> list[Chem.Mol]:
    """The ``c`` windows between ``cuts[i]`` and ``cuts[i + c]`` (i = 0 .. c-1), with '*' at both
    cuts: every rotation of the unit whose linear trimer is ``chain``.

    The pieces between the cuts are found once, and the chain is first trimmed to the atoms any
    window keeps (pieces 1 .. 2c-1 and the two outer atoms; never sanitized: every window turns
    the trimmed ends into '*' or drops them, then is sanitized itself), so each window copies and
    edits less. Window i keeps pieces i+1 .. i+c and its two outer atoms; the molecule is the one
    :func:`_window` gives with the kept atoms found by a walk (same atoms, same order).
    """
    pieces = _pieces(chain, cuts)
    outer_first, outer_last = cuts[0][0], cuts[2 * c - 1][1]
    region = sorted({outer_first, outer_last}.union(*pieces[1:2 * c]))
    inside = set(region)
    rw = Chem.RWMol(chain)
    rw.BeginBatchEdit()
    for idx in range(chain.GetNumAtoms()):
        if idx not in inside:
            rw.RemoveAtom(idx)
    rw.CommitBatchEdit()
    trimmed = rw.GetMol()
    new_idx = {old: new for new, old in enumerate(region)}
    # pieces 1 .. 2c-1 in trimmed indices (piece 0 is outside the region bar the outer atom)
    piece_new = [[]] + [[new_idx[a] for a in pieces[p]] for p in range(1, 2 * c)]
    first_new, last_new = new_idx[outer_first], new_idx[outer_last]
    out = []
    for i in range(c):
        left = (new_idx[cuts[i][0]], new_idx[cuts[i][1]])
        right = (new_idx[cuts[i + c][0]], new_idx[cuts[i + c][1]])
        remove = [first_new] if i > 0 else []
        for p in range(0, i + 1):
            remove.extend(piece_new[p])
        for p in range(i + c + 1, 2 * c):
            remove.extend(piece_new[p])
        if i < c - 1:
            remove.append(last_new)
        keep_outer = {left[0], right[1]}
        remove = [a for a in remove if a not in keep_outer]
        out.append(_window(trimmed, left, right, remove=remove))
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


_HETERO = Chem.MolFromSmarts("[!#6;!#0]")


def _piece_signatures(chain: Chem.Mol, cuts: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """(atoms, atoms other than C and '*') of each piece of ``chain`` (see :func:`_pieces`)."""
    hetero = {m[0] for m in chain.GetSubstructMatches(_HETERO, uniquify=False, maxMatches=1_000_000)}
    return [(len(p), len(hetero.intersection(p))) for p in _pieces(chain, cuts)]


def _reduce_period(unit: Chem.Mol) -> tuple[Chem.Mol, Chem.Mol | None]:
    """Smallest sub-unit whose repetition rebuilds ``unit``'s chain (``unit`` itself if none),
    and the linear trimer of ``unit`` when it was built and ``unit`` is kept (else None).

    A k-fold repeat (sub-period of j = c/k cuttable bonds) is confirmed by comparing oligomer
    SMILES. It is tried only when the pieces between cuttable bonds are j-periodic in size and
    heteroatom count, which every true repeat satisfies: equal SMILES mean the unit's dimer is
    isomorphic to the sub-unit's 2k-mer; cuttable bonds are graph properties (acyclic backbone
    bonds of the attachment bond's type), so the isomorphism maps the pieces of one onto the
    pieces of the other in order or reversed; the 2k-mer's pieces are j-periodic, hence so are
    the dimer's, and its inner pieces are the trimer's pieces 1 .. 2c-2. Units that fail the test
    skip only comparisons that could not succeed.
    """
    g = _formula_gcd(unit)
    if g == 1:
        return unit, None  # the common case: no sub-period is possible
    chain = _zip_chain(unit, 3, cyclic=False, tag=False)
    cuts = _backbone_cuts(chain)
    c = (len(cuts) + 1) // 3  # cuttable bonds per period
    ks = [k for k in range(c, 1, -1) if not (c % k or g % k)]  # largest number of sub-periods first
    if not ks:
        return unit, chain
    sig = _piece_signatures(chain, cuts)
    target = None
    for k in ks:
        j = c // k
        if any(sig[m] != sig[m + j] for m in range(1, 2 * c - 1 - j)):
            continue  # not j-periodic: cannot be k repeats (see above)
        if target is None:
            # the unit rotated to start where the sub-unit starts (cuts[0]): comparing oligomers of
            # the same phase (the unit as written starts elsewhere, and linear oligomers of two
            # phases differ in their end groups: '*CCOCCO*' was not found to be two '*CCO*')
            target = _linear_smiles(_window(chain, cuts[0], cuts[c]), 2)
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
    return [canonical_smiles(w) for w in _windows(chain, cuts, c)]


@lru_cache(maxsize=65536)
def canonical_repeat_unit(smiles: str) -> str:
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


@lru_cache(maxsize=65536)
def _unit_mol(canonical: str) -> Chem.Mol:
    return Chem.MolFromSmiles(canonical)


@dataclass(frozen=True, slots=True)
class RepeatUnit:
    """A polymer given by its repeat unit.

    Attributes:
        smiles: the SMILES as given.
        canonical: canonical repeat-unit SMILES (two '*'); the polymer's identity.
    """

    smiles: str
    canonical: str

    @classmethod
    def from_smiles(cls, smiles: str) -> "RepeatUnit":
        """Parse and canonicalize. Raises InvalidPolymerError naming the input and the problem."""
        if not isinstance(smiles, str):
            raise InvalidPolymerError(f"invalid repeat unit {smiles!r}: expected a SMILES string")
        return cls(smiles=smiles.strip(), canonical=canonical_repeat_unit(smiles.strip()))

    @property
    def mol(self) -> Chem.Mol:
        """The canonical unit as an RDKit Mol (with its two '*' atoms)."""
        return _unit_mol(self.canonical)

    @property
    def backbone_atoms(self) -> int:
        """Number of atoms on the shortest path between the two attachment points."""
        return _backbone_atoms(self.mol)

    def cyclic_oligomer(self, n: int = 10, explicit_h: bool = True) -> Chem.Mol:
        """Head-to-tail ring of ``n`` units (the reference representation: n = 10, explicit H).

        Atoms are in canonical order. Raises InvalidPolymerError if the ring would have fewer
        than 3 atoms.
        """
        if n < 1:
            raise InvalidPolymerError(f"cyclic oligomer of {self.canonical}: n={n}, expected >= 1")
        if self.backbone_atoms * n < 3:
            raise InvalidPolymerError(
                f"cyclic {n}-mer of {self.canonical} would be a ring of "
                f"{self.backbone_atoms * n} atoms, expected >= 3"
            )
        ring = _zip_chain(self.mol, n, cyclic=True)
        return _finish(ring, explicit_h)

    def linear_oligomer(self, n: int = 3, cap: str = "H", explicit_h: bool = False) -> Chem.Mol:
        """Linear ``n``-mer with both ends capped by ``cap`` ('H' or 'CH3'); canonical order."""
        if cap not in _CAPS:
            raise InvalidPolymerError(f"unknown cap {cap!r}, expected one of {_CAPS}")
        if n < 1:
            raise InvalidPolymerError(f"linear oligomer of {self.canonical}: n={n}, expected >= 1")
        chain = Chem.RWMol(_zip_chain(self.mol, n, cyclic=False))
        for idx in _stars(chain):
            a = chain.GetAtomWithIdx(idx)
            a.SetAtomicNum(1 if cap == "H" else 6)
            a.SetNoImplicit(cap == "H")
            a.SetNumExplicitHs(0)
        m = chain.GetMol()
        Chem.SanitizeMol(m)
        m = Chem.RemoveHs(m)
        return _finish(m, explicit_h)

    def __str__(self) -> str:
        return self.canonical


def _finish(mol: Chem.Mol, explicit_h: bool) -> Chem.Mol:
    for a in mol.GetAtoms():
        a.SetAtomMapNum(0)
        for p in ("_copy", "_orig"):
            if a.HasProp(p):
                a.ClearProp(p)
    mol = Chem.MolFromSmiles(canonical_smiles(mol))  # one canonical atom order
    mol = renumber_canonical(mol)
    return Chem.AddHs(mol) if explicit_h else mol
