"""`chiscreen train` accepts an extra table whose only label is a registered task's (chi_oracle),
and still refuses one with no label column, naming the file."""
import pandas as pd
import pytest

from chiscreen.errors import InvalidInputError


class _Data:
    def __init__(self, paths):
        self.extra_tables = [str(p) for p in paths]


def _table(tmp_path, **cols):
    base = {"polymer_smiles": ["*CC(*)c1ccccc1", "*CC(*)C"], "solvent_smiles": ["Cc1ccccc1", "CCO"],
            "temperature_K": [298.15, 323.15]}
    p = tmp_path / "labels.parquet"
    pd.DataFrame({**base, **cols}).to_parquet(p)
    return p


def test_oracle_only_label_table_passes_the_training_check(tmp_path):
    from chiscreen.cli.validate import training_tables

    training_tables(_Data([_table(tmp_path, chi_oracle=[0.4, 1.2])]), "cfg.yaml")  # raises if refused


def test_table_without_any_label_is_refused_naming_file_and_labels(tmp_path):
    from chiscreen.cli.validate import training_tables

    p = _table(tmp_path, note=["a", "b"])
    with pytest.raises(InvalidInputError, match=r"labels\.parquet: no label column; expected at least one of .*chi_oracle"):
        training_tables(_Data([p]), "cfg.yaml")


def test_shipped_oracle_table_passes_the_training_check():
    from chiscreen.cli.validate import training_tables
    from pathlib import Path

    p = Path(__file__).resolve().parents[2] / "chiscreen" / "assets" / "oracle_labels" / "chi_oracle.parquet"
    training_tables(_Data([p]), "configs/train-oracle.yaml")


@pytest.mark.slow
def test_evaluate_with_oracle_task_needs_the_profiles_for_the_strict_refit(shared_data, tmp_path, capsys):
    """A config with the chi_oracle task is evaluated with the oracle refitted per fold; without the
    stored profiles that is impossible, and the error says so (exit 2) before any training."""
    from pathlib import Path

    from chiscreen.cli.main import main

    root = Path(__file__).resolve().parents[2]
    rc = main(["evaluate", "--splits", "polymer", "--config", str(root / "configs" / "train-oracle.yaml"),
               "--json", str(tmp_path / "lpo.json"), "--oracle-store", str(tmp_path / "empty-store"), "--members", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "holds no profile" in err and "empty-store" in err and "--oracle-labels as-shipped" in err
    assert not (tmp_path / "lpo.json").exists()
