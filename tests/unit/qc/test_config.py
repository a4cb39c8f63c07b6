"""Oracle YAML config: the shipped default loads, matches the code defaults, rejects typos."""
from __future__ import annotations

from pathlib import Path

import pytest

from chiscreen.errors import ConfigError
from chiscreen.qc import ProfileSpec
from chiscreen.qc.config import OracleConfig, load_oracle_config

DEFAULT = Path(__file__).resolve().parents[3] / "configs" / "oracle-default.yaml"


def test_default_yaml_matches_code_defaults():
    if not DEFAULT.is_file():
        pytest.skip(f"{DEFAULT} not present")
    cfg = load_oracle_config(DEFAULT)
    assert cfg.profile == ProfileSpec()
    assert cfg.run.backend == "ray" and cfg.run.workers == 2
    assert load_oracle_config(None) == OracleConfig()


def test_unknown_keys_rejected():
    with pytest.raises(ConfigError, match="n_conformer"):
        load_oracle_config({"profile": {"n_conformer": 3}})
    with pytest.raises(ConfigError):
        load_oracle_config({"run": {"backend": "dask"}})
