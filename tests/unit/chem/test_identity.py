import pytest

from chiscreen.chem import RepeatUnit, Solvent, canonical_key, try_canonical_key
from chiscreen.errors import InvalidInputError, InvalidPolymerError, InvalidSolventError


def test_one_key_by_kind_matches_the_typed_objects():
    for s in ("*C(c1ccccc1)C*", "*CCCC*", "*OCCOC(=O)c1ccc(C(*)=O)cc1"):
        assert canonical_key("polymer", s) == RepeatUnit.from_smiles(s).canonical
    assert canonical_key("polymer", "  *CCCC* ") == "*CC*"
    assert canonical_key("solvent", "[H]C(Cl)(Cl)Cl") == Solvent.from_smiles("ClC(Cl)Cl").canonical == "ClC(Cl)Cl"


def test_bad_input_raises_typed_errors_or_returns_reasons():
    with pytest.raises(InvalidPolymerError, match="attachment"):
        canonical_key("polymer", "CC")
    with pytest.raises(InvalidSolventError, match=r"contains '\*'"):
        canonical_key("solvent", "*CC*")
    with pytest.raises(InvalidInputError, match="unknown molecule kind 'monomer'"):
        canonical_key("monomer", "C=C")
    assert try_canonical_key("polymer", "*CC*") == ("*CC*", "")
    key, why = try_canonical_key("polymer", "C1CC")
    assert key is None and "parse" in why
    assert try_canonical_key("solvent", None) == (None, "empty or missing SMILES (None)")
    with pytest.raises(InvalidInputError):
        try_canonical_key("monomer", "C")
