from pathlib import Path

import pandas as pd
import pytest

from chiscreen.chem import RepeatUnit
from chiscreen.errors import InvalidInputError
from chiscreen.catalogs.enumerate import (
    RULES, EnumerationReport, _build_chunk, acyl_residue, amino_residue, build, carbamoyl_residue,
    enumerate_polymers, generate, imide_residue, join, oxy_residue, read_blocks, vinyl_unit, CARBONYL,
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


REFERENCE = Path(__file__).resolve().parents[2] / "data" / "enumerated_polyurea_polycarbonate.csv"


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_parallel_enumeration_gives_the_catalog_of_the_serial_code_before_the_speed_up(n_jobs):
    """Built and canonicalised in worker processes, the units, their order, names and canonical
    identities are exactly those the pre-speed-up code wrote (tests/data, see its header)."""
    ref = pd.read_csv(REFERENCE, comment="#")
    df, rep = enumerate_polymers(rules=("polyurea", "polycarbonate"), n_jobs=n_jobs, progress=False)
    got = df[["name", "smiles", "canonical", "rule"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(got, ref, check_dtype=False)
    assert rep.unique == len(ref) and rep.invalid == 0 and list(df.id) == list(range(len(df)))


def test_a_unit_that_cannot_be_built_is_counted_invalid_not_fatal():
    assert build("vinyl", "*C", "not a fragment").startswith("!")
    out = _build_chunk([("join", "*C(*)=O", "*OCCO*"), ("vinyl", "*", "*c1ccccc1"), ("join", "*C(*)=O", "C1CC")])
    assert out[0][1] == canon("*C(=O)OCCO*") and out[1][1] == canon("*CC(*)c1ccccc1")
    assert out[2][0].startswith("!") and out[2][1] is None
