import logging

import pandas as pd
import pytest

from chiscreen import schema
from chiscreen.errors import InvalidInputError, TemperatureError


def test_every_pair_column_is_spelled_once():
    names = [schema.POLYMER_SMILES, schema.SOLVENT_SMILES, schema.TEMPERATURE_K, schema.POLYMER_KEY,
             schema.SOLVENT_KEY, schema.POLYMER_NAME, schema.SOLVENT_NAME, schema.POLYMER_ID, schema.SOLVENT_ID,
             *schema.ALL_LABEL_COLUMNS, schema.STATUS, schema.REASON]
    assert len(names) == len(set(names))
    assert all(n.startswith("polymer_") for n in (schema.POLYMER_SMILES, schema.POLYMER_KEY, schema.POLYMER_NAME,
                                                  schema.POLYMER_ID))
    assert schema.PAIR_COLUMNS == ("polymer_smiles", "solvent_smiles", "temperature_K")
    assert set(schema.LABEL_COLUMNS) < set(schema.ALL_LABEL_COLUMNS) and schema.CHI_ORACLE not in schema.LABEL_COLUMNS


def test_accept_old_names_renames_only_what_is_missing(caplog):
    with caplog.at_level(logging.WARNING, logger="chiscreen.schema"):
        ren = schema.accept_old_names(["polymer", "solvent_smiles", "T_K", "chi"], source="x.csv")
    assert ren == {"polymer": "polymer_smiles", "T_K": "temperature_K"}
    assert "x.csv: column 'polymer' read as 'polymer_smiles'" in caplog.text
    assert schema.accept_old_names(["polymer_smiles", "solvent_smiles", "temperature_C", "temp"]) == {}
    with pytest.raises(InvalidInputError, match="'T_K' and 't_kelvin' both mean 'temperature_K'"):
        schema.accept_old_names(["T_K", "t_kelvin"])


def test_rename_old_parses_a_temp_column_with_units():
    df = schema.rename_old(pd.DataFrame({"polymer": ["*CC*"] * 3, "solvent": ["O"] * 3,
                                         "temp": ["25C", "300K", 310]}))
    assert list(df.columns) == ["polymer_smiles", "solvent_smiles", "temperature_K"]
    assert list(df.temperature_K) == pytest.approx([298.15, 300.0, 310.0])
    with pytest.raises(TemperatureError, match="row 0: column 'temp'"):
        schema.rename_old(pd.DataFrame({"polymer": ["*CC*"], "solvent": ["O"], "temp": ["hot"]}))
    same = pd.DataFrame({"polymer_smiles": ["*CC*"]})
    assert schema.rename_old(same) is same
