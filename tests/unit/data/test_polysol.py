import pytest

from chiscreen.data.polysol import monomer_class, monomer_to_repeat_unit, solvent_from_name


@pytest.mark.parametrize("smiles,name,unit", [
    ("C=Cc1ccccc1", "styrene", "*CC(*)c1ccccc1"),
    ("C=C(C)C(=O)OC", "methyl methacrylate", "*CC(*)(C)C(=O)OC"),
    ("C=CC(=O)OCCCC", "n-butyl acrylate", "*CC(*)C(=O)OCCCC"),
    ("C=COC(C)=O", "vinyl acetate", "*CC(*)OC(C)=O"),
    ("C=C(F)F", "vinylidene fluoride", "*CC(*)(F)F"),
    ("C=CC(=C)C", "isoprene", "*CC=C(C)C*"),
    ("C=C", "ethylene", "*CC*"),
    ("FC(F)=C(F)Cl", "chlorotrifluoroethylene", "*C(F)(F)C(*)(F)Cl"),
    ("C=COCC", "ethoxyethylene", "*CC(*)OCC"),
])
def test_chain_growth_units(smiles, name, unit):
    from chiscreen.chem import RepeatUnit

    got, cls, why = monomer_to_repeat_unit(smiles, name)
    assert why == "" and got == RepeatUnit.from_smiles(unit).canonical


@pytest.mark.parametrize("smiles,name", [
    ("C=CC(C=O)CC", "vinyl butyral"),                     # an acetal of PVA, not vinyl addition
    ("C=CC1CCCCC1", "1,3-cyclohexyleneethenylene"),       # main-chain structure name
    ("CC=Cc1cccnc1", "2-methyl-5-pyridylethylene"),       # SMILES does not fit the name
    ("C=C(CCl)c1ccccc1", "chloromethylstyrene"),          # alpha-substituted but not named so
    ("O=C1CCCCC(=O)OCCCCO1", "1,4-butylene adipate"),     # step growth: not handled
    ("C=C=O", "oxyethylene"),
])
def test_dropped_with_reason(smiles, name):
    got, _, why = monomer_to_repeat_unit(smiles, name)
    assert got is None and why


def test_solvent_mapping():
    assert solvent_from_name("alcohols", "CCO")[0] is None
    assert solvent_from_name("ether", "CCOCC")[0] is None
    assert solvent_from_name("diethyl ether", "CCOCC")[0] == "CCOCC"
    assert solvent_from_name("trifluoroethanol", "OC(F)(F)CF")[0] == "OCC(F)(F)F"
    assert solvent_from_name("toluene,", "Cc1ccccc1")[0] == "Cc1ccccc1"


def test_monomer_class():
    assert monomer_class("alpha-methylstyrene") == "styrene_alpha"
    assert monomer_class("oxyethylene") is None


def test_curation_of_shared_data():
    from chiscreen.data.locator import data_dir
    from chiscreen.errors import DataNotFoundError

    try:
        data_dir("polysol/df_atactic_NOPE_nr_norad_nomol.csv")
    except DataNotFoundError:
        pytest.skip("../shared/data/polysol is absent (set CHISCREEN_DATA to run this test)")
    from chiscreen.data.polysol import curate_polysol

    c = curate_polysol()
    assert len(c.rows) == 1818
    assert set(c.rows["status"]) <= {"kept", "dropped", "duplicate"}
    assert (c.rows.loc[c.rows["status"] != "kept", "reason"] != "").all()
    lab = c.labels
    assert len(lab) > 500 and lab["polymer_key"].nunique() > 100
    assert not lab.duplicated(["polymer_key", "solvent_key"]).any()
    assert set(lab["soluble"]) == {0, 1}
    assert "CCO" not in set(c.rows.loc[c.rows["solvent"] == "alcohols", "solvent_smiles"].dropna())
    assert "kept" in c.summary()
