"""Solvents: a single small molecule given as SMILES."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from rdkit import Chem, rdBase

from chiscreen.chem._rdkit import canonical_smiles, parse_smiles
from chiscreen.errors import InvalidSolventError


@dataclass(frozen=True, slots=True)
class Solvent:
    """A solvent molecule.

    Attributes:
        smiles: the SMILES as given.
        canonical: RDKit isomeric canonical SMILES (heavy atoms only); the solvent's identity.
        inchikey: standard InChIKey ("" where RDKit cannot make one).
    """

    smiles: str
    canonical: str
    inchikey: str

    @classmethod
    def from_smiles(cls, smiles: str, allow_multi_fragment: bool = False) -> "Solvent":
        """Parse a solvent. Raises InvalidSolventError naming the input and the problem.

        Multi-fragment input (salts, mixtures: ``"CCO.O"``) is rejected unless
        ``allow_multi_fragment``; attachment points ('*') are never accepted.
        """
        mol, reason = parse_smiles(smiles)
        if mol is None:
            raise InvalidSolventError(f"invalid solvent SMILES {smiles!r}: {reason}")
        if any(a.GetAtomicNum() == 0 for a in mol.GetAtoms()):
            raise InvalidSolventError(
                f"invalid solvent SMILES {smiles!r}: contains '*' (a polymer repeat unit?), "
                "expected a complete molecule"
            )
        n_frag = len(Chem.GetMolFrags(mol))
        if n_frag > 1 and not allow_multi_fragment:
            raise InvalidSolventError(
                f"invalid solvent SMILES {smiles!r}: {n_frag} fragments, expected one molecule "
                "(mixtures and salts are not supported: give the main component alone)"
            )
        mol = Chem.RemoveHs(mol)
        can = canonical_smiles(mol)
        with rdBase.BlockLogs():
            try:
                key = Chem.MolToInchiKey(mol) or ""
            except Exception:  # RDKit built without InChI, or InChI failure
                key = ""
        return cls(smiles=smiles.strip(), canonical=can, inchikey=key)

    @property
    def mol(self) -> Chem.Mol:
        """RDKit molecule of the canonical SMILES (implicit hydrogens, canonical atom order)."""
        return _mol(self.canonical)

    def molecule(self, explicit_h: bool = False) -> Chem.Mol:
        m = Chem.Mol(self.mol)
        return Chem.AddHs(m) if explicit_h else m


@lru_cache(maxsize=4096)
def _mol(canonical: str) -> Chem.Mol:
    return Chem.MolFromSmiles(canonical)
