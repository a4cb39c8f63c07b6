"""3D geometries for the oracle: RDKit ETKDG (v3, macrocycle torsions) + MMFF94, seeded.

Polymers are represented as the cyclic 10-mer of their repeat unit (built by
:mod:`chiscreen.chem`), solvents as the molecule itself. Several conformers are embedded per
molecule with one seed, so the same input always gives the same geometries. An optional GFN2
relaxation (L-BFGS on the engine's gradient) refines each conformer.

Positions are in Angstrom; MMFF energies in kcal/mol.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from chiscreen.errors import InvalidInputError, OracleError
from chiscreen.qc.results import EmbeddingError

#: Default RDKit seed (the prototype's).
DEFAULT_SEED = 0xF00D


@dataclass(slots=True)
class Conformer:
    """One 3D conformer.

    Attributes:
        numbers: atomic numbers, shape (n_atoms,).
        positions: Cartesian coordinates, Angstrom, shape (n_atoms, 3).
        ff_energy: MMFF94 (or UFF fallback) energy after optimisation, kcal/mol; NaN if unknown.
    """

    numbers: np.ndarray
    positions: np.ndarray
    ff_energy: float = float("nan")


def molecule_with_h(kind: str, smiles: str, n_units: int = 10):
    """Build the RDKit molecule (explicit hydrogens) the oracle computes, and its identity.

    Args:
        kind: "polymer" (``smiles`` is a repeat unit with two '*'; the cyclic ``n_units``-mer is
            built by :class:`chiscreen.chem.RepeatUnit`), "solvent" (a single molecule, via
            :class:`chiscreen.chem.Solvent`) or "molecule" (any SMILES taken literally, e.g.
            a ready-made cyclic oligomer; atom order as written).
        smiles: the input SMILES.
        n_units: ring size of the polymer oligomer.
    Returns: (canonical identity string, rdkit Mol with explicit H).
    Raises: InvalidPolymerError / InvalidSolventError / InvalidInputError for bad input.
    """
    from rdkit import Chem

    if kind == "polymer":
        from chiscreen.chem import RepeatUnit

        ru = RepeatUnit.from_smiles(smiles)
        mol = ru.cyclic_oligomer(n_units, explicit_h=True)
        mol = Chem.AddHs(mol)  # no-op when the oligomer already carries explicit H
        return ru.canonical, mol
    if kind == "solvent":
        from chiscreen.chem import Solvent

        sv = Solvent.from_smiles(smiles)
        return sv.canonical, Chem.AddHs(sv.mol)
    if kind == "molecule":
        mol = Chem.MolFromSmiles(smiles)
        if mol is None:
            raise InvalidInputError(f"RDKit cannot parse SMILES {smiles!r}")
        return Chem.MolToSmiles(mol), Chem.AddHs(mol)
    raise InvalidInputError(f"unknown molecule kind {kind!r}; expected polymer, solvent or molecule")


def embed_conformers(
    mol_h, n_conformers: int = 1, seed: int = DEFAULT_SEED, macrocycle: bool = True,
    ff_max_iter: int = 5000,
) -> list[Conformer]:
    """Embed ``n_conformers`` conformers of ``mol_h`` (explicit H) with ETKDGv3 and optimise them
    with MMFF94 (UFF where MMFF has no parameters). Deterministic for a given seed; with
    ``n_conformers=1`` identical to ``EmbedMolecule`` with the same seed.

    Falls back to random starting coordinates when the distance-geometry embedding fails.
    Raises EmbeddingError if no conformer can be embedded.
    """
    from rdkit import Chem
    from rdkit.Chem import AllChem

    if n_conformers < 1:
        raise InvalidInputError(f"n_conformers must be >= 1, got {n_conformers}")
    mol = Chem.Mol(mol_h)
    mol.RemoveAllConformers()
    params = AllChem.ETKDGv3()
    params.randomSeed = int(seed)
    params.useMacrocycleTorsions = bool(macrocycle)
    params.numThreads = 1
    try:
        ids = list(AllChem.EmbedMultipleConfs(mol, int(n_conformers), params))
        if not ids:
            params.useRandomCoords = True
            ids = list(AllChem.EmbedMultipleConfs(mol, int(n_conformers), params))
    except Exception as exc:  # RDKit raises on some pathological inputs
        raise EmbeddingError(f"RDKit embedding raised: {exc}") from exc
    if not ids:
        raise EmbeddingError(f"RDKit could not embed {Chem.MolToSmiles(Chem.RemoveHs(mol))[:80]}")
    energies = np.full(len(ids), np.nan)
    try:
        if AllChem.MMFFHasAllMoleculeParams(mol):
            res = AllChem.MMFFOptimizeMoleculeConfs(mol, numThreads=1, maxIters=int(ff_max_iter))
        else:
            res = AllChem.UFFOptimizeMoleculeConfs(mol, numThreads=1, maxIters=int(ff_max_iter))
        energies = np.array([e for _, e in res], dtype=float)
    except Exception:  # a force-field failure leaves the ETKDG geometry, energy unknown
        pass
    numbers = np.array([a.GetAtomicNum() for a in mol.GetAtoms()], dtype=int)
    out = []
    for k, cid in enumerate(ids):
        pos = np.array(mol.GetConformer(cid).GetPositions(), dtype=float)
        if not np.all(np.isfinite(pos)):
            continue
        out.append(Conformer(numbers.copy(), pos, float(energies[k])))
    if not out:
        raise EmbeddingError("every embedded conformer had non-finite coordinates")
    return out


def relax(engine, conformer: Conformer, gtol: float = 0.05, max_steps: int = 300) -> Conformer:
    """GFN2 geometry relaxation (L-BFGS on ``engine.energy_and_gradient``).

    ``gtol`` is the largest gradient component at convergence, eV/Angstrom (0.05 as ASE's
    default fmax); energies in the result stay the MMFF ones. Raises OracleError on failure.
    """
    from scipy.optimize import minimize

    hartree_ev = 27.211386245988
    num = conformer.numbers

    def fun(x: np.ndarray) -> tuple[float, np.ndarray]:
        e, g = engine.energy_and_gradient(num, x.reshape(-1, 3))
        return e * hartree_ev, (g * hartree_ev).ravel()

    res = minimize(fun, conformer.positions.ravel(), jac=True, method="L-BFGS-B",
                   options={"maxiter": int(max_steps), "gtol": float(gtol)})
    pos = res.x.reshape(-1, 3)
    if not np.all(np.isfinite(pos)):
        raise OracleError("GFN2 relaxation produced non-finite coordinates")
    return Conformer(num, pos, conformer.ff_energy)
