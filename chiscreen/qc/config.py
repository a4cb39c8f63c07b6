"""Oracle configuration: profile settings, run options, store and calibration, from YAML.

    profile: {engine: tblite, n_conformers: 2, ...}     # ProfileSpec fields
    run: {backend: ray, workers: 2, timeout_s: 900}     # RunOptions fields
    store: null          # profile store folder; null = $CHISCREEN_CACHE/oracle
    calibration: null    # calibration JSON to apply, or null
    params: null         # COSMO-SAC parameter set: shipped name (sac2010, xtbfit-1, xtbfit-2) or JSON path;
                         # null = the shipped default

Unknown keys raise ConfigError (via :mod:`chiscreen.config`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from chiscreen.config import load_config
from chiscreen.qc.parallel import RunOptions
from chiscreen.qc.profile import ProfileSpec


@dataclass
class OracleConfig:
    """Everything a CLI or job run of the oracle needs."""

    profile: ProfileSpec = field(default_factory=ProfileSpec)
    run: RunOptions = field(default_factory=RunOptions)
    store: str | None = None
    calibration: str | None = None
    params: str | None = None

    def store_path(self) -> Path:
        """The profile store folder (the configured one or ``$CHISCREEN_CACHE/oracle``)."""
        if self.store:
            return Path(self.store).expanduser()
        from chiscreen.paths import cache_dir

        return cache_dir("oracle")


def load_oracle_config(source: str | Path | dict | None) -> OracleConfig:
    """Load an :class:`OracleConfig` from YAML (or a mapping); None gives the defaults."""
    if source is None:
        return OracleConfig()
    return load_config(source, OracleConfig)
