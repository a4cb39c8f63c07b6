import pytest

from chiscreen.chem import Solvent
from chiscreen.errors import InvalidSolventError


def test_solvent_identity_and_inchikey():
    a = Solvent.from_smiles("[H]C(Cl)(Cl)Cl")
    b = Solvent.from_smiles("ClC(Cl)Cl")
    assert a.canonical == b.canonical == "ClC(Cl)Cl"
    assert a.inchikey == "HEDRZPFGACZZDS-UHFFFAOYSA-N"


@pytest.mark.parametrize("smiles,fragment", [
    ("CCO.O", "2 fragments"), ("C1CC", "cannot parse"), ("", "empty"), ("*CC*", "'*'"),
])
def test_bad_solvents(smiles, fragment):
    with pytest.raises(InvalidSolventError, match=fragment):
        Solvent.from_smiles(smiles)


def test_mixtures_only_when_asked():
    assert Solvent.from_smiles("CCO.O", allow_multi_fragment=True).canonical == "CCO.O"
