"""``rdkit2d_periodic_fast``: the descriptors of ``rdkit2d_periodic`` with more shared intermediates.

Same 211 names in the same order, same per-repeat-unit scaling and ring counting as
:class:`chiscreen.features.fast2d.RDKit2DPeriodic`, and the same float32 values bit for bit (NaN
where it has NaN; tests/unit/features/test_fast2d_shared.py, bench/featurize_profile.py). Version 1
of ``rdkit2d_periodic`` is unchanged: models trained on it keep loading and predicting identically.
What changes is how the values are got (measured in ``bench/featurize_profile.py``):

* one Python pass over the atoms (atomic number, degree, H count, charge, radicals, mass, chiral
  tag, Gasteiger charge) with per-element constants looked up once;
* PEOE_VSA1-14, SlogP_VSA1-12, SMR_VSA1-10 and LabuteASA are bin sums of per-atom contributions
  computed once (Gasteiger charges; Crippen contributions of the heavy atoms of the explicit-H
  molecule, which are those of the implicit-H molecule; Labute contributions), instead of RDKit
  recomputing charges or contributions per call (RDKit's bins: lo <= x < hi);
* the four BCUT2D Burden matrices are diagonalised in one batched ``eigvalsh``;
* Kappa2/Kappa3 from path counts computed from degrees, Phi = Kappa1 Kappa2 / heavy atoms, and
  Chi2n-Chi4n = Chi2v-Chi4v on molecules without atoms past neon (:meth:`_graph_part`);
* ring counts from RDKit's C++ counts less the rings through a closure bond;
* fr_* SMARTS searched only where the molecule has the pattern's required elements;
* FpDensityMorgan1-3 from three C++ count-fingerprint passes; NumUnspecifiedAtomStereoCenters
  = NumAtomStereoCenters when no atom carries a chiral tag.

Every other descriptor is RDKit's own function as in version 1. Failures and non-finite values
give NaN (see the base module); a part that fails leaves its descriptors NaN. An instance keeps
per-call state between its parts: use one instance per thread (worker processes each build theirs).
"""
from __future__ import annotations

import re

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import FilterCatalog, MolSurf, rdFingerprintGenerator, rdMolDescriptors, rdPartialCharges
from rdkit.Chem.EState.EState import GetPrincipleQuantumNumber
from rdkit.Chem.EState.EState_VSA import estateBins, vsaBins

from chiscreen.features.base import FEATURIZERS
from chiscreen.features.fast2d import _RINGS, RDKit2DPeriodic
from chiscreen.features.periodic import CLOSURE_PROP, UNITS_PROP

_PT = Chem.GetPeriodicTable()
_MORGAN = tuple(rdFingerprintGenerator.GetMorganGenerator(radius=r) for r in (1, 2, 3))
_CHG_BINS = np.asarray(MolSurf.chgBins, dtype=np.float64)
_LOGP_BINS = np.asarray(MolSurf.logpBins, dtype=np.float64)
_MR_BINS = np.asarray(MolSurf.mrBins, dtype=np.float64)
_ESTATE_BINS = np.asarray(estateBins, dtype=np.float64)
_VSA_BINS = np.asarray(vsaBins, dtype=np.float64)
_SINGLE = Chem.BondType.SINGLE
_UNSPECIFIED = Chem.ChiralType.CHI_UNSPECIFIED
_RING_FUNCS = (rdMolDescriptors.CalcNumRings, rdMolDescriptors.CalcNumAromaticRings,
               rdMolDescriptors.CalcNumAliphaticRings, rdMolDescriptors.CalcNumSaturatedRings,
               rdMolDescriptors.CalcNumHeterocycles, rdMolDescriptors.CalcNumAromaticHeterocycles,
               rdMolDescriptors.CalcNumAromaticCarbocycles, rdMolDescriptors.CalcNumAliphaticHeterocycles,
               rdMolDescriptors.CalcNumAliphaticCarbocycles, rdMolDescriptors.CalcNumSaturatedHeterocycles,
               rdMolDescriptors.CalcNumSaturatedCarbocycles)

_GRAPH = ("Chi2n", "Chi3n", "Chi4n", "Kappa2", "Kappa3")

_SYMBOLS = {"C": 6, "c": 6, "N": 7, "n": 7, "O": 8, "o": 8, "S": 16, "s": 16, "P": 15, "p": 15, "F": 9, "Cl": 17,
            "Br": 35, "I": 53, "B": 5, "b": 5, "Si": 14, "Se": 34, "se": 34}
_NUMBER = re.compile(r"#(\d+)")


def _split_top(text: str, sep: str) -> list[str]:
    """Split ``text`` at ``sep`` outside parentheses and brackets."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _atom_requires(smarts: str) -> frozenset[int]:
    """Elements that a molecule must contain for one SMARTS atom expression to match anywhere.

    Precedence as SMARTS: ';' (and) < ',' (or) < '&' (and); an AND requires the union of its
    terms' elements, an OR the intersection; ``$(...)`` requires every element its recursive
    pattern requires; an element primitive (``#7``, ``N``, ``n``, ``Cl``, ...) requires itself;
    negations and every other primitive require nothing (sound, not complete).
    """
    text = smarts[1:-1] if smarts.startswith("[") and smarts.endswith("]") else smarts

    def term(t: str) -> frozenset[int]:
        if t.startswith("$(") and t.endswith(")"):
            q = Chem.MolFromSmarts(t[2:-1])
            return required_elements(q) if q is not None else frozenset()
        m = _NUMBER.fullmatch(t)
        if m:
            return frozenset((int(m.group(1)),))
        return frozenset((_SYMBOLS[t],)) if t in _SYMBOLS else frozenset()

    def conj(parts: list[str], each) -> frozenset[int]:
        out: frozenset[int] = frozenset()
        for p in parts:
            out |= each(p)
        return out

    def disj(t: str) -> frozenset[int]:
        alts = [conj(_split_top(a, "&"), term) for a in _split_top(t, ",")]
        out = alts[0]
        for a in alts[1:]:
            out &= a
        return out

    return conj(_split_top(text, ";"), disj)


def required_elements(query: Chem.Mol) -> frozenset[int]:
    """Atomic numbers that any match of a SMARTS query must contain (a subset: sound, not complete):
    the union over its atoms of :func:`_atom_requires`."""
    out: frozenset[int] = frozenset()
    for a in query.GetAtoms():
        out |= _atom_requires(a.GetSmarts())
    return out


_ELEMENT: dict[int, tuple[float, float]] = {}


def _element(z: int) -> tuple[float, float]:
    """(outer electrons, principal quantum number) of element z, cached."""
    v = _ELEMENT.get(z)
    if v is None:
        v = _ELEMENT[z] = (float(_PT.GetNOuterElecs(z)), float(GetPrincipleQuantumNumber(z)))
    return v


def _bins(values: np.ndarray, edges: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Sum of ``weights`` per bin (edges[i-1] <= value < edges[i]; len(edges) + 1 bins)."""
    return np.bincount(np.searchsorted(edges, values, side="right"), weights=weights, minlength=len(edges) + 1)


@FEATURIZERS.register("rdkit2d_periodic_fast")
class RDKit2DPeriodicFast(RDKit2DPeriodic):
    """``rdkit2d_periodic``'s 211 descriptors with shared intermediates (module docstring)."""

    name = "rdkit2d_periodic_fast"
    version = "1"

    def __init__(self) -> None:
        super().__init__()
        ix = self._index
        self._peoe = [ix[f"PEOE_VSA{i}"] for i in range(1, len(_CHG_BINS) + 2)]
        self._slogp = [ix[f"SlogP_VSA{i}"] for i in range(1, len(_LOGP_BINS) + 2)]
        self._smr = [ix[f"SMR_VSA{i}"] for i in range(1, len(_MR_BINS) + 2)]
        replaced = {self._names[i] for i in self._peoe + self._slogp + self._smr} | {"LabuteASA", "Phi"}
        self._funcs = [(i, n, f) for i, n, f in self._funcs if n not in replaced]
        # computed from the graph after the other descriptors where the molecule allows it (else RDKit's)
        self._graph = {n: f for i, n, f in self._funcs if n in _GRAPH}
        self._funcs = [(i, n, f) for i, n, f in self._funcs if n not in _GRAPH]
        self._frag_req = {i: required_elements(q) for i, q in self._frags.items()}
        self._frag_cats: dict[frozenset[int], FilterCatalog.FilterCatalog] = {}
        self._ring_ix = [ix[n] for n in _RINGS]
        self._morgan_ix = [ix[f"FpDensityMorgan{r}"] for r in (1, 2, 3)]

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        k = self._units(mol)
        out = np.full(len(self._names), np.nan, dtype=np.float64)
        self._chiral_tags = None  # set by _atoms_fast: does any atom carry a chiral tag
        self._elements = None  # set by _atoms_fast: atomic numbers present
        self._graph_state = None  # set by _atoms_fast: (degrees, adjacency, largest Z, any atom with Z <= 1)
        ix = self._index
        with rdBase.BlockLogs():
            self._fill(mol, out, (self._atoms_fast, self._rings_fast, self._morgan_fast, self._stereo_fast,
                                  self._frag_fast))
            try:
                self._graph_part(mol, out)
            except Exception:
                pass
            # Phi = Kappa1 * Kappa2 / heavy atoms (RDKit's definition; NaN if either is)
            nh = mol.GetNumHeavyAtoms()
            out[ix["Phi"]] = out[ix["Kappa1"]] * out[ix["Kappa2"]] / nh if nh else np.nan
        return self._per_unit(out, k)

    def _graph_part(self, mol: Chem.Mol, out: np.ndarray) -> None:
        """Kappa2, Kappa3 from path counts, Chi2n-Chi4n from Chi2v-Chi4v, where exact; else RDKit's.

        RDKit's kappa shape indices count the bond paths of length 2 and 3 (no H atoms): P2 = sum
        over atoms of C(degree, 2); P3 = sum over bonds (b, c) of (deg b - 1)(deg c - 1), less two
        per 3-membered ring (each triangle is three such products, but one 3-bond path). RDKit's
        ChiNn and ChiNv differ only in the valence delta of atoms past neon (no division by the
        core electrons), so on a molecule with atomic numbers <= 10 they are the same numbers.
        A molecule with explicit H atoms, or where the atom part failed, gets RDKit's functions.
        """
        ix = self._index
        st = self._graph_state
        if st is None or st[3]:
            for n, f in self._graph.items():
                try:
                    out[ix[n]] = float(f(mol))
                except Exception:
                    pass
            return
        deg, adj, zmax = st[0], st[1], st[2]
        for L in (2, 3, 4):
            out[ix[f"Chi{L}n"]] = out[ix[f"Chi{L}v"]] if zmax <= 10 else float(self._graph[f"Chi{L}n"](mol))
        A = float(mol.GetNumHeavyAtoms())
        alpha = out[ix["HallKierAlpha"]]
        p2 = float((deg * (deg - 1.0)).sum() / 2.0)
        i, j = np.nonzero(np.triu(adj))
        tri = float(np.trace(adj @ adj @ adj)) / 6.0 if adj.shape[0] else 0.0
        p3 = float(((deg[i] - 1.0) * (deg[j] - 1.0)).sum()) - 2.0 * tri
        d2, d3 = p2 + alpha, p3 + alpha
        out[ix["Kappa2"]] = (A + alpha - 1) * (A + alpha - 2) * (A + alpha - 2) / (d2 * d2) if d2 else 0.0
        if d3:
            head = (A + alpha - 1) if int(A) % 2 else (A + alpha - 2)
            out[ix["Kappa3"]] = head * (A + alpha - 3) * (A + alpha - 3) / (d3 * d3)
        else:
            out[ix["Kappa3"]] = 0.0

    def _frag_fast(self, mol: Chem.Mol, out: np.ndarray) -> None:
        """fr_* counts (unique matches, as rdkit.Chem.Fragments): one C++ FilterCatalog pass over
        the patterns whose required elements (:func:`required_elements`) the molecule has (one
        catalog per element set, built once), then matches counted for the patterns present."""
        elements = self._elements
        if elements is None:
            elements = frozenset(a.GetAtomicNum() for a in mol.GetAtoms())
        cat = self._frag_cats.get(elements)
        if cat is None:
            cat = FilterCatalog.FilterCatalog()
            for i, q in self._frags.items():
                if self._frag_req[i] <= elements:
                    cat.AddEntry(FilterCatalog.FilterCatalogEntry(str(i), FilterCatalog.SmartsMatcher(str(i), q, 1)))
            self._frag_cats[elements] = cat
        out[self._frag_index] = 0.0
        for e in cat.GetMatches(mol):
            i = int(e.GetDescription())
            out[i] = float(len(mol.GetSubstructMatches(self._frags[i], uniquify=True)))

    def _stereo_fast(self, mol: Chem.Mol, out: np.ndarray) -> None:
        """NumAtomStereoCenters (RDKit's); NumUnspecifiedAtomStereoCenters equals it when no atom
        carries a chiral tag (every potential centre is then unspecified), else RDKit's."""
        n = float(rdMolDescriptors.CalcNumAtomStereoCenters(mol))
        out[self._index["NumAtomStereoCenters"]] = n
        out[self._index["NumUnspecifiedAtomStereoCenters"]] = n if self._chiral_tags is False else float(
            rdMolDescriptors.CalcNumUnspecifiedAtomStereoCenters(mol))

    def _atoms_fast(self, mol: Chem.Mol, out: np.ndarray) -> None:
        """E-state, Gasteiger charges and PEOE_VSA, Crippen (logP, MR, SlogP/SMR_VSA), Labute ASA,
        BCUT2D, Chi0/1, valence and radical electrons, from per-atom arrays computed once."""
        ix = self._index
        try:  # RDKit's BCUT2D needs Gasteiger parameters for every element (else all NaN)
            rdPartialCharges.ComputeGasteigerCharges(mol, throwOnParamFailure=True)
            bcut_ok = True
        except Exception:
            rdPartialCharges.ComputeGasteigerCharges(mol)
            bcut_ok = False
        rows = []
        tagged = False
        zs = []
        for a in mol.GetAtoms():
            z = a.GetAtomicNum()
            zs.append(z)
            outer, pqn = _element(z)
            tagged = tagged or a.GetChiralTag() != _UNSPECIFIED
            rows.append((outer, pqn, a.GetDegree(), a.GetTotalNumHs(), a.GetFormalCharge(), a.GetNumRadicalElectrons(),
                         a.GetMass(), a.GetDoubleProp("_GasteigerCharge")))
        self._chiral_tags = tagged
        outer, pqn, deg, nh, fc, rad, mass, chg = np.array(rows, dtype=np.float64).T
        # E-state indices (Hall, Mohney, Kier 1991), as rdkit.Chem.EState.EStateIndices
        Is = np.where(deg > 0, (4.0 / (pqn * pqn) * (outer - nh) + 1.0) / np.maximum(deg, 1.0), 0.0)
        dist = Chem.GetDistanceMatrix(mol, useBO=False, useAtomWts=False) + 1.0
        w = np.where(dist < 1e6, 1.0 / (dist * dist), 0.0)
        np.fill_diagonal(w, 0.0)
        es = Is + ((Is[:, None] - Is[None, :]) * w).sum(axis=1)  # v1's very expression: an E-state on a bin edge
        aes = np.abs(es)
        out[ix["MaxEStateIndex"]], out[ix["MinEStateIndex"]] = es.max(), es.min()
        out[ix["MaxAbsEStateIndex"]], out[ix["MinAbsEStateIndex"]] = aes.max(), aes.min()
        contribs, h_contrib = rdMolDescriptors._CalcLabuteASAContribs(mol)
        vsa = np.asarray(contribs, dtype=np.float64)
        out[ix["LabuteASA"]] = vsa.sum() + h_contrib
        out[self._esvsa] = _bins(es, _ESTATE_BINS, vsa)
        out[self._vsaes] = _bins(vsa, _VSA_BINS, es)
        # Gasteiger extremes as rdkit.Chem.Descriptors._ChargeDescriptors (NaN charges propagate the
        # same way: min/max over Python floats starting from +-500)
        lo, hi = 500.0, -500.0
        for c in chg.tolist():
            lo, hi = min(c, lo), max(c, hi)
        out[ix["MaxPartialCharge"]], out[ix["MinPartialCharge"]] = hi, lo
        out[ix["MaxAbsPartialCharge"]] = max(abs(lo), abs(hi))
        out[ix["MinAbsPartialCharge"]] = min(abs(lo), abs(hi))
        if bcut_ok and np.isfinite(chg).all():
            out[self._peoe] = _bins(chg, _CHG_BINS, vsa)
        else:  # elements without Gasteiger parameters: RDKit's own PEOE_VSA (its charges differ then)
            out[self._peoe] = rdMolDescriptors.PEOE_VSA_(mol)
        # Crippen contributions once, on the molecule with explicit H: MolLogP/MolMR are their sums
        # (as CalcCrippenDescriptors); the heavy atoms' are those of the implicit-H molecule, which
        # RDKit's SlogP_VSA/SMR_VSA and BCUT2D use
        n = mol.GetNumAtoms()
        crip = np.asarray(rdMolDescriptors._CalcCrippenContribs(Chem.AddHs(mol)), dtype=np.float64)
        out[ix["MolLogP"]], out[ix["MolMR"]] = crip[:, 0].sum(), crip[:, 1].sum()
        logp, mr = crip[:n, 0], crip[:n, 1]
        out[self._slogp] = _bins(logp, _LOGP_BINS, vsa)
        out[self._smr] = _bins(mr, _MR_BINS, vsa)
        bo = Chem.GetAdjacencyMatrix(mol, useBO=True).astype(np.float64)
        self._graph_state = (deg, (bo > 0).astype(np.float64), max(zs), min(zs) <= 1)
        self._elements = frozenset(zs)
        if bcut_ok:
            # Burden matrices as RDKit's BCUT2D: 1/sqrt(bond order) for bonds, 0.001 elsewhere, the
            # atom property on the diagonal; highest and lowest eigenvalue of each, one batched call
            burden = np.where(bo > 0, 1.0 / np.sqrt(np.where(bo > 0, bo, 1.0)), 0.001)
            stack = np.broadcast_to(burden, (4, n, n)).copy()
            d = np.arange(n)
            stack[:, d, d] = np.stack((mass, chg, logp, mr))
            e = np.linalg.eigvalsh(stack)
            out[self._bcut] = np.stack((e[:, -1], e[:, 0]), axis=1).ravel()
        dh = deg[deg > 0]
        out[ix["Chi0"]] = float(np.sqrt(1.0 / dh).sum()) if dh.size else 0.0
        if mol.GetNumBonds():
            i, j = np.nonzero(np.triu(bo > 0))
            p = deg[i] * deg[j]
            p = p[p > 0]
            out[ix["Chi1"]] = float(np.sqrt(1.0 / p).sum())
        else:
            out[ix["Chi1"]] = 0.0
        out[ix["NumValenceElectrons"]] = float((outer - fc + nh).sum())
        out[ix["NumRadicalElectrons"]] = float(rad.sum())

    def _closure_bonds(self, mol: Chem.Mol) -> set[int]:
        """Indices of the bonds that close the periodic ring. ``periodic_ring`` adds them last, so
        on a molecule with ``chiscreen_units`` = k they are the last k bonds (checked; any other
        molecule is scanned)."""
        nb = mol.GetNumBonds()
        if mol.HasProp(UNITS_PROP):
            k = mol.GetIntProp(UNITS_PROP)
            last = range(max(0, nb - k), nb)
            if len(last) == k and all(mol.GetBondWithIdx(b).HasProp(CLOSURE_PROP) for b in last) and \
                    (nb == k or not mol.GetBondWithIdx(nb - k - 1).HasProp(CLOSURE_PROP)):
                return set(last)
        return {b.GetIdx() for b in mol.GetBonds() if b.HasProp(CLOSURE_PROP)}

    def _rings_fast(self, mol: Chem.Mol, out: np.ndarray) -> None:
        """Ring counts per repeat unit, as :func:`chiscreen.features.fast2d._ring_counts`: RDKit's
        C++ counts over all SSSR rings, less the rings that contain a closure bond (classified here
        with the same definitions)."""
        c = [float(f(mol)) for f in _RING_FUNCS]  # order of _RINGS
        closure = self._closure_bonds(mol)
        if closure:
            ri = mol.GetRingInfo()
            for atoms, bonds in zip(ri.AtomRings(), ri.BondRings()):
                if closure.isdisjoint(bonds):
                    continue
                bl = [mol.GetBondWithIdx(b) for b in bonds]
                ar = all(b.GetIsAromatic() for b in bl)
                sat = not ar and all(b.GetBondType() == _SINGLE for b in bl)
                het = any(mol.GetAtomWithIdx(a).GetAtomicNum() != 6 for a in atoms)
                c[0] -= 1  # RingCount
                c[4] -= het  # NumHeterocycles
                if ar:
                    c[1] -= 1
                    c[5 if het else 6] -= 1
                else:
                    c[2] -= 1
                    c[7 if het else 8] -= 1
                if sat:
                    c[3] -= 1
                    c[9 if het else 10] -= 1
        out[self._ring_ix] = np.asarray(c) / self._units(mol)

    def _morgan_fast(self, mol: Chem.Mol, out: np.ndarray) -> None:
        """FpDensityMorgan1-3: distinct Morgan environments of radius <= r / heavy atoms (RDKit's)."""
        nh = mol.GetNumHeavyAtoms()
        out[self._morgan_ix] = [len(g.GetSparseCountFingerprint(mol).GetNonzeroElements()) / nh if nh else 0.0
                                for g in _MORGAN]
