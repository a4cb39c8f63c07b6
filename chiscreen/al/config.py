"""Typed configuration of an active-learning run (YAML; unknown keys rejected).

    cfg = load_al_config("configs/al-demo.yaml")

Sections: ``pool`` (candidate rows), ``evaluation`` (fixed held-out polymers and oracle
rows), ``acquisition`` (strategy, batch size, caps, compute budget), ``cost`` (seconds per new
profile), ``oracle`` (profile settings, runner, store), ``model`` (initial model, retraining).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Optional

from chiscreen.al.cost import CostConfig
from chiscreen.config import load_config
from chiscreen.errors import ConfigError
from chiscreen.qc.config import OracleConfig


@dataclass
class PoolConfig:
    """Candidate (polymer, solvent, T) rows: every polymer x every solvent x every temperature.

    Attributes:
        polymers: CSV/Parquet with a ``smiles`` (or ``polymer_smiles``) column, or "reference"
            (the polymers of the experimental chi data).
        solvents: CSV/Parquet with ``smiles`` (or ``solvent_smiles``), or "reference".
        polymer_names / solvent_names: keep only these rows (by ``name`` or ``abbreviation``).
        max_polymers / max_solvents: keep the first N (after the name filter; None: all).
        temperatures_K: temperature grid, Kelvin.
        screen: a screen output table (Parquet/CSV with polymer_smiles/solvent_smiles or
            polymer_key/solvent_key and temperature_K) used as the pool instead.
    """

    polymers: str = "catalogs/polymers.csv"
    solvents: str = "catalogs/solvents.csv"
    polymer_names: list[str] = field(default_factory=list)
    solvent_names: list[str] = field(default_factory=list)
    max_polymers: Optional[int] = None
    max_solvents: Optional[int] = None
    temperatures_K: list[float] = field(default_factory=lambda: [298.15, 323.15])
    screen: Optional[str] = None

    def __post_init__(self) -> None:
        if not self.temperatures_K or any(not 150.0 <= t <= 800.0 for t in self.temperatures_K):
            raise ConfigError(f"pool.temperatures_K = {self.temperatures_K}: expected Kelvin values in [150, 800]")


@dataclass
class EvaluationConfig:
    """Fixed evaluation sets.

    Attributes:
        polymers: repeat-unit SMILES of the held-out experimental polymers; empty = pick
            ``n_polymers`` of the experimental data's polymers with ``seed``.
        n_polymers: how many to pick when ``polymers`` is empty.
        include_in_training: train on the evaluation polymers too (production runs); the
            report says so. Default False: their rows (experimental, oracle, lab) never train.
        oracle_holdout_fraction: share of each cycle's oracle rows kept out of training and
            used to score oracle chi (rows chosen by hash of the pair, stable across cycles).
    """

    polymers: list[str] = field(default_factory=list)
    n_polymers: int = 6
    seed: int = 0
    include_in_training: bool = False
    oracle_holdout_fraction: float = 0.15

    def __post_init__(self) -> None:
        if not 0.0 <= self.oracle_holdout_fraction < 0.9:
            raise ConfigError(f"evaluation.oracle_holdout_fraction = {self.oracle_holdout_fraction}: expected in [0, 0.9)")


@dataclass
class AcquisitionConfig:
    """How a batch is chosen.

    Attributes:
        name: registered acquisition (``chiscreen.al.acquisition.ACQUISITIONS``).
        batch_size: rows per cycle (at most).
        budget_s: oracle compute budget per cycle, seconds (None: no budget).
        max_per_polymer / max_per_solvent: diversity caps within a batch.
        beta: UCB weight; delta: boundary band; shortlist: BoTorch q-acquisition shortlist.
        objective: "chi" (low chi) or "soluble" (high P(soluble)) for greedy / Thompson.
        task: the posterior the acquisition reads ("chi_oracle").
        min_new_polymers: rows of not-yet-profiled polymers every batch starts with (within the
            caps and the budget; 0: none forced).
    """

    name: str = "cost_aware"
    batch_size: int = 50
    budget_s: Optional[float] = None
    max_per_polymer: Optional[int] = 10
    max_per_solvent: Optional[int] = 10
    beta: float = 2.0
    delta: float = 0.1
    shortlist: int = 1000
    objective: Literal["chi", "soluble"] = "chi"
    task: Literal["chi_oracle", "chi_exp"] = "chi_oracle"
    min_new_polymers: int = 0

    def __post_init__(self) -> None:
        from chiscreen.al.acquisition import ACQUISITIONS

        ACQUISITIONS[self.name]  # RegistryError naming the choices
        if self.min_new_polymers < 0:
            raise ConfigError(f"acquisition.min_new_polymers = {self.min_new_polymers}: expected >= 0")
        if self.batch_size < 1:
            raise ConfigError(f"acquisition.batch_size = {self.batch_size}: expected >= 1")
        if self.budget_s is not None and not self.budget_s > 0:
            raise ConfigError(f"acquisition.budget_s = {self.budget_s}: expected a positive number of seconds (or null)")


@dataclass
class ALOracleConfig:
    """The oracle of the run: an :class:`~chiscreen.qc.config.OracleConfig` (profile, run,
    store, calibration) plus label-store policy.

    Attributes:
        params: COSMO-SAC parameter set (shipped name such as ``xtbfit-2``, or a JSON path;
            None: the shipped default, resolved and written into the run's config at ``al init``).
        mix_method_versions: train on oracle rows of other oracle versions too (default: only rows
            of the run's profile ``method_version`` and parameter set, as recorded at ``al init``).
        num_cpus: CPUs of the local Ray runtime started for ``run.backend: ray`` (None: all).
    """

    profile: dict = field(default_factory=dict)
    run: dict = field(default_factory=lambda: {"backend": "ray", "workers": 2, "timeout_s": 900, "retries": 1})
    store: Optional[str] = None
    calibration: Optional[str] = None
    params: Optional[str] = None
    mix_method_versions: bool = False
    num_cpus: Optional[int] = None

    def oracle_config(self) -> OracleConfig:
        return load_config({"profile": self.profile, "run": self.run, "store": self.store,
                            "calibration": self.calibration,
                            "params": self.params}, OracleConfig)


@dataclass
class ALModelConfig:
    """Initial model and retraining.

    Attributes:
        n_members: ensemble size.
        init_steps: optimiser steps of the initial (cold) training at ``al init``.
        retrain: "warm" (fine-tune the last model) or "cold" (train anew each cycle).
        finetune_steps: optimiser steps of a warm retrain.
        lr: learning rate of a warm retrain.
        weights: per-task loss weights (chi_oracle, chi_exp, soluble).
        solubility: train on the curated PoLyInfo solubility labels ("polysol") or not ("none").
        seed, threads: as in training.
    """

    n_members: int = 5
    init_steps: int = 1500
    retrain: Literal["warm", "cold"] = "warm"
    finetune_steps: int = 300
    lr: float = 1e-3
    weights: dict[str, float] = field(default_factory=lambda: {"chi_oracle": 0.4, "chi_exp": 0.4, "soluble": 0.2})
    solubility: Literal["polysol", "none"] = "polysol"
    activation: str = "silu"
    seed: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        bad = set(self.weights) - {"chi_oracle", "chi_exp", "soluble"}
        if bad:
            raise ConfigError(f"model.weights: unknown task(s) {sorted(bad)}; expected chi_oracle, chi_exp, soluble")
        if self.n_members < 2:
            raise ConfigError(f"model.n_members = {self.n_members}: an ensemble posterior needs >= 2 members")


@dataclass
class ALConfig:
    """One active-learning run."""

    name: str = "al"
    seed: int = 0
    pool: PoolConfig = field(default_factory=PoolConfig)
    evaluation: EvaluationConfig = field(default_factory=EvaluationConfig)
    acquisition: AcquisitionConfig = field(default_factory=AcquisitionConfig)
    cost: CostConfig = field(default_factory=CostConfig)
    oracle: ALOracleConfig = field(default_factory=ALOracleConfig)
    model: ALModelConfig = field(default_factory=ALModelConfig)


def load_al_config(source: str | Path | dict) -> ALConfig:
    """Load and validate an AL config (ConfigError / RegistryError name the bad key)."""
    cfg = load_config(source, ALConfig)
    cfg.oracle.oracle_config()  # validate the oracle section now
    return cfg
