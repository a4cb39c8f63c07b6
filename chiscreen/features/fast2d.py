"""``rdkit2d_periodic``: RDKit 2D descriptors per repeat unit, computed once per molecule.

The same descriptor definitions as ``rdkit2d`` (``rdkit.Chem.Descriptors.descList``, RDKit's own
functions), with three changes measured in ``bench/featurize_profile.py``:

1. Per repeat unit. On a molecule that stands for k repeat units (the ``periodic`` representation
   stores k as the int property ``chiscreen_units``; any other molecule counts as k = 1),
   extensive descriptors (sums over atoms, bonds, paths or fragments: MolWt, counts, Chi, VSA
   bins, TPSA, logP, MR, fr_*, Kappa, ...) are divided by k; intensive ones (max/min partial
   charge and E-state, BCUT2D, FractionCSP3) are kept; FpDensityMorgan* (distinct environments
   per atom) is multiplied by k, i.e. distinct environments per atom of one unit. On the
   periodic ring of ``periodic:6`` the local descriptors then equal the cyclic trimer's divided
   by 3 (vinyl polymers: the same molecule).
2. Ring counts (RingCount, Num*Rings, Num*cycles) count the rings of the repeat unit: the ring
   that closes the backbone (an artefact of the cyclic representation, duplicated 2^p times by
   symmetrized SSSR on backbones with p para-phenylenes in ``rdkit2d``/cyclic:3) is left out.
3. Dropped, because their cost explodes with size or they are not defined per repeat unit:
   qed (a drug-likeness score; 2.2 ms of the unit's 10.5 ms, 7-9 s on large aromatics),
   SPS, Ipc and AvgIpc (explode on oligomers, atom-order dependent), BertzCT and BalabanJ
   (whole-graph indices that change with the ring size). Shared intermediates (E-state indices,
   Crippen, Gasteiger, Labute contributions) are computed once per molecule.

Failures and non-finite values give NaN (see the base module).
"""
from __future__ import annotations

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors, FilterCatalog, Fragments, rdFingerprintGenerator, rdMolDescriptors, rdPartialCharges
from rdkit.Chem.EState import EStateIndices
from rdkit.Chem.EState.EState import GetPrincipleQuantumNumber
from rdkit.Chem.EState.EState_VSA import estateBins, vsaBins

from chiscreen.features.base import FEATURIZERS, to_float32
from chiscreen.features.periodic import CLOSURE_PROP, UNITS_PROP

DROPPED = ("qed", "SPS", "Ipc", "AvgIpc", "BertzCT", "BalabanJ")
_ESTATE = ("MaxAbsEStateIndex", "MaxEStateIndex", "MinAbsEStateIndex", "MinEStateIndex")
_RINGS = ("RingCount", "NumAromaticRings", "NumAliphaticRings", "NumSaturatedRings", "NumHeterocycles",
          "NumAromaticHeterocycles", "NumAromaticCarbocycles", "NumAliphaticHeterocycles",
          "NumAliphaticCarbocycles", "NumSaturatedHeterocycles", "NumSaturatedCarbocycles")
INTENSIVE = frozenset(_ESTATE + ("MaxPartialCharge", "MinPartialCharge", "MaxAbsPartialCharge",
                                 "MinAbsPartialCharge", "FractionCSP3")
                      + tuple(n for n, _ in Descriptors.descList if n.startswith("BCUT2D_")))
PER_ATOM = frozenset(("FpDensityMorgan1", "FpDensityMorgan2", "FpDensityMorgan3"))


def _ring_counts(mol: Chem.Mol, k: int) -> dict[str, float]:
    """RDKit's ring-count descriptors over the SSSR rings of the repeat unit (closing ring left out).

    A ring counts as aromatic if all its bonds are aromatic, aliphatic otherwise, saturated if
    all its bonds are non-aromatic single bonds; hetero if any ring atom is not carbon (RDKit's
    definitions). Rings that contain a bond with the bool property ``chiscreen_closure`` (the
    bonds that close the periodic ring) are left out. Counts are per repeat unit (divided by k).
    """
    ri = mol.GetRingInfo()
    closure = {b.GetIdx() for b in mol.GetBonds() if b.HasProp(CLOSURE_PROP)}
    c = dict.fromkeys(_RINGS, 0.0)
    for atoms, bonds in zip(ri.AtomRings(), ri.BondRings()):
        if closure and not closure.isdisjoint(bonds):
            continue
        bl = [mol.GetBondWithIdx(b) for b in bonds]
        arom = all(b.GetIsAromatic() for b in bl)
        sat = not arom and all(b.GetBondType() == Chem.BondType.SINGLE for b in bl)
        het = any(mol.GetAtomWithIdx(a).GetAtomicNum() != 6 for a in atoms)
        c["RingCount"] += 1
        c["NumHeterocycles"] += het
        if arom:
            c["NumAromaticRings"] += 1
            c["NumAromaticHeterocycles" if het else "NumAromaticCarbocycles"] += 1
        else:
            c["NumAliphaticRings"] += 1
            c["NumAliphaticHeterocycles" if het else "NumAliphaticCarbocycles"] += 1
        if sat:
            c["NumSaturatedRings"] += 1
            c["NumSaturatedHeterocycles" if het else "NumSaturatedCarbocycles"] += 1
    return {n: v / k for n, v in c.items()}



_PT = Chem.GetPeriodicTable()
_MORGAN3 = rdFingerprintGenerator.GetMorganGenerator(radius=3)
_FAST = frozenset(("Chi0", "Chi1", "NumValenceElectrons", "NumRadicalElectrons", "FpDensityMorgan1",
                   "FpDensityMorgan2", "FpDensityMorgan3", "NumAtomStereoCenters",
                   "NumUnspecifiedAtomStereoCenters", "MaxPartialCharge", "MinPartialCharge",
                   "MaxAbsPartialCharge", "MinAbsPartialCharge", "MolLogP", "MolMR")
                  + tuple(n for n, _ in Descriptors.descList if n.startswith("BCUT2D_"))
                  + tuple(f"EState_VSA{i}" for i in range(1, len(estateBins) + 2))
                  + tuple(f"VSA_EState{i}" for i in range(1, len(vsaBins) + 2)))


def _fragment_patterns() -> dict[str, Chem.Mol]:
    """name -> SMARTS query of RDKit's fr_* descriptors (Fragments module)."""
    out = {}
    for name, fn in Fragments.fns:
        patt = (fn.__defaults__ or (None, None))[-1]
        if isinstance(patt, Chem.Mol):
            out[name] = patt
    return out


@FEATURIZERS.register("rdkit2d_periodic")
class RDKit2DPeriodic:
    """RDKit 2D descriptors per repeat unit (module docstring); 211 values, ``descList`` order.

    ``__call__`` computes shared parts once: E-state indices and Labute contributions (for the
    four E-state extremes and the 21 EState_VSA/VSA_EState bins), heavy-atom degrees (Chi0, Chi1,
    valence and radical electrons), one radius-3 Morgan pass (FpDensityMorgan1-3), one stereo
    perception, and finds which of the 85 fr_* SMARTS are present in one C++ FilterCatalog pass
    before counting matches of those only. ``reference(mol)`` gives the same vector with RDKit's
    descriptor functions called one by one (tests compare the two).
    """

    name = "rdkit2d_periodic"
    version = "1"

    def __init__(self) -> None:
        kept = [(n, f) for n, f in Descriptors.descList if n not in DROPPED]
        self._names = [n for n, _ in kept]
        self._index = {n: i for i, n in enumerate(self._names)}
        frags = _fragment_patterns()
        special = set(_ESTATE) | set(_RINGS) | _FAST | set(frags)
        self._funcs = [(i, n, f) for i, (n, f) in enumerate(kept) if n not in special]
        self._all = [(i, n, f) for i, (n, f) in enumerate(kept) if n not in set(_ESTATE) | set(_RINGS)]
        # fr_* SMARTS: one C++ FilterCatalog pass finds the patterns present (~6 of 85 on enumerated
        # polymers); only those are counted
        self._frags = {self._index[n]: q for n, q in frags.items() if n in self._index}
        self._catalog = FilterCatalog.FilterCatalog()
        for i, q in self._frags.items():
            self._catalog.AddEntry(FilterCatalog.FilterCatalogEntry(str(i), FilterCatalog.SmartsMatcher(str(i), q, 1)))
        self._frag_index = list(self._frags)
        # how a value on k units becomes per unit: divide (extensive), keep (intensive, and the
        # ring counts, which _ring_counts already gives per unit), multiply (per-atom densities)
        self._extensive = np.array([n not in INTENSIVE and n not in PER_ATOM and n not in _RINGS for n in self._names])
        self._per_atom = np.array([n in PER_ATOM for n in self._names])
        self._esvsa = [self._index[f"EState_VSA{i}"] for i in range(1, len(estateBins) + 2)]
        self._vsaes = [self._index[f"VSA_EState{i}"] for i in range(1, len(vsaBins) + 2)]
        self._bcut = [self._index[n] for n in self._names if n.startswith("BCUT2D_")]

    @property
    def feature_names(self) -> list[str]:
        return list(self._names)

    def __len__(self) -> int:
        return len(self._names)

    @staticmethod
    def _units(mol: Chem.Mol) -> int:
        return mol.GetIntProp(UNITS_PROP) if mol.HasProp(UNITS_PROP) else 1

    def _per_unit(self, out: np.ndarray, k: int) -> np.ndarray:
        if k != 1:
            out[self._extensive] /= k
            out[self._per_atom] *= k
        return to_float32(out)

    def _common(self, mol: Chem.Mol, out: np.ndarray, k: int) -> None:
        ix = self._index
        es = np.asarray(EStateIndices(mol, force=True), dtype=np.float64)
        out[ix["MaxEStateIndex"]] = es.max()
        out[ix["MinEStateIndex"]] = es.min()
        out[ix["MaxAbsEStateIndex"]] = np.abs(es).max()
        out[ix["MinAbsEStateIndex"]] = np.abs(es).min()
        for n, v in _ring_counts(mol, k).items():
            out[ix[n]] = v

    def _atoms_part(self, mol: Chem.Mol, out: np.ndarray) -> None:
        """E-state (vectorised RDKit definition), charges, BCUT2D, Crippen, Chi0/1, electrons."""
        ix = self._index
        try:  # RDKit's BCUT2D needs Gasteiger parameters for every element (else all NaN)
            rdPartialCharges.ComputeGasteigerCharges(mol, throwOnParamFailure=True)
            bcut_ok = True
        except Exception:
            rdPartialCharges.ComputeGasteigerCharges(mol)
            bcut_ok = False
        rows = [(a.GetAtomicNum(), a.GetDegree(), a.GetTotalNumHs(), a.GetFormalCharge(), a.GetNumRadicalElectrons(),
                 a.GetMass(), a.GetDoubleProp("_GasteigerCharge")) for a in mol.GetAtoms()]
        z, deg, nh, fc, rad, mass, chg = (np.array(c, dtype=np.float64) for c in zip(*rows))
        outer = np.array([_PT.GetNOuterElecs(int(a)) for a in z], dtype=np.float64)
        # E-state indices (Hall, Mohney, Kier 1991), as rdkit.Chem.EState.EStateIndices
        pqn = np.array([GetPrincipleQuantumNumber(int(a)) for a in z], dtype=np.float64)
        Is = np.where(deg > 0, (4.0 / (pqn * pqn) * (outer - nh) + 1.0) / np.where(deg > 0, deg, 1.0), 0.0)
        dist = Chem.GetDistanceMatrix(mol, useBO=False, useAtomWts=False) + 1.0
        w = np.where(dist < 1e6, 1.0 / (dist * dist), 0.0)
        np.fill_diagonal(w, 0.0)
        es = Is + ((Is[:, None] - Is[None, :]) * w).sum(axis=1)
        out[ix["MaxEStateIndex"]] = es.max()
        out[ix["MinEStateIndex"]] = es.min()
        out[ix["MaxAbsEStateIndex"]] = np.abs(es).max()
        out[ix["MinAbsEStateIndex"]] = np.abs(es).min()
        vsa = np.asarray(rdMolDescriptors._CalcLabuteASAContribs(mol)[0], dtype=np.float64)
        out[self._esvsa] = np.bincount(np.searchsorted(estateBins, es, side="right"), weights=vsa,
                                       minlength=len(estateBins) + 1)
        out[self._vsaes] = np.bincount(np.searchsorted(vsaBins, vsa, side="right"), weights=es,
                                       minlength=len(vsaBins) + 1)
        # Gasteiger extremes exactly as rdkit.Chem.Descriptors._ChargeDescriptors
        lo, hi = 500.0, -500.0
        for c in chg.tolist():
            lo, hi = min(c, lo), max(c, hi)
        out[ix["MaxPartialCharge"]], out[ix["MinPartialCharge"]] = hi, lo
        out[ix["MaxAbsPartialCharge"]] = max(abs(lo), abs(hi))
        out[ix["MinAbsPartialCharge"]] = min(abs(lo), abs(hi))
        # Crippen contributions once, on the molecule with explicit H: MolLogP/MolMR are their sums
        # (as CalcCrippenDescriptors), BCUT2D uses the heavy atoms' (as RDKit's BCUT2D, whose
        # implicit-H contributions are the same numbers)
        n = mol.GetNumAtoms()
        crip = np.asarray(rdMolDescriptors._CalcCrippenContribs(Chem.AddHs(mol)), dtype=np.float64)
        out[ix["MolLogP"]], out[ix["MolMR"]] = crip[:, 0].sum(), crip[:, 1].sum()
        bo = Chem.GetAdjacencyMatrix(mol, useBO=True).astype(np.float64)
        if bcut_ok:
            # Burden matrix as RDKit's BCUT2D: 1/sqrt(bond order) for bonds, 0.001 elsewhere,
            # the atom property on the diagonal; highest and lowest eigenvalue
            burden = np.where(bo > 0, 1.0 / np.sqrt(np.where(bo > 0, bo, 1.0)), 0.001)
            bcut = []
            for prop in (mass, chg, crip[:n, 0], crip[:n, 1]):
                np.fill_diagonal(burden, prop)
                e = np.linalg.eigvalsh(burden)
                bcut.extend((e[-1], e[0]))
            out[self._bcut] = bcut
        d = deg[deg > 0]
        out[ix["Chi0"]] = float(np.sqrt(1.0 / d).sum()) if d.size else 0.0
        if mol.GetNumBonds():
            i, j = np.nonzero(np.triu(bo > 0))
            p = deg[i] * deg[j]
            p = p[p > 0]
            out[ix["Chi1"]] = float(np.sqrt(1.0 / p).sum())
        else:
            out[ix["Chi1"]] = 0.0
        out[ix["NumValenceElectrons"]] = float((outer - fc + nh).sum())
        out[ix["NumRadicalElectrons"]] = float(rad.sum())

    def _fill(self, mol: Chem.Mol, out: np.ndarray, parts) -> None:
        """Run each part (fills its slots of ``out``) and then RDKit's remaining descriptor
        functions; a part or function that raises leaves its slots NaN. Call inside BlockLogs."""
        for part in parts:
            try:
                part(mol, out)
            except Exception:
                pass
        for i, _name, fn in self._funcs:
            try:
                out[i] = float(fn(mol))
            except Exception:
                pass

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        k = self._units(mol)
        out = np.full(len(self._names), np.nan, dtype=np.float64)
        with rdBase.BlockLogs():
            self._fill(mol, out, (self._atoms_part, self._rings_part, self._morgan_part, self._stereo_part,
                                  self._frag_part))
        return self._per_unit(out, k)

    def _rings_part(self, mol: Chem.Mol, out: np.ndarray) -> None:
        for n, v in _ring_counts(mol, self._units(mol)).items():
            out[self._index[n]] = v

    def _morgan_part(self, mol: Chem.Mol, out: np.ndarray) -> None:
        """FpDensityMorgan1-3 from one radius-3 pass: distinct environments of radius <= r / heavy atoms."""
        ao = rdFingerprintGenerator.AdditionalOutput()
        ao.AllocateBitInfoMap()
        _MORGAN3.GetSparseCountFingerprint(mol, additionalOutput=ao)
        first = [min(r for _, r in envs) for envs in ao.GetBitInfoMap().values()]
        nh = mol.GetNumHeavyAtoms()
        for r in (1, 2, 3):
            out[self._index[f"FpDensityMorgan{r}"]] = sum(1 for f in first if f <= r) / nh if nh else 0.0

    def _stereo_part(self, mol: Chem.Mol, out: np.ndarray) -> None:
        out[self._index["NumAtomStereoCenters"]] = float(rdMolDescriptors.CalcNumAtomStereoCenters(mol))
        out[self._index["NumUnspecifiedAtomStereoCenters"]] = float(
            rdMolDescriptors.CalcNumUnspecifiedAtomStereoCenters(mol))

    def _frag_part(self, mol: Chem.Mol, out: np.ndarray) -> None:
        """fr_* counts (unique matches, as rdkit.Chem.Fragments), searched only where present."""
        out[self._frag_index] = 0.0
        for e in self._catalog.GetMatches(mol):
            i = int(e.GetDescription())
            out[i] = float(len(mol.GetSubstructMatches(self._frags[i], uniquify=True)))

    def reference(self, mol: Chem.Mol) -> np.ndarray:
        """The same vector from RDKit's descriptor functions one by one (slow; for tests)."""
        k = self._units(mol)
        out = np.full(len(self._names), np.nan, dtype=np.float64)
        with rdBase.BlockLogs():
            m = Chem.Mol(mol)
            self._common(m, out, k)
            for i, _name, fn in self._all:
                try:
                    out[i] = float(fn(Chem.Mol(mol)))
                except Exception:
                    pass
        return self._per_unit(out, k)
