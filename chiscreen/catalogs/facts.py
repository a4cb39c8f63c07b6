"""Facts the dissolution verdict needs, from the shipped catalogs and the reference data.

    from chiscreen.catalogs.facts import resolve_polymer, polymer_facts, solvent_facts_table
    row = resolve_polymer("iPP")               # catalog name, abbreviation or repeat-unit SMILES
    pf = polymer_facts(row)                    # thermo.PolymerFacts (NaN = unknown)
    sf = solvent_facts_table(solvents_df)      # bp_K, bp_source, V1_cm3_mol, V1_source per row

Polymer facts are columns of catalogs/polymers.csv (sources in catalogs/README.md; empty = unknown).
Solvent boiling points are joined at run time from ``solvents/solvent_properties.csv`` of the
reference data by CAS number (never copied into the project); isomer and mixture rows are mapped
explicitly (:data:`CAS_ALIASES`); a solvent that does not match keeps bp unknown and is listed by
:func:`unmatched_solvents`. Solvent molar volumes come from hansen/hsp_schrier.csv of the reference data (by InChIKey) where
it has them, else an estimate: 1.85 x the van der Waals volume of Zhao, Abraham & Zissimos (J. Org. Chem. 68, 7368, 2003),
within 12 % of handbook molar volumes for 15 common solvents (DMF, DMSO +10-12 %).
"""
from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from chiscreen.errors import ChiscreenError, InvalidInputError
from chiscreen.paths import project_root
from chiscreen.thermo import PolymerFacts, SolventFacts

FACT_COLUMNS = ["tacticity", "crystallinity", "Tm0_K", "dHu_J_mol", "Vu_cm3_mol", "Tg_K", "facts_source"]

# catalog CAS -> (reference-data CAS rows, how). Boiling point of a mixture: its lowest component's.
CAS_ALIASES: dict[str, tuple[tuple[str, ...], str]] = {
    "91-17-8": (("493-01-6", "493-02-7"), "decalin = cis + trans isomers; lowest boiling point (trans, 187 C)"),
    "108-38-3": (("106-42-3",), "m-xylene -> the file's 'Xylene' row (CAS of p-xylene; isomer bp within 1 C)"),
}
V1_FACTOR = 1.85
V1_SOURCE = "estimate: 1.85 x van der Waals volume (Zhao-Abraham-Zissimos 2003), within ~12 %"
_ZAZ_ATOM = {"H": 7.24, "C": 20.58, "N": 15.60, "O": 14.71, "F": 13.31, "Cl": 22.45, "Br": 26.52, "I": 32.52,
             "S": 24.43, "P": 24.43, "Si": 38.79, "B": 40.48, "Se": 28.73, "As": 26.52}


def _catalog_path(name: str) -> Path:
    for base in (Path.cwd(), project_root()):
        if base is not None and (base / "catalogs" / name).is_file():
            return base / "catalogs" / name
    raise InvalidInputError(f"catalogs/{name} not found beside the working directory or the project")


def _canon_polymer(smiles: str) -> str | None:
    from chiscreen.chem import RepeatUnit

    try:
        return RepeatUnit.from_smiles(smiles).canonical
    except ChiscreenError:
        return None
    except Exception:  # RDKit internals on exotic input
        return None


def _canon_solvent(smiles: str) -> str | None:
    from chiscreen.chem import Solvent

    try:
        return Solvent.from_smiles(smiles).canonical
    except ChiscreenError:
        return None
    except Exception:
        return None


@lru_cache(maxsize=4)
def _polymer_table(path: str) -> pd.DataFrame:
    df = pd.read_csv(path)
    for c in FACT_COLUMNS:
        if c not in df.columns:
            df[c] = np.nan
    df["canonical"] = [_canon_polymer(s) for s in df["smiles"]]
    return df


def polymer_table(path: str | Path | None = None) -> pd.DataFrame:
    """The polymer catalog with its fact columns and the canonical repeat unit (a copy)."""
    p = Path(path) if path is not None else _catalog_path("polymers.csv")
    return _polymer_table(str(p)).copy()


def resolve_polymer(query: str, table: pd.DataFrame | None = None) -> dict:
    """A catalog row (as a dict) for a name, an abbreviation (case-insensitive) or a repeat-unit SMILES.

    A SMILES that is in the catalog gives its first (generic) row, e.g. ``*CC(*)C`` the generic PP
    whose tacticity and crystallinity are unknown; one that is not gives a row with every fact
    unknown. Raises InvalidInputError for anything else (unknown name, unparsable SMILES)."""
    df = polymer_table() if table is None else table
    q = str(query).strip()
    if not q:
        raise InvalidInputError("empty polymer name")
    for col in ("abbreviation", "name"):
        hit = df[df[col].astype(str).str.lower() == q.lower()]
        if len(hit):
            return hit.iloc[0].to_dict()
    if "*" in q:
        can = _canon_polymer(q)
        if can is None:
            from chiscreen.chem import RepeatUnit

            RepeatUnit.from_smiles(q)  # raises the chem layer's clear message
            raise InvalidInputError(f"polymer {q!r}: not a valid repeat unit")
        hit = df[df["canonical"] == can]
        if len(hit):
            return hit.iloc[0].to_dict()
        row = {c: np.nan for c in df.columns}
        row.update(name=q, abbreviation=q, smiles=q, canonical=can)
        return row
    close = [a for a in df["abbreviation"].astype(str) if a.lower().startswith(q.lower()[:2])][:6]
    hint = f"; similar: {', '.join(close)}" if close else ""
    raise InvalidInputError(f"unknown polymer {q!r}: not a catalog name or abbreviation (catalogs/polymers.csv) "
                            f"and not a repeat-unit SMILES with two '*'{hint}")


def _num(v) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def polymer_facts(row: dict) -> PolymerFacts:
    """:class:`thermo.PolymerFacts` from a catalog row (NaN where the catalog is empty)."""
    src = row.get("facts_source")
    return PolymerFacts(name=str(row.get("abbreviation") or row.get("name") or ""),
                        crystallinity=_num(row.get("crystallinity")), Tm0_K=_num(row.get("Tm0_K")),
                        dHu_J_mol=_num(row.get("dHu_J_mol")), Vu_cm3_mol=_num(row.get("Vu_cm3_mol")),
                        Tg_K=_num(row.get("Tg_K")),
                        sources={"facts": src} if isinstance(src, str) and src else {})


def polymer_facts_for_smiles(smiles: str) -> PolymerFacts:
    """Facts of the catalog's generic row for this repeat unit (all unknown when not in the catalog)."""
    return polymer_facts(resolve_polymer(smiles))


# ------------------------------------------------------------------ solvents
def vdw_volume_A3(smiles: str) -> float:
    """Van der Waals volume (Angstrom^3 per molecule) by Zhao, Abraham & Zissimos (2003):
    sum of atomic volumes - 5.92 N_bonds - 14.7 R_aromatic - 3.8 R_nonaromatic. NaN for an
    element without a contribution."""
    from rdkit import Chem

    mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return math.nan
    mol = Chem.AddHs(mol)
    v = 0.0
    for a in mol.GetAtoms():
        c = _ZAZ_ATOM.get(a.GetSymbol())
        if c is None:
            return math.nan
        v += c
    ri = mol.GetRingInfo()
    r_ar = sum(1 for ring in ri.BondRings() if all(mol.GetBondWithIdx(b).GetIsAromatic() for b in ring))
    r_all = ri.NumRings()
    n_bonds = mol.GetNumAtoms() - 1 + r_all
    return v - 5.92 * n_bonds - 14.7 * r_ar - 3.8 * (r_all - r_ar)


def molar_volume_estimate(smiles: str) -> float:
    """Liquid molar volume estimate (cm3/mol): 1.85 x N_A x van der Waals volume."""
    return V1_FACTOR * vdw_volume_A3(smiles) * 0.6022140857


def _norm_cas(x) -> str | None:
    if not isinstance(x, str):
        return None
    s = x.strip().strip("b'\"")
    return s or None


_BP_TABLE: dict[str, float] | None = None


def _bp_by_cas() -> dict[str, float] | None:
    """CAS -> boiling point (K) from the reference data, or None when it is absent or unreadable
    (then :func:`boiling_point_data_problem` says why). Only a successful read is cached, so data
    that appears later (CHISCREEN_DATA set in the same process) is found."""
    global _BP_TABLE
    if _BP_TABLE is not None:
        return _BP_TABLE
    try:
        from chiscreen.data import data_file

        p = pd.read_csv(data_file("solvents/solvent_properties.csv"), encoding="utf-8-sig")
    except (ChiscreenError, OSError, ValueError):
        return None
    cas_col = next((c for c in p.columns if "cas" in c.lower()), None)
    bp_col = next((c for c in p.columns if c.lower().startswith("bp")), None)
    if cas_col is None or bp_col is None:
        return None
    out: dict[str, float] = {}
    for c, b in zip(p[cas_col], p[bp_col]):
        c = _norm_cas(c)
        v = _num(b)
        if c and math.isfinite(v):
            out.setdefault(c, v + 273.15)
    _BP_TABLE = out
    return out


def boiling_point_data_problem() -> str | None:
    """None when the boiling-point reference file is usable; else one line saying what is wrong and
    where it was looked for (every boiling point is then unknown, which is not a fact about the solvents)."""
    if _bp_by_cas() is not None:
        return None
    try:
        from chiscreen.data import data_file

        p = data_file("solvents/solvent_properties.csv")
    except ChiscreenError as exc:
        return f"reference data solvents/solvent_properties.csv not found: {exc}"
    return f"reference data {p} is unreadable or has no CAS / boiling-point column"


def boiling_point(cas) -> tuple[float, str]:
    """(boiling point in K, how it was found) for a CAS number; NaN and the reason when unknown."""
    table = _bp_by_cas()
    if table is None:
        return math.nan, "reference data solvents/solvent_properties.csv not found or unreadable (set CHISCREEN_DATA)"
    c = _norm_cas(cas)
    if c is None:
        return math.nan, "no CAS number"
    if c in table:
        return table[c], "CAS"
    if c in CAS_ALIASES:
        rows, how = CAS_ALIASES[c]
        vals = [table[r] for r in rows if r in table]
        if vals:
            return min(vals), how
    return math.nan, f"CAS {c} not in solvent_properties.csv (or no boiling point there)"


def _quantity(x) -> float:
    """The number of a Mathematica ``Quantity[100.4, ...]`` string (NaN otherwise)."""
    import re

    m = re.match(r"\s*Quantity\[\s*([-+0-9.eE]+)", str(x))
    return _num(m.group(1)) if m else math.nan


def _inchikey(smiles: str) -> str | None:
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")
    mol = Chem.MolFromSmiles(smiles)
    try:
        return Chem.MolToInchiKey(mol) if mol is not None else None
    except Exception:
        return None


@lru_cache(maxsize=2)
def _schrier() -> dict[str, tuple[float, float, float, float]]:
    """InChIKey -> (molar volume cm3/mol, dD, dP, dH) from hansen/hsp_schrier.csv ({} when absent)."""
    try:
        from chiscreen.data import data_file

        t = pd.read_csv(data_file("hansen/hsp_schrier.csv"))
    except (ChiscreenError, OSError, ValueError):
        return {}
    out = {}
    for _, r in t.iterrows():
        k = r.get("InChIKey")
        if isinstance(k, str):
            out.setdefault(k, (_quantity(r.get("Volume")), _quantity(r.get("δd")), _quantity(r.get("δp")),
                               _quantity(r.get("δh"))))
    return out


@lru_cache(maxsize=2)
def _cvetkovic() -> tuple[dict, dict]:
    """(CAS -> (dD, dP, dH), canonical SMILES -> (dD, dP, dH)) from hansen/hsp_cvetkovic.csv."""
    try:
        from chiscreen.data import data_file

        t = pd.read_csv(data_file("hansen/hsp_cvetkovic.csv"))
    except (ChiscreenError, OSError, ValueError):
        return {}, {}
    by_cas, by_smi = {}, {}
    for _, r in t.iterrows():
        v = (_num(r.get("δD")), _num(r.get("δP")), _num(r.get("δH")))
        if not all(math.isfinite(x) for x in v):
            continue
        c = _norm_cas(r.get("CAS"))
        if c:
            by_cas.setdefault(c, v)
        if isinstance(r.get("smiles"), str):
            can = _canon_solvent(r["smiles"])
            if can:
                by_smi.setdefault(can, v)
    return by_cas, by_smi


def molar_volume(smiles: str) -> tuple[float, str]:
    """(molar volume cm3/mol, source): the reference value of hansen/hsp_schrier.csv (matched by
    InChIKey) where there is one, else :func:`molar_volume_estimate`."""
    k = _inchikey(smiles) if isinstance(smiles, str) else None
    v = _schrier().get(k) if k else None
    if v is not None and math.isfinite(v[0]) and v[0] > 0:
        return v[0], "hsp_schrier.csv (reference data)"
    return molar_volume_estimate(smiles) if isinstance(smiles, str) else math.nan, V1_SOURCE


def hansen_parameters(smiles: str, cas=None) -> tuple[float, float, float] | None:
    """(dD, dP, dH) in MPa^0.5 from the reference data (CAS, else canonical SMILES, else InChIKey), or None."""
    by_cas, by_smi = _cvetkovic()
    c = _norm_cas(cas)
    if c and c in by_cas:
        return by_cas[c]
    can = _canon_solvent(smiles) if isinstance(smiles, str) else None
    if can and can in by_smi:
        return by_smi[can]
    k = _inchikey(smiles) if isinstance(smiles, str) else None
    v = _schrier().get(k) if k else None
    if v is not None and all(math.isfinite(x) for x in v[1:]):
        return v[1], v[2], v[3]
    return None


def solvent_solvent_chi(h1, h2, V1: float, V2: float, T_K: float = 298.15) -> float:
    """Estimated chi between two small molecules from Hansen parameters (MPa^0.5):
    chi = V_ref [(dD1-dD2)^2 + (dP1-dP2)^2/4 + (dH1-dH2)^2/4] / (R T), V_ref = min(V1, V2) (cm3/mol);
    they mix in all proportions when chi < chi_c(N1=1, N2=V_big/V_small) (2.0 for equal sizes)."""
    d2 = (h1[0] - h2[0]) ** 2 + 0.25 * (h1[1] - h2[1]) ** 2 + 0.25 * (h1[2] - h2[2]) ** 2
    return min(V1, V2) * d2 / (8.314462618 * T_K)


def solvent_facts_table(solvents: pd.DataFrame) -> pd.DataFrame:
    """Add bp_K, bp_source, V1_cm3_mol, V1_source to a solvent table (columns smiles, optional cas)."""
    out = solvents.copy()
    bps = [boiling_point(c) if "cas" in out.columns else (math.nan, "no CAS column") for c in
           (out["cas"] if "cas" in out.columns else [None] * len(out))]
    out["bp_K"] = [b for b, _ in bps]
    out["bp_source"] = [s for _, s in bps]
    vs = [molar_volume(s) for s in out["smiles"]]
    out["V1_cm3_mol"] = [v for v, _ in vs]
    out["V1_source"] = [src for _, src in vs]
    return out


def unmatched_solvents(solvents: pd.DataFrame) -> pd.DataFrame:
    """Rows of a solvent table whose boiling point stays unknown, with the reason."""
    t = solvent_facts_table(solvents) if "bp_K" not in solvents.columns else solvents
    return t[~np.isfinite(t["bp_K"].astype(float))][[c for c in ("name", "cas", "bp_source") if c in t.columns]]


@lru_cache(maxsize=2)
def _solvent_catalog() -> pd.DataFrame:
    df = pd.read_csv(_catalog_path("solvents.csv"))
    df["canonical"] = [_canon_solvent(s) for s in df["smiles"]]
    return df


def solvent_facts_for_smiles(smiles: str) -> SolventFacts:
    """Facts for a solvent SMILES: the catalog row with the same canonical SMILES gives the CAS (and so
    the boiling point); a solvent outside the catalog has an unknown boiling point."""
    can = _canon_solvent(smiles)
    name, bp = smiles, math.nan
    try:
        cat = _solvent_catalog()
    except InvalidInputError:
        cat = None
    if can is not None and cat is not None:
        hit = cat[cat["canonical"] == can]
        if len(hit):
            name = str(hit["name"].iat[0])
            bp, _ = boiling_point(hit["cas"].iat[0])
    V1, src = molar_volume(smiles)
    return SolventFacts(name=name, bp_K=bp, V1_cm3_mol=V1, V1_source=src)


def solvent_facts(row: dict) -> SolventFacts:
    """:class:`thermo.SolventFacts` from a row of :func:`solvent_facts_table`."""
    return SolventFacts(name=str(row.get("name", "")), bp_K=_num(row.get("bp_K")),
                        V1_cm3_mol=_num(row.get("V1_cm3_mol")), V1_source=str(row.get("V1_source", "")))
