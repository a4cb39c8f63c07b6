import pandas as pd
import pytest

from chiscreen.data import load_pair_table, normalize_pairs
from chiscreen.errors import InvalidInputError, MissingColumnError


def test_celsius_becomes_kelvin_and_keys(tmp_path):
    p = tmp_path / "t.csv"
    pd.DataFrame({"polymer_smiles": ["*C(c1ccccc1)C*"], "solvent_smiles": ["Cc1ccccc1"],
                  "temperature_C": [25], "chi": [0.4]}).to_csv(p, index=False)
    df = load_pair_table(p)
    assert df.temperature_K.iloc[0] == pytest.approx(298.15)
    assert df.polymer_key.iloc[0] == "*CC(*)c1ccccc1" and df.status.iloc[0] == "ok"


def test_missing_column_is_named():
    with pytest.raises(MissingColumnError, match="solvent_smiles"):
        normalize_pairs(pd.DataFrame({"polymer_smiles": ["*CC*"], "temperature_K": [300]}))
    with pytest.raises(MissingColumnError, match="temperature_K or temperature_C"):
        normalize_pairs(pd.DataFrame({"polymer_smiles": ["*CC*"], "solvent_smiles": ["C"]}))


BAD = pd.DataFrame({
    "polymer_smiles": ["*CC*", "*CC", "*CC*", "*CC*"],
    "solvent_smiles": ["CCO", "CCO", "C1CC", "CCO"],
    "temperature_K": [300, 300, 300, 25],
    "soluble": [1, 0, 1, 1],
})


def test_strict_names_the_row():
    with pytest.raises(InvalidInputError, match="row 1: invalid repeat unit '\\*CC'"):
        normalize_pairs(BAD, strict=True)


def test_lenient_keeps_every_row_with_reasons():
    df = normalize_pairs(BAD, strict=False)
    assert list(df.status) == ["ok", "invalid", "invalid", "invalid"]
    assert "attachment point" in df.reason[1] and "solvent" in df.reason[2]
    assert "25.00 K" in df.reason[3] and "wrong unit" in df.reason[3]
