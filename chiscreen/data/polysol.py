"""Curate the PolySol homopolymer solubility labels into repeat-unit pairs.

Source: ``polysol/df_atactic_NOPE_nr_norad_nomol.csv`` (';'-separated; columns polymer,
mono_name, mono_smiles, solvent, solvent_smiles, solvent_characteristic = 1 soluble / 0 not).
Polymers are given by name and a MONOMER SMILES guessed from the name (some wrong); solvents by
name and a SMILES (a few names are classes or isomer mixtures).

What is kept, and why (every dropped row keeps its reason; see :func:`curate_polysol`):

Polymers -- only chain-growth classes whose repeat unit follows from the monomer by one RDKit
reaction, and only when the monomer *name* says the class and the SMILES agrees with it:

  ========== =================================================== ===================================
  class      name says                                            monomer must match (SMARTS)
  ========== =================================================== ===================================
  methacryl  "methacryl..."                                       CH2=C(CH3)-C(=O) / -C#N
  acryl      "acryl...", "acrolein" (not methacryl)               CH2=C-C(=O) / -C#N
  styrene    "...styrene" (alpha-substituted only if named so)    CH2=CH-c (alpha: CH2=C(C)-c)
  itaconate  "itacon..."                                          CH2=C(CC(=O))C(=O)
  fumarate   "...fumarate"                                        O=C-CH=CH-C=O
  vinylidene "vinylidene ..."                                     CH2=C(X)X
  vinyl      "vinyl ..." / "isopropenyl"                          CH2=C
  olefin     "ethylene", "propylene", "1-butene", "isobutene",    CH2=C, or a per-halo olefin
             "X-ethylene" with X a side group (not a main-chain
             "-ylene", "oxy...", "thio...", "imino..." name)
  diene      "butadiene", "isoprene", "chloroprene"               acyclic conjugated C=C-C=C (1,4-unit)
  ========== =================================================== ===================================

  vinyl-type: ``[C:1]=[C:2] >> *-[C:1]-[C:2]-*`` (the monomer has exactly one non-aromatic C=C and
  no C#C, cumulene or charge); dienes: ``[C:1]=[C:2]-[C:3]=[C:4] >> *-[C:1]-[C:2]=[C:3]-[C:4]-*``.
  Stereo marks are removed (the table is atactic). Names that are known not to be vinyl addition
  polymers in spite of the name (poly(vinyl butyral), poly(vinyl formal): acetals of PVA) or that
  polymerise by ring opening (vinyl lactones, vinylcyclopropanes) are dropped, as are main-chain
  structure names ("...-diyl", "...ethenylene", "oxycarbonyl...").

Solvents -- the given SMILES, except: class or mixture names ("alcohols", "ether", "xylene",
"cresols", ...) and isomer-ambiguous names ("dichloroethane" given as the 1,1-isomer, ...) are
dropped; a few wrong SMILES are corrected (trifluoroethanol, isooctane, diisobutyl phthalate,
dimethyl phosphite). Charged or multi-fragment molecules are dropped.

Rows -- duplicates (same canonical polymer and solvent) with one label are merged; pairs with
conflicting labels are dropped.

Never used: the reference repository's data_PI.csv (artificial chi < 0.5 thresholding).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase
from rdkit.Chem import AllChem

from chiscreen.chem import Solvent, canonical_key
from chiscreen.data.locator import data_file
from chiscreen.errors import ChiscreenError, InvalidInputError
from chiscreen.schema import (
    POLYMER_KEY, POLYMER_NAME, POLYMER_SMILES, SOLUBLE, SOLVENT_KEY, SOLVENT_NAME, SOLVENT_SMILES,
)

POLYSOL_FILE = "polysol/df_atactic_NOPE_nr_norad_nomol.csv"

_VINYL_RXN = AllChem.ReactionFromSmarts("[C:1]=[C:2]>>*-[C:1]-[C:2]-*")
_DIENE_RXN = AllChem.ReactionFromSmarts("[C:1]=[C:2]-[C:3]=[C:4]>>*-[C:1]-[C:2]=[C:3]-[C:4]-*")

_S = Chem.MolFromSmarts
_CC_DOUBLE = _S("[C]=[C]")              # non-aromatic C=C (aliphatic C only)
_OTHER_CC = _S("[#6;!a]=[#6;!a;!C]")   # C=C to a non-aliphatic carbon (rare)
_TRIPLE_C = _S("[#6]#[#6]")
_CUMULENE = _S("[#6]=[#6]=[*]")

CLASS_SMARTS = {
    "methacryl": [_S("[CH2]=[C]([CH3])-[$([CX3]=O),$(C#N)]")],
    "acryl": [_S("[CH2]=[C;!$(C[CH3])]-[$([CX3]=O),$(C#N)]")],
    "styrene": [_S("[CH2]=[CH]-c")],
    "styrene_alpha": [_S("[CH2]=[C](-[CX4])-c")],
    "itaconate": [_S("[CH2]=C(-[CH2]-C(=O))-C(=O)")],
    "fumarate": [_S("O=C-[CH]=[CH]-C=O")],
    "vinylidene": [_S("[CH2]=[C](-[!#1])-[!#1]")],
    "vinyl": [_S("[CH2]=[C]")],
    "olefin": [_S("[CH2]=[C]"), _S("[C;!$(C[!F;!Cl;!Br;!I;!$([CX4](F)(F)F);!#1])]=[C;!$(C[!F;!Cl;!Br;!I;!$([CX4](F)(F)F);!#1])]")],
    "diene": [_S("[C;!R]=[C;!R]-[C;!R]=[C;!R]")],
}

# name exclusions: not vinyl-addition polymers despite the name, or main-chain structure names
_NAME_DROP = [
    (re.compile(r"butyral|formal|acetal"), "poly(vinyl acetal)s are made from poly(vinyl alcohol), not by vinyl addition"),
    (re.compile(r"lactone|cyclopropane|dioxepin"), "may polymerise by ring opening: ambiguous"),
    (re.compile(r"diyl|ethenylene|ethynylene|oxycarbonyl|iminocarbonyl|carbonyloxy|phenylene|1,2-butadiene"),
     "structure-based main-chain name: the monomer SMILES does not give the repeat unit"),
]
_OLEFIN_NAME = re.compile(r"^(?P<prefix>.*?)(ethylene|propylene|propene|1-butene|isobutene|isobutylene|1-pentene|1-hexene|1-octene)$")
_OLEFIN_BAD_PREFIX = re.compile(r"ylene|^(di|tri|tetra)?(oxy|thio|imino|carbonyl)")

# solvents: names dropped (class, mixture, isomer-ambiguous or mis-mapped) and corrected SMILES
SOLVENT_DROP = {
    "alcohol": "class name ('alcohol'), not one molecule",
    "alcohols": "class name, not one molecule",
    "ether": "class name, not one molecule",
    "glycol ether": "class name, not one molecule",
    "phenols": "class name, not one molecule",
    "nitrophenols": "class name, not one molecule",
    "cresols": "isomer mixture",
    "cresol": "isomer mixture (o-, m-, p-cresol)",
    "xylene": "isomer mixture",
    "hexanes": "isomer mixture",
    "tricresyl phosphate": "isomer mixture",
    "amyl alcohol": "isomer mixture (commercial amyl alcohol)",
    "amyl acetate": "isomer mixture (commercial amyl acetate)",
    "chlorophenol": "isomer not given",
    "dichlorobenzene": "isomer not given",
    "dichloroethane": "isomer not given (mapped to 1,1-dichloroethane)",
    "trichloroethane": "isomer not given",
    "tetrachloroethane": "isomer not given (mapped to 1,1,1,2-)",
    "dichloroethylene": "isomer not given",
    "chlorohexane": "isomer not given",
    "chloronaphthalene": "isomer not given",
    "dimethoxyethane": "isomer not given (1,1- or 1,2-)",
    "dimethyloxamide": "isomer not given (N,N- or N,N'-)",
    "hexafluoropropanol": "isomer not given",
    "trifluoropropanol": "isomer not given (mapped SMILES is not a trifluoropropanol)",
    "furfurol": "ambiguous (old name of furfural, mapped to furfuryl alcohol)",
    "2-buten-1,2-diol": "mapped SMILES is an enol, not a stable solvent",
    "hypochlorite solutions": "aqueous salt solution, not one molecule",
}
SOLVENT_FIX = {
    "trifluoroethanol": "OCC(F)(F)F",
    "isooctane": "CC(C)CC(C)(C)C",
    "isobutyl phthalate": "CC(C)COC(=O)c1ccccc1C(=O)OCC(C)C",
    "dimethyl phosphite": "CO[PH](=O)OC",
}


@dataclass
class Curation:
    """Result of :func:`curate_polysol`.

    Attributes:
        rows: one row per input row: polymer, mono_name, mono_smiles, solvent, solvent_smiles_raw,
            polymer_smiles (repeat unit or None), polymer_class, solvent_smiles (or None),
            soluble, status ("kept", "duplicate" or "dropped"), reason.
        labels: the kept, de-duplicated labels: polymer_smiles, solvent_smiles, soluble (0/1),
            polymer_key, solvent_key, polymer_name, solvent_name, polymer_class.
    """

    rows: pd.DataFrame
    labels: pd.DataFrame

    def report(self) -> pd.DataFrame:
        """Counts of rows per status and reason."""
        r = self.rows.copy()
        r["reason"] = r["reason"].where(r["reason"] != "", "-")
        return r.groupby(["status", "reason"]).size().rename("rows").reset_index().sort_values(
            ["status", "rows"], ascending=[True, False]).reset_index(drop=True)

    def summary(self) -> str:
        lines = [f"PolySol curation: {len(self.rows)} input rows -> {len(self.labels)} labelled pairs "
                 f"({self.labels['polymer_key'].nunique()} polymers x {self.labels['solvent_key'].nunique()} solvents, "
                 f"{int(self.labels['soluble'].sum())} soluble)"]
        for _, r in self.report().iterrows():
            lines.append(f"  {r['status']:9s} {r['rows']:5d}  {r['reason']}")
        return "\n".join(lines)


def _clean_name(name: str) -> str:
    return re.sub(r"\s+", " ", str(name).strip().strip(",").strip()).lower()


def _has(mol: Chem.Mol, patt: Chem.Mol) -> int:
    return len(mol.GetSubstructMatches(patt))


def monomer_class(name: str) -> str | None:
    """Chain-growth class the monomer *name* states, or None."""
    n = _clean_name(name)
    if "methacryl" in n:
        return "methacryl"
    if "acryl" in n or "acrolein" in n:
        return "acryl"
    if "styrene" in n:
        return "styrene_alpha" if re.search(r"(alpha|a|α)-methylstyrene", n) else "styrene"
    if "itacon" in n:
        return "itaconate"
    if "fumarate" in n:
        return "fumarate"
    if "vinylidene" in n:
        return "vinylidene"
    if re.search(r"vinyl(?!ene)", n) or "isopropenyl" in n:
        return "vinyl"
    if re.search(r"butadiene|isoprene|chloroprene", n):
        return "diene"
    m = _OLEFIN_NAME.match(n)
    if m and not _OLEFIN_BAD_PREFIX.search(m.group("prefix")):
        return "olefin"
    return None


def monomer_to_repeat_unit(monomer_smiles: str, monomer_name: str) -> tuple[str | None, str, str]:
    """Repeat unit of a chain-growth monomer.

    Returns (repeat-unit SMILES with two '*' or None, class, reason for None).
    """
    name = _clean_name(monomer_name)
    for rx, why in _NAME_DROP:
        if rx.search(name):
            return None, "", why
    cls = monomer_class(name)
    if cls is None:
        return None, "", "not a chain-growth class handled here (vinyl, acrylic, styrenic, olefin, diene)"
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(str(monomer_smiles))
    if mol is None:
        return None, cls, "monomer SMILES does not parse"
    if any(a.GetFormalCharge() != 0 for a in mol.GetAtoms()) or len(Chem.GetMolFrags(mol)) != 1:
        return None, cls, "monomer is charged or not one molecule"
    if _has(mol, _TRIPLE_C) or _has(mol, _CUMULENE):
        return None, cls, "monomer has a C#C or cumulene: addition not unambiguous"
    n_cc = _has(mol, _CC_DOUBLE)
    n_other = _has(mol, _OTHER_CC)
    if cls == "diene":
        if n_cc != 2 or n_other or not _has(mol, CLASS_SMARTS["diene"][0]):
            return None, cls, "named as a diene but the monomer is not one acyclic conjugated diene"
        rxn = _DIENE_RXN
    else:
        if n_cc != 1 or n_other:
            return None, cls, f"monomer has {n_cc + n_other} C=C: expected exactly one"
        if not any(_has(mol, p) for p in CLASS_SMARTS[cls]):
            return None, cls, f"monomer SMILES does not fit its name's class ({cls})"
        rxn = _VINYL_RXN
    units = set()
    for prods in rxn.RunReactants((mol,)):
        p = prods[0]
        try:
            Chem.SanitizeMol(p)
        except Exception:
            continue
        Chem.RemoveStereochemistry(p)
        try:
            units.add(canonical_key("polymer", Chem.MolToSmiles(p)))
        except ChiscreenError:
            continue
    if len(units) != 1:
        return None, cls, f"reaction gave {len(units)} distinct repeat units"
    return units.pop(), cls, ""


def solvent_from_name(name: str, smiles: str) -> tuple[str | None, str]:
    """(canonical solvent SMILES or None, reason)."""
    n = _clean_name(name)
    if n in SOLVENT_DROP:
        return None, f"solvent {n!r}: {SOLVENT_DROP[n]}"
    smi = SOLVENT_FIX.get(n, smiles)
    try:
        sol = Solvent.from_smiles(str(smi))
    except ChiscreenError as exc:
        return None, f"solvent {n!r}: {exc}"
    if any(a.GetFormalCharge() != 0 for a in sol.mol.GetAtoms()) and "[N+](=O)[O-]" not in sol.canonical:
        return None, f"solvent {n!r}: charged SMILES {sol.canonical}"
    return sol.canonical, ""


def curate_polysol(path: str | Path | None = None) -> Curation:
    """Curate the PolySol homopolymer table (see module docstring). Raises DataNotFoundError
    when the file cannot be found, InvalidInputError when its columns are not the expected ones."""
    p = Path(path) if path else data_file(POLYSOL_FILE)
    raw = pd.read_csv(p, sep=";")
    need = ["polymer", "mono_name", "mono_smiles", "solvent", "solvent_smiles", "solvent_characteristic"]
    missing = [c for c in need if c not in raw.columns]
    if missing:
        raise InvalidInputError(f"{p}: missing column(s) {missing}; expected {need}")
    poly_cache: dict[tuple[str, str], tuple[str | None, str, str]] = {}
    solv_cache: dict[tuple[str, str], tuple[str | None, str]] = {}
    rows = []
    for _, r in raw.iterrows():
        pk = (str(r["mono_smiles"]), str(r["mono_name"]))
        if pk not in poly_cache:
            poly_cache[pk] = monomer_to_repeat_unit(*pk)
        unit, cls, preason = poly_cache[pk]
        sk = (str(r["solvent"]), str(r["solvent_smiles"]))
        if sk not in solv_cache:
            solv_cache[sk] = solvent_from_name(*sk)
        solv, sreason = solv_cache[sk]
        label = pd.to_numeric(pd.Series([r["solvent_characteristic"]]), errors="coerce").iloc[0]
        reason = preason or sreason
        if not reason and label not in (0, 1):
            reason = f"label {r['solvent_characteristic']!r} is not 0 or 1"
        rows.append({
            "polymer": r["polymer"], "mono_name": r["mono_name"], "mono_smiles": r["mono_smiles"],
            "solvent": r["solvent"], "solvent_smiles_raw": r["solvent_smiles"],
            "polymer_smiles": unit, "polymer_class": cls, "solvent_smiles": solv,
            "soluble": float(label) if label in (0, 1) else np.nan,
            "status": "dropped" if reason else "kept", "reason": reason,
        })
    df = pd.DataFrame(rows)
    kept = df[df["status"] == "kept"]
    groups = kept.groupby(["polymer_smiles", "solvent_smiles"])["soluble"]
    nuniq = groups.transform("nunique")
    conflict = kept.index[nuniq > 1]
    df.loc[conflict, ["status", "reason"]] = ["dropped", "conflicting labels for the same polymer-solvent pair"]
    kept = df[df["status"] == "kept"]
    dup = kept.index[kept.duplicated(["polymer_smiles", "solvent_smiles"], keep="first")]
    df.loc[dup, ["status", "reason"]] = ["duplicate", "same pair and label as an earlier row (merged)"]
    lab = df[df["status"] == "kept"]
    labels = pd.DataFrame({
        POLYMER_SMILES: lab["polymer_smiles"].to_numpy(),
        SOLVENT_SMILES: lab["solvent_smiles"].to_numpy(),
        SOLUBLE: lab["soluble"].astype(int).to_numpy(),
        POLYMER_KEY: lab["polymer_smiles"].to_numpy(),   # already canonical repeat units
        SOLVENT_KEY: lab["solvent_smiles"].to_numpy(),   # already canonical solvents
        POLYMER_NAME: lab["polymer"].to_numpy(),
        SOLVENT_NAME: lab["solvent"].to_numpy(),
        "polymer_class": lab["polymer_class"].to_numpy(),
    })
    return Curation(rows=df, labels=labels)


def load_solubility_labels(path: str | Path | None = None) -> pd.DataFrame:
    """The curated labels (``Curation.labels``)."""
    return curate_polysol(path).labels
