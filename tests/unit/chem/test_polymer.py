import pandas as pd
import pytest
from rdkit import Chem

from chiscreen.chem import RepeatUnit, canonical_repeat_unit
from chiscreen.errors import InvalidPolymerError
from chiscreen.features import get_featurizer

SAME = [
    ("*OCCOC(=O)CCCCC(=O)*", "*C(=O)CCCCC(=O)OCCO*", "*CCOC(=O)CCCCC(=O)O*"),
    ("*CC(*)c1ccccc1", "*C(c1ccccc1)C*", "[*]CC([*])c1ccccc1"),
    ("*CCCC*", "*CC*", "*C*", "*CCCCCC*"),
    ("*C/C=C\\C*", "*CC/C=C\\*", "*/C=C\\CC*"),
    ("*C/C=C/C*", "*CC/C=C/*"),
    ("*CCCCCC(=O)N*", "*NC(=O)CCCCC*", "*C(=O)NCCCCC*"),  # nylon 6, cut and reversed
    ("*c1ccc(*)cc1", "*c1ccc(cc1)c1ccc(*)cc1"),  # poly(p-phenylene) written twice
    ("*CC(*)(C)C(=O)OC", "*C(C)(C(=O)OC)C*"),
]
DIFFERENT = [
    ("*CC(*)c1ccccc1", "*C(CC*)c1ccccc1"),
    ("*C/C=C\\C*", "*C/C=C/C*"),  # cis vs trans polybutadiene
    ("*CC*", "*CC(*)C"),
    ("*CCO*", "*CCCO*"),
]


@pytest.mark.parametrize("group", SAME)
def test_equivalent_units_share_one_identity(group):
    ids = {canonical_repeat_unit(s) for s in group}
    assert len(ids) == 1, ids


@pytest.mark.parametrize("a,b", DIFFERENT)
def test_different_polymers_differ(a, b):
    assert canonical_repeat_unit(a) != canonical_repeat_unit(b)


def test_identity_is_idempotent_and_conventional():
    for s in ["*OCCOC(=O)CCCCC(=O)*", "*CC(*)c1ccccc1", "*C/C=C\\C*", "*C(F)(F)*"]:
        c = canonical_repeat_unit(s)
        assert canonical_repeat_unit(c) == c
        assert c.count("*") == 2
    assert canonical_repeat_unit("*CCCC*") == "*CC*"  # PE keeps its conventional 2-carbon unit
    assert canonical_repeat_unit("*C(F)(F)*") == canonical_repeat_unit("*C(F)(F)C(F)(F)*")


@pytest.mark.parametrize(
    "smiles,fragment",
    [
        ("CCO", "found 0 attachment point"),
        ("*CC(*)C*", "found 3 attachment point"),
        ("*1CC1*", "bonded to 2 atoms"),
        ("C1CC1(*)*C", "bonded to 2 atoms"),
        ("**", "bonded to each other"),
        ("*CC(*", "cannot parse"),
        ("*C(C)(C)(C)(C)C*", "Valence"),
        ("", "empty SMILES"),
        ("*CC*.CCO", "fragments"),
        ("*C=C*", "attachment bonds differ") if False else ("*C=CC=*", "attachment bonds differ"),
    ],
)
def test_bad_units_raise_clear_errors(smiles, fragment):
    with pytest.raises(InvalidPolymerError) as ei:
        RepeatUnit.from_smiles(smiles)
    msg = str(ei.value)
    assert fragment.lower() in msg.lower(), msg
    assert repr(smiles) in msg  # names the input


def test_reference_units_give_46_identities(shared_data):
    df = pd.read_csv(shared_data / "mtl_chi" / "data_Chi.csv", index_col=0)
    units = df.ps_pair_nonCyclic.str.split("_", n=1).str[0].unique()
    assert len(units) == 46
    assert len({canonical_repeat_unit(u) for u in units}) == 46


def test_cyclic_and_linear_oligomers():
    ps = RepeatUnit.from_smiles("*CC(*)c1ccccc1")
    tri = ps.cyclic_oligomer(3, explicit_h=False)
    assert tri.GetNumAtoms() == 24 and tri.GetRingInfo().NumRings() == 4  # 6-ring backbone + 3 phenyls
    ten = ps.cyclic_oligomer(10, explicit_h=True)
    assert ten.GetNumAtoms() == 160  # C8H8 x 10, as in the reference's explicit-H 10-mer
    lin = ps.linear_oligomer(3, cap="CH3")
    assert Chem.MolToSmiles(lin) == Chem.MolToSmiles(Chem.MolFromSmiles("CCC(c1ccccc1)CC(c1ccccc1)CC(C)c1ccccc1"))
    assert ps.linear_oligomer(1, cap="H").GetNumAtoms() == 8  # ethylbenzene
    with pytest.raises(InvalidPolymerError, match="ring of 2 atoms"):
        RepeatUnit.from_smiles("*CC*").cyclic_oligomer(1)


def test_oligomer_keeps_stereo():
    cis = Chem.MolToSmiles(RepeatUnit.from_smiles("*C/C=C\\C*").cyclic_oligomer(3, explicit_h=False))
    trans = Chem.MolToSmiles(RepeatUnit.from_smiles("*C/C=C/C*").cyclic_oligomer(3, explicit_h=False))
    assert cis != trans and "/" in cis and "/" in trans


def test_descriptors_do_not_depend_on_how_the_unit_was_written():
    """Ipc of the same 10-mer differed by 6.6 log units between two SMILES in RDKit: one
    canonical atom order makes descriptors identical."""
    fz = get_featurizer("rdkit2d")
    a = fz(RepeatUnit.from_smiles("*OCCOC(=O)CCCCC(=O)*").cyclic_oligomer(10, explicit_h=False))
    b = fz(RepeatUnit.from_smiles("*CCOC(=O)CCCCC(=O)O*").cyclic_oligomer(10, explicit_h=False))
    assert (a == b).sum() == len(a) - int(pd.isna(a).sum())


def test_backbone_double_bonds_and_tacticity():
    # polyphosphazene: the P=N double bond is never a cut; both spellings agree
    assert canonical_repeat_unit("*N=P(*)(OC)OC") == canonical_repeat_unit("*P(OC)(OC)=N*")
    # PLLA and PDLA stay two polymers
    assert canonical_repeat_unit("*[C@@H](C)C(=O)O*") != canonical_repeat_unit("*[C@H](C)C(=O)O*")
    # nylon 6,6 from either half
    assert canonical_repeat_unit("*NC(=O)CCCCC(=O)NCCCCCC*") == canonical_repeat_unit("*C(=O)CCCCC(=O)NCCCCCCN*")
