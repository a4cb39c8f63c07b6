import pandas as pd
import pytest

from chiscreen.data import normalize_pairs
from chiscreen.errors import InvalidInputError, MissingColumnError
from chiscreen.qc.results import ChiResult, label_rows
from chiscreen.schema import CHI_ORACLE, PAIR_COLUMNS


def _results():
    return [ChiResult("*CC*", "CCCCCC", 298.15, chi=0.31, spread=0.02, chi_calibrated=0.4),
            ChiResult("*CC*", "xx(", 298.15, reason="invalid_input", message="bad SMILES"),
            ChiResult("*CC(*)c1ccccc1", "Cc1ccccc1", 323.15, chi=0.45, spread=0.0)]


def test_results_table_uses_the_schema_columns():
    row = _results()[0].to_dict()
    assert {"polymer_smiles", "solvent_smiles", "temperature_K", "chi", "status"} <= set(row)
    assert not {"polymer", "solvent", "t_kelvin"} & set(row)


def test_oracle_results_become_label_rows_directly():
    lab = label_rows(_results())
    assert list(lab.columns[:4]) == [*PAIR_COLUMNS, CHI_ORACLE]
    assert list(lab[CHI_ORACLE]) == [0.31, 0.45] and list(lab.source_row) == [0, 2]
    assert list(lab.chi_oracle_spread) == [0.02, 0.0] and (lab.source == "oracle").all()
    # they are valid training rows as they stand
    norm = normalize_pairs(lab, strict=True)
    assert list(norm.polymer_key) == ["*CC*", "*CC(*)c1ccccc1"] and list(norm[CHI_ORACLE]) == [0.31, 0.45]
    cal = label_rows(_results(), value="chi_calibrated")
    assert list(cal[CHI_ORACLE]) == [0.4]
    with pytest.raises(InvalidInputError, match="oracle label value"):
        label_rows(_results(), value="spread")


def test_label_rows_from_a_results_table_old_or_new_columns():
    new = pd.DataFrame([r.to_dict() for r in _results()])
    assert label_rows(new)[CHI_ORACLE].tolist() == [0.31, 0.45]
    old = new.rename(columns={"polymer_smiles": "polymer", "solvent_smiles": "solvent", "temperature_K": "t_kelvin"})
    lab = label_rows(old, source="chi.parquet")
    assert lab.temperature_K.tolist() == [298.15, 323.15] and (lab.source == "chi.parquet").all()
    with pytest.raises(MissingColumnError, match="chi"):
        label_rows(new.drop(columns="chi"))
