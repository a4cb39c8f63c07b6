import pandas as pd
import pytest

from chiscreen.chem import RepeatUnit
from chiscreen.errors import InvalidInputError
from chiscreen.catalogs.enumerate import (
    RULES, EnumerationReport, acyl_residue, amino_residue, carbamoyl_residue, enumerate_polymers, generate,
    imide_residue, join, oxy_residue, read_blocks, vinyl_unit, CARBONYL,
)


def canon(s):
    return RepeatUnit.from_smiles(s).canonical


def test_rules_build_known_polymers():
    adipic = acyl_residue("adipic acid", "OC(=O)CCCCC(=O)O")
    hmda = amino_residue("hexamethylenediamine", "NCCCCCCN")
    eg = oxy_residue("ethylene glycol", "OCCO")
    tpa = acyl_residue("terephthalic acid", "OC(=O)c1ccc(C(=O)O)cc1")
    bpa = oxy_residue("bisphenol A", "CC(C)(c1ccc(O)cc1)c1ccc(O)cc1")
    mdi = carbamoyl_residue("MDI", "O=C=Nc1ccc(Cc2ccc(N=C=O)cc2)cc1")
    bdo = oxy_residue("1,4-butanediol", "OCCCCO")
    assert canon(join(adipic, hmda)) == canon("*NCCCCCCNC(=O)CCCCC(*)=O")               # PA66
    assert canon(join(tpa, eg)) == canon("*OCCOC(=O)c1ccc(C(*)=O)cc1")                   # PET
    assert canon(join(CARBONYL, bpa)) == canon("*Oc1ccc(C(C)(C)c2ccc(OC(*)=O)cc2)cc1")   # PC
    assert canon(join(mdi, bdo)) == canon("*OCCCCOC(=O)Nc1ccc(Cc2ccc(NC(*)=O)cc2)cc1")  # TPU
    assert canon(vinyl_unit("*C", "*C(=O)OC")) == canon("*CC(*)(C)C(=O)OC")             # PMMA
    assert canon(vinyl_unit("*", "*c1ccccc1")) == canon("*CC(*)c1ccccc1")               # PS


def test_polyimide_from_aromatic_dianhydride():
    pmda = imide_residue("PMDA", "O=C1OC(=O)c2cc3c(cc21)C(=O)OC3=O")
    assert pmda.smiles.count("*") == 2 and "n" in pmda.smiles.lower()


def test_monomers_without_two_groups_are_rejected_with_reason():
    with pytest.raises(InvalidInputError, match="found 1 acid"):
        acyl_residue("acetic acid", "CC(=O)O")
    with pytest.raises(InvalidInputError, match="found 3 hydroxyl"):
        oxy_residue("glycerol", "OCC(O)CO")
    blocks = {k: [] for k in ("diacids", "diols", "diamines", "diisocyanates", "dianhydrides",
                              "vinyl_substituents", "vinyl_alpha", "side_groups")}
    blocks["diacids"] = [("adipic", "OC(=O)CCCCC(=O)O"), ("acetic", "CC(=O)O")]
    blocks["diols"] = [("EG", "OCCO")]
    rep = EnumerationReport()
    out = list(generate(blocks, ("polyester",), rep))
    assert len(out) == 1 and len(rep.rejected_blocks) == 1 and "acetic" in rep.rejected_blocks[0]
    with pytest.raises(InvalidInputError, match="unknown polymerization rule"):
        list(generate(blocks, ("polyketone",)))


def test_shipped_blocks_give_at_least_ten_thousand_units_all_valid_on_sample():
    rep = EnumerationReport()
    items = list(generate(read_blocks(), RULES, rep))
    assert len(items) >= 10_000
    assert {r for r, _, _ in items} == set(RULES)
    for _, _, s in items[:: max(1, len(items) // 150)]:
        assert s.count("*") == 2
        RepeatUnit.from_smiles(s)  # raises if invalid


def test_enumerate_dedupes_by_canonical_identity(tmp_path):
    d = tmp_path / "blocks"
    d.mkdir()
    pd.DataFrame({"name": ["HDI", "butane DI"], "smiles": ["O=C=NCCCCCCN=C=O", "O=C=NCCCCN=C=O"]}).to_csv(
        d / "diisocyanates.csv", index=False)
    pd.DataFrame({"name": ["putrescine", "HMDA"], "smiles": ["NCCCCN", "NCCCCCCN"]}).to_csv(d / "diamines.csv", index=False)
    df, rep = enumerate_polymers(d, rules=("polyurea",), n_jobs=1, progress=False)
    # HDI x putrescine and butane-DI x HMDA are the same polyurea
    assert rep.generated == 4 and rep.unique == 3 and rep.duplicate == 1
    assert df.canonical.is_unique and list(df.columns[:6]) == ["id", "name", "smiles", "canonical", "status", "reason"]
