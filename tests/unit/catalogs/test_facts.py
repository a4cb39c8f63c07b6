import math

import pandas as pd
import pytest

from chiscreen.catalogs.facts import (
    molar_volume_estimate, polymer_facts, polymer_table, resolve_polymer, solvent_facts_for_smiles,
    solvent_facts_table, unmatched_solvents,
)
from chiscreen.errors import InvalidInputError
from chiscreen.paths import project_root

# handbook molar volumes (cm3/mol, 25 C): M / rho with CRC densities
HANDBOOK_V1 = {"Cc1ccccc1": 106.3, "CCCCCC": 131.6, "O": 18.07, "CCO": 58.5, "ClC(Cl)Cl": 80.7, "C1CCOC1": 81.1,
               "C1CCCCC1": 108.7, "CC(C)=O": 73.5, "Cc1ccccc1C": 121.2, "c1ccccc1": 89.4, "CN(C)C=O": 77.4,
               "CS(C)=O": 71.3, "ClCCl": 64.0, "CCOC(C)=O": 98.5, "CO": 40.7}


def test_molar_volume_estimate_within_12_percent():
    for smi, v in HANDBOOK_V1.items():
        assert molar_volume_estimate(smi) == pytest.approx(v, rel=0.12), smi


def test_polymer_facts_named_grades_and_unknowns():
    ipp = polymer_facts(resolve_polymer("iPP"))
    assert ipp.semicrystalline and ipp.Tm0_K == pytest.approx(460.7) and ipp.dHu_J_mol > 0 and ipp.Vu_cm3_mol > 0
    assert polymer_facts(resolve_polymer("aPP")).semicrystalline is False
    generic = polymer_facts(resolve_polymer("*CC(*)C"))       # tacticity unknown -> crystallinity unknown
    assert generic.name == "PP" and generic.semicrystalline is None
    assert polymer_facts(resolve_polymer("polystyrene")).semicrystalline is False
    assert polymer_facts(resolve_polymer("PVC")).semicrystalline is None     # left unknown on purpose
    new = polymer_facts(resolve_polymer("*CC(*)CCCCCCCCCC"))                # not in the catalog
    assert new.semicrystalline is None and math.isnan(new.Tm0_K)


def test_every_fact_has_a_source_and_sane_range():
    df = polymer_table()
    has = df[["crystallinity", "Tm0_K", "dHu_J_mol", "Tg_K"]].notna().any(axis=1)
    assert has.sum() >= 10
    assert df.loc[has, "facts_source"].notna().all()
    readme = (project_root() / "catalogs" / "README.md").read_text()
    for keys in df.loc[has, "facts_source"]:
        for k in keys.split(";"):
            assert f"**{k}**" in readme, k
    assert df["crystallinity"].dropna().between(0, 1).all()
    assert df["Tm0_K"].dropna().between(250, 700).all() and df["Tg_K"].dropna().between(100, 600).all()


def test_unknown_polymer_name_is_a_clear_error():
    with pytest.raises(InvalidInputError, match="unknown polymer 'polyunobtainium'"):
        resolve_polymer("polyunobtainium")
    with pytest.raises(InvalidInputError):
        resolve_polymer("")


def test_boiling_points_joined_by_cas_with_explicit_isomers(shared_data):
    cat = pd.read_csv(project_root() / "catalogs" / "solvents.csv")
    t = solvent_facts_table(cat)
    by = dict(zip(t["name"], t["bp_K"]))
    assert by["toluene"] == pytest.approx(110.6 + 273.15, abs=1.0)
    assert by["decalin"] == pytest.approx(187.3 + 273.15, abs=0.01)      # trans isomer, the lower
    assert math.isfinite(by["m-xylene"])
    un = unmatched_solvents(t)
    assert 0 < len(un) <= 30 and "decalin" not in set(un["name"]) and "pinacolone" in set(un["name"])
    assert solvent_facts_for_smiles("Cc1ccccc1C").bp_K == pytest.approx(144.5 + 273.15)
    assert math.isnan(solvent_facts_for_smiles("CCCCCCCCCCCCCCCCO").bp_K)    # outside the catalog: unknown
