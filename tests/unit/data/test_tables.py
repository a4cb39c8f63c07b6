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


def test_old_spellings_are_read_with_a_note_naming_the_column(caplog):
    old = pd.DataFrame({"polymer": ["*CC(*)c1ccccc1", "*CC*"], "solvent": ["Cc1ccccc1", "O"],
                        "temp": ["25C", 353.15], "chi": [0.4, 2.0]})
    with caplog.at_level("WARNING", logger="chiscreen.schema"):
        df = normalize_pairs(old, source="old.csv")
    notes = caplog.text
    for col, new in (("polymer", "polymer_smiles"), ("solvent", "solvent_smiles"), ("temp", "temperature_K")):
        assert f"old.csv: column '{col}' read as '{new}'" in notes
    assert list(df.temperature_K) == pytest.approx([298.15, 353.15])
    assert list(df.status) == ["ok", "ok"] and df.polymer_key[0] == "*CC(*)c1ccccc1"
    # a screen output's T_K and an oracle result's t_kelvin mean temperature_K too
    for col in ("T_K", "t_kelvin"):
        t = normalize_pairs(pd.DataFrame({"polymer_smiles": ["*CC*"], "solvent_smiles": ["O"], col: [300.0]}))
        assert t.temperature_K[0] == 300.0


def test_new_names_win_and_nothing_is_renamed(caplog):
    df = pd.DataFrame({"polymer_smiles": ["*CC*"], "polymer": ["polyethylene"], "solvent_smiles": ["O"],
                       "temperature_K": [300.0], "temp": ["5C"]})
    with caplog.at_level("WARNING", logger="chiscreen.schema"):
        out = normalize_pairs(df)
    assert caplog.text == "" and out.polymer[0] == "polyethylene" and out.temperature_K[0] == 300.0


def test_old_temp_column_out_of_range_names_the_row():
    bad = pd.DataFrame({"polymer": ["*CC*", "*CC*"], "solvent": ["O", "O"], "temp": ["25C", "25"]})
    with pytest.raises(InvalidInputError, match="row 1: column 'temp'"):
        normalize_pairs(bad, source="pairs.csv")
