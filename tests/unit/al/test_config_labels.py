"""AL config validation, label-store parts (atomic, validated), the folder lock, row keys."""
import numpy as np
import pandas as pd
import pytest

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
                         "status": "ok", "reason": "", "cycle": cycle, "method_version": "v", "param_set": "p@0", "engine": "tblite",
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


def test_run_lock_is_exclusive_and_names_holder(tmp_path):
    import os

    from chiscreen.al.adapters import run_dir
    from chiscreen.runtime.outdir import OutputLockedError

    with run_dir(tmp_path) as od:
        od.write_manifest({"name": "t"})
        with pytest.raises(OutputLockedError, match=f"pid {os.getpid()}"):
            with run_dir(tmp_path):
                pass
    assert not (tmp_path / ".chiscreen.lock").exists()           # removed on a clean exit
    with run_dir(tmp_path) as od:                                # released: the run is ours again
        assert od.state == "owned" and od.previous["format"] == "chiscreen-al-run"


def test_old_label_parts_without_param_set_read_as_unknown(tmp_path):
    st = LabelStore(tmp_path, "oracle")
    df = pd.DataFrame({c: [0] for c in ORACLE_COLUMNS})
    st.write_part("cycle-001", df)
    old = pd.read_parquet(st.dir / "cycle-001.parquet").drop(columns=["param_set"])
    old.to_parquet(st.dir / "cycle-001.parquet", index=False)
    assert st.read()["param_set"].tolist() == [""]


def test_training_table_uses_only_the_runs_oracle_version():
    """Oracle rows of another profile method or parameter set never enter a training set, unless
    the config allows mixing; they reach it as chi_oracle label rows (qc.results.label_rows)."""
    from chiscreen.al.training import training_table

    o = pd.DataFrame({"polymer_key": ["*CC*", "*CC(*)C", "*CC(*)Cl", "*CC(*)CC"], "solvent_key": "CO",
                      "temperature_K": 298.15, "chi": [0.5, 0.6, 0.7, 0.8], "status": ["ok", "ok", "ok", "failed"],
                      "holdout": False, "method_version": ["m1", "m0", "m1", "m1"],
                      "param_set": ["p1", "p1", "p0", "p1"], "spread": 0.0})
    exp = pd.DataFrame({"polymer_smiles": ["*CC(*)c1ccccc1"], "solvent_smiles": ["Cc1ccccc1"],
                        "temperature_K": [298.15], "chi": [0.4]})
    kw = dict(exp=exp, sol=None, oracle=o, lab=pd.DataFrame(), eval_polymers=[], include_eval=True,
              method_version="m1")
    t = training_table(**kw, mix_versions=False, param_set="p1")
    orc = t[t["chi_oracle"].notna()]
    assert orc["polymer_key"].tolist() == ["*CC*"] and orc["chi_oracle"].tolist() == [0.5]
    assert set(orc["source"]) == {"oracle"} and orc["chi"].isna().all()   # own head, never chi
    t = training_table(**kw, mix_versions=True, param_set="p1")
    assert sorted(t.loc[t["chi_oracle"].notna(), "chi_oracle"]) == [0.5, 0.6, 0.7]   # failed row never
