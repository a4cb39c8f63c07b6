"""AL config validation, label-store parts (atomic, validated), the folder lock, row keys."""
import numpy as np
import pandas as pd
import pytest

from chiscreen.al._lock import FolderLockedError, folder_lock
from chiscreen.al.config import load_al_config
from chiscreen.al.labels import CorruptLabelStoreError, LabelStore, ORACLE_COLUMNS, row_key
from chiscreen.errors import ConfigError, RegistryError


def test_config_rejects_unknown_keys_and_bad_values():
    with pytest.raises(ConfigError, match="bogus"):
        load_al_config({"acquisition": {"bogus": 1}})
    with pytest.raises(RegistryError, match="unknown acquisition function"):
        load_al_config({"acquisition": {"name": "nope"}})
    with pytest.raises(ConfigError, match="budget_s"):
        load_al_config({"acquisition": {"budget_s": 0}})
    with pytest.raises(ConfigError, match="temperatures_K"):
        load_al_config({"pool": {"temperatures_K": [25.0]}})
    with pytest.raises(ConfigError, match="n_members"):
        load_al_config({"model": {"n_members": 1}})
    with pytest.raises(ConfigError):
        load_al_config({"oracle": {"run": {"backend": "cloud"}}})


def test_demo_config_loads():
    from pathlib import Path

    cfg = load_al_config(Path(__file__).resolve().parents[3] / "configs" / "al-demo.yaml")
    assert cfg.acquisition.name == "cost_aware" and cfg.oracle.oracle_config().run.backend == "ray"


def _part(n=3, cycle=1):
    return pd.DataFrame({"row_key": row_key(["*CC*"] * n, ["O"] * n, np.arange(n) + 300.0), "polymer_key": "*CC*",
                         "solvent_key": "O", "temperature_K": np.arange(n) + 300.0, "chi": 1.0, "spread": 0.0,
                         "status": "ok", "reason": "", "cycle": cycle, "method_version": "v", "engine": "tblite",
                         "n_conformers": 2, "profile_seconds": 0.0, "cost_s": 0.001, "holdout": False, "computed_at": "t"})


def test_label_store_parts_and_corruption(tmp_path):
    st = LabelStore(tmp_path, "oracle")
    assert len(st.read()) == 0
    st.write_part("cycle-001", _part())
    st.write_part("cycle-002", _part(2, 2))
    df = st.read()
    assert len(df) == 5 and list(df.columns[:len(ORACLE_COLUMNS)]) == ORACLE_COLUMNS
    assert not list(st.dir.glob(".*"))                       # no temp files left
    (st.dir / "cycle-003.parquet").write_bytes(b"garbage")
    with pytest.raises(CorruptLabelStoreError, match="cycle-003.parquet"):
        st.read()
    (st.dir / "cycle-003.parquet").unlink()
    _part().drop(columns=["chi"]).to_parquet(st.dir / "cycle-004.parquet")
    with pytest.raises(CorruptLabelStoreError, match="missing column"):
        st.validate()


def test_row_key_rounds_temperature():
    k = row_key(["*CC*", "*CC*"], ["O", "O"], [298.151, 298.149])
    assert k[0] == k[1] == "*CC*|O|298.15"


def test_folder_lock_is_exclusive_and_names_holder(tmp_path):
    import os

    with folder_lock(tmp_path):
        with pytest.raises(FolderLockedError, match=f"pid {os.getpid()}"):
            with folder_lock(tmp_path):
                pass
    with folder_lock(tmp_path):                               # released on exit
        pass
