"""``rdkit2d_periodic_bb``: ``rdkit2d_periodic`` plus descriptors that see the backbone.

The RDKit 2D descriptors are sums or extremes over the whole repeat unit: a polystyrene and a
polyester of the same atoms per unit look alike to them, though one carries its phenyl as a side
group and the other has its esters in the chain. This featurizer appends 15 values computed on
the ``periodic`` ring (:mod:`chiscreen.features.periodic`), where the backbone is the shortest
path around the ring (the path between the two attachment points of every unit; through a
para-phenylene it takes one side of the ring):

==================  =====================================================================
bb_atoms            backbone atoms per repeat unit
sc_heavy            side-chain heavy atoms per repeat unit
bb_fraction         backbone atoms / heavy atoms
bb_aromatic_frac    aromatic atoms on the backbone / backbone atoms
bb_ring_frac        backbone atoms in a ring of the unit / backbone atoms
bb_hetero           non-carbon backbone atoms per repeat unit
bb_sp3c_frac        sp3 carbons on the backbone / backbone atoms
bb_double_frac      non-aromatic double or triple backbone bonds / backbone bonds
bb_single_frac      acyclic single backbone bonds (the chain's torsions) / backbone bonds
sc_branch_points    backbone atoms carrying a side group, per repeat unit
sc_mean_size        side-chain heavy atoms per branch point (0 without side groups)
sc_max_depth        largest topological distance of an atom from the backbone (bonds)
sc_polar            N, O, S in side chains per repeat unit
sc_halogen          F, Cl, Br, I in side chains per repeat unit
sc_aromatic         aromatic side-chain atoms per repeat unit
==================  =====================================================================

Solvents and molecules without the periodic ring's marks (other representations) get NaN for
the 15 (models drop all-NaN columns). Version 1. Artifacts on ``rdkit2d_periodic`` keep loading:
this is a separate name with its own descriptor cache.
"""
from __future__ import annotations

import numpy as np
from rdkit import Chem, rdBase

from chiscreen.features.base import FEATURIZERS, to_float32
from chiscreen.features.fast2d import RDKit2DPeriodic
from chiscreen.features.periodic import CLOSURE_PROP, UNITS_PROP

BACKBONE_NAMES = (
    "bb_atoms", "sc_heavy", "bb_fraction", "bb_aromatic_frac", "bb_ring_frac", "bb_hetero",
    "bb_sp3c_frac", "bb_double_frac", "bb_single_frac", "sc_branch_points", "sc_mean_size",
    "sc_max_depth", "sc_polar", "sc_halogen", "sc_aromatic",
)
_HALOGEN = {9, 17, 35, 53}
_POLAR = {7, 8, 16}


def backbone_descriptors(mol: Chem.Mol) -> np.ndarray:
    """The 15 backbone values (float64, BACKBONE_NAMES order) of a periodic ring; NaN for a
    molecule without closure bonds (a solvent). Never raises."""
    out = np.full(len(BACKBONE_NAMES), np.nan)
    closure = [b for b in mol.GetBonds() if b.HasProp(CLOSURE_PROP)]
    if not closure:
        return out
    k = mol.GetIntProp(UNITS_PROP) if mol.HasProp(UNITS_PROP) else 1
    a, b = closure[0].GetBeginAtomIdx(), closure[0].GetEndAtomIdx()
    rw = Chem.RWMol(mol)
    rw.RemoveBond(a, b)
    path = list(Chem.GetShortestPath(rw, b, a))
    if len(path) < 2:
        return out
    on = set(path)
    ring_bonds = set()
    ri = mol.GetRingInfo()
    closure_idx = {x.GetIdx() for x in closure}
    unit_ring_atoms = set()
    for atoms, bonds in zip(ri.AtomRings(), ri.BondRings()):
        if closure_idx.isdisjoint(bonds):
            unit_ring_atoms.update(atoms)
            ring_bonds.update(bonds)
    heavy = [x for x in mol.GetAtoms() if x.GetAtomicNum() > 1]
    n_heavy = len(heavy)
    bb = len(path)
    side = [x for x in heavy if x.GetIdx() not in on]
    path_bonds = [mol.GetBondBetweenAtoms(path[i], path[(i + 1) % bb]) for i in range(bb)]
    path_bonds = [x for x in path_bonds if x is not None]
    nb = max(1, len(path_bonds))
    dbl = sum(1 for x in path_bonds if not x.GetIsAromatic()
              and x.GetBondType() in (Chem.BondType.DOUBLE, Chem.BondType.TRIPLE))
    single = sum(1 for x in path_bonds if x.GetBondType() == Chem.BondType.SINGLE
                 and not x.GetIsAromatic() and x.GetIdx() not in ring_bonds)
    branch = sum(1 for i in path if any(nb_.GetIdx() not in on and nb_.GetAtomicNum() > 1
                                        for nb_ in mol.GetAtomWithIdx(i).GetNeighbors()))
    if side:
        dm = Chem.GetDistanceMatrix(mol)
        depth = float(dm[np.ix_([x.GetIdx() for x in side], path)].min(axis=1).max())
    else:
        depth = 0.0
    atoms_on = [mol.GetAtomWithIdx(i) for i in path]
    out[:] = [
        bb / k,
        len(side) / k,
        bb / max(1, n_heavy),
        sum(x.GetIsAromatic() for x in atoms_on) / bb,
        sum(i in unit_ring_atoms for i in path) / bb,
        sum(x.GetAtomicNum() != 6 for x in atoms_on) / k,
        sum(x.GetAtomicNum() == 6 and x.GetHybridization() == Chem.HybridizationType.SP3 for x in atoms_on) / bb,
        dbl / nb,
        single / nb,
        branch / k,
        (len(side) / branch) if branch else 0.0,
        depth,
        sum(x.GetAtomicNum() in _POLAR for x in side) / k,
        sum(x.GetAtomicNum() in _HALOGEN for x in side) / k,
        sum(x.GetIsAromatic() for x in side) / k,
    ]
    return out


@FEATURIZERS.register("rdkit2d_periodic_bb")
class RDKit2DPeriodicBackbone(RDKit2DPeriodic):
    """``rdkit2d_periodic`` (211 values) followed by the 15 backbone values (module docstring)."""

    name = "rdkit2d_periodic_bb"
    version = "1"

    @property
    def feature_names(self) -> list[str]:
        return [*super().feature_names, *BACKBONE_NAMES]

    def __len__(self) -> int:
        return super().__len__() + len(BACKBONE_NAMES)

    def __call__(self, mol: Chem.Mol) -> np.ndarray:
        base = super().__call__(mol).astype(np.float64)
        with rdBase.BlockLogs():
            try:
                extra = backbone_descriptors(mol)
            except Exception:
                extra = np.full(len(BACKBONE_NAMES), np.nan)
        return to_float32(np.concatenate([base, extra]))
