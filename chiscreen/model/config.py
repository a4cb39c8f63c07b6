"""Typed configuration of the multitask chi model (loaded from YAML with :func:`chiscreen.config.load_config`).

    cfg = load_config("configs/train-default.yaml", TrainConfig)

Every key is documented here; unknown keys are rejected by the loader.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Optional

from chiscreen.errors import ConfigError
import chiscreen.model.tasks as _tasks

ACTIVATIONS = ("sigmoid", "relu", "silu", "tanh", "elu")


@dataclass
class ModelConfig:
    """Network shape.

    Attributes:
        d: latent half-size; each tower outputs u = [s (d), r (d)].
        n_hidden: hidden layers per tower; widths shrink linearly from the input size to 2d
            unless ``hidden_widths`` is given.
        hidden_widths: explicit hidden widths (overrides the linear shrink).
        activation: hidden-layer activation (default "silu", as the shipped model; the
            reference architecture used "sigmoid", see configs/train-sigmoid.yaml).
        use_c_term: add chi = A + B/T + C/T^2 (outputs "C_comp", "C_exp" appended).
        t_ref_K: internal temperature scale: the head learns chi_scaled = a + b (T_ref/T); the
            stored head is converted to physical A (dimensionless) and B (Kelvin).
        clip: scaled descriptors are clipped to [-clip, clip].
    """

    d: int = 34
    n_hidden: int = 3
    hidden_widths: Optional[list[int]] = None
    activation: Literal["sigmoid", "relu", "silu", "tanh", "elu"] = "silu"
    use_c_term: bool = False
    t_ref_K: float = 300.0
    clip: float = 8.0

    def __post_init__(self) -> None:
        if self.d < 1:
            raise ConfigError(f"model.d = {self.d}: expected a positive integer")
        if self.n_hidden < 0:
            raise ConfigError(f"model.n_hidden = {self.n_hidden}: expected >= 0")
        if self.hidden_widths is not None and any(w < 1 for w in self.hidden_widths):
            raise ConfigError(f"model.hidden_widths = {self.hidden_widths}: widths must be positive")


@dataclass
class LossConfig:
    """loss = sum over tasks of weight[task] * loss[task] (BCE for binary tasks, MSE on the
    standardised target for chi tasks; see :mod:`chiscreen.model.tasks`).

    Weights: each task's ``TaskSpec.weight`` (soluble 0.2, chi_comp 0.4, chi_exp 0.4), then the
    reference's two-weight form when ``a1`` / ``a2`` are given, then ``weights`` per task:

        soluble = a1, chi_comp = (1 - a1) * a2, chi_exp = (1 - a1) * (1 - a2)

    A task without rows (or not listed in ``data.tasks``), or with weight 0, contributes nothing.

    Attributes:
        weights: per-task loss weights (>= 0), e.g. ``{chi_exp: 0.5, chi_oracle: 0.1}``.
        a1, a2: the reference's weights in [0, 1] (None: not used).
    """

    weights: dict[str, float] = field(default_factory=dict)
    a1: Optional[float] = None
    a2: Optional[float] = None

    def __post_init__(self) -> None:
        for k in ("a1", "a2"):
            v = getattr(self, k)
            if v is not None and not 0.0 <= v <= 1.0:
                raise ConfigError(f"loss.{k} = {v}: expected a weight in [0, 1]")
        unknown = set(self.weights) - set(_tasks.all_tasks())
        if unknown:
            raise ConfigError(f"loss.weights: unknown task(s) {sorted(unknown)}; expected {_tasks.all_tasks()}")
        for t, w in self.weights.items():
            if not (isinstance(w, (int, float)) and w >= 0):
                raise ConfigError(f"loss.weights.{t} = {w!r}: expected a number >= 0")

    def task_weights(self, tasks) -> dict[str, float]:
        """Resolved weight per task of ``tasks`` (see the class docstring)."""
        w = {t: float(_tasks.get_task(t).weight) for t in tasks}
        if self.a1 is not None or self.a2 is not None:
            a1 = 0.2 if self.a1 is None else self.a1
            a2 = 0.5 if self.a2 is None else self.a2
            ref = {"soluble": a1, "chi_comp": (1 - a1) * a2, "chi_exp": (1 - a1) * (1 - a2)}
            w.update({t: v for t, v in ref.items() if t in w})
        w.update({t: float(v) for t, v in self.weights.items() if t in w})
        return w


@dataclass
class OptimConfig:
    """Adam (amsgrad) with a step learning-rate schedule and early stopping.

    Attributes:
        lr, weight_decay, amsgrad: Adam settings.
        lr_step, lr_gamma: multiply the learning rate by ``lr_gamma`` every ``lr_step`` steps.
        max_steps: upper bound on optimiser steps (one step = one mini-batch of every task).
        eval_every: steps between validation evaluations.
        patience: evaluations without validation improvement before a member stops.
        batch_sizes: mini-batch size per task (missing: the task's ``TaskSpec.batch_size``,
            soluble 64, chi tasks 32).
        val_fraction: fraction of each task's pairs held out for validation (grouped by pair;
            a different split for every member).
    """

    lr: float = 2e-3
    weight_decay: float = 0.0
    amsgrad: bool = True
    lr_step: int = 1500
    lr_gamma: float = 0.5
    max_steps: int = 3000
    eval_every: int = 50
    patience: int = 12
    batch_sizes: dict[str, int] = field(default_factory=dict)
    val_fraction: float = 0.15

    def __post_init__(self) -> None:
        unknown = set(self.batch_sizes) - set(_tasks.all_tasks())
        if unknown:
            raise ConfigError(f"optim.batch_sizes: unknown task(s) {sorted(unknown)}; expected {_tasks.all_tasks()}")
        for t, b in self.batch_sizes.items():
            if not (isinstance(b, int) and b >= 1):
                raise ConfigError(f"optim.batch_sizes.{t} = {b!r}: expected a positive integer")
        if not 0.0 < self.val_fraction < 0.9:
            raise ConfigError(f"optim.val_fraction = {self.val_fraction}: expected in (0, 0.9)")

    def batch_size(self, task: str) -> int:
        return int(self.batch_sizes.get(task, _tasks.get_task(task).batch_size))


@dataclass
class DataConfig:
    """Where the training rows come from.

    Attributes:
        tasks: tasks to train (registered in :mod:`chiscreen.model.tasks`; default the
            reference three "soluble", "chi_comp", "chi_exp").
        experimental: "reference" (mtl_chi/data_Chi.csv) or "none".
        computed: "reference" (mtl_chi/data_COSMO.csv joined to data_Chi.csv) or "none".
        solubility: "polysol" (curated by :mod:`chiscreen.data.polysol`) or "none".
        extra_tables: CSV/Parquet pair tables with any of the tasks' label columns (chi,
            chi_computed, soluble, ...; see :func:`chiscreen.data.load_pair_table`).
        featurizer: registered featurizer name.
        polymer_representation: "cyclic:3", "cyclic:10", "linear:3:H", ...
    """

    tasks: list[str] = field(default_factory=_tasks.default_tasks)
    experimental: Literal["reference", "none"] = "reference"
    computed: Literal["reference", "none"] = "reference"
    solubility: Literal["polysol", "none"] = "polysol"
    extra_tables: list[str] = field(default_factory=list)
    featurizer: str = "rdkit2d"
    polymer_representation: str = "cyclic:3"
    featurize_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        unknown = set(self.tasks) - set(_tasks.all_tasks())
        if unknown or not self.tasks:
            raise ConfigError(f"data.tasks = {self.tasks}: expected a non-empty subset of {_tasks.all_tasks()}")


@dataclass
class CalibrationConfig:
    """How ``std_scale`` is fitted at training time.

    A grouped K-fold over the experimental (and computed) chi rows: for ``use_folds`` of the
    ``n_splits`` folds an ensemble of the same config is trained without the fold (every row of
    the held-out groups removed from all tasks) and predicts it; std_scale[task] is the factor
    that makes mean +- 1 scaled std cover 68.3 % of the held-out errors. ``by = "none"`` skips it
    (std_scale 1.0). With ``domain`` the same held-out rows also fit the std inflation with the
    applicability-domain score and the 95 % interval scale (:mod:`chiscreen.model.domain`).

    Attributes:
        by: "pair", "polymer", "mixed" (each fold: a fifth of the polymers with all their rows
            plus a pair-grouped fifth of the other polymers' pairs: residuals of unseen and of
            seen polymers from one training per fold) or "none".
        n_splits: folds of the grouped K-fold.
        use_folds: how many folds to run (cost: use_folds extra trainings).
        domain: fit the AD inflation (std_scale x (1 + slope x min(ad, cap))) and k95 on the
            held-out rows; False: std_scale alone (as before). The AD scores themselves are
            stored whatever this says.
        fit: how the inflation is fitted (:func:`chiscreen.model.domain.fit_inflation`):
            "pooled" (every held-out row, flattest coverage across AD bins; the behaviour before
            this key), "unseen" (the same on the held-out polymers' rows only) or "split"
            (std_scale from the seen-polymer pairs, the slope that gives the held-out polymers'
            rows 68.3 % coverage, cap and k95 from those rows).
        reference: the training molecules the AD score measures distance to
            (:func:`chiscreen.model.domain.domain_for_training`): "measured" (polymers and
            solvents of the experimental / COSMO-RS chi rows; default), "chi" (every chi task's
            rows, chi_oracle included: the behaviour before this key) or "all" (every task's
            rows). The same without a chi_oracle task.
    """

    by: Literal["pair", "polymer", "mixed", "none"] = "pair"
    n_splits: int = 5
    use_folds: int = 1
    domain: bool = False
    fit: Literal["pooled", "unseen", "split"] = "pooled"
    reference: Literal["measured", "chi", "all"] = "measured"

    def __post_init__(self) -> None:
        if not 1 <= self.use_folds <= self.n_splits:
            raise ConfigError(f"calibration.use_folds = {self.use_folds}: expected 1..n_splits ({self.n_splits})")


@dataclass
class TrainConfig:
    """Everything one training run needs.

    Attributes:
        seed: base seed; member e uses seed + 1000 * e for init, batches and its validation split.
        n_members: ensemble size.
        threads: torch CPU threads (1 is fastest for these small matrices, and much faster
            than 2 when the cores are shared: measured 25 ms vs 126-366 ms per step under load).
        device: "auto" (GPU when present), "cpu" or "cuda".
        calibration: how std_scale is fitted (see CalibrationConfig).
    """

    seed: int = 0
    n_members: int = 10
    threads: int = 1
    device: str = "auto"
    calibration: CalibrationConfig = field(default_factory=CalibrationConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)

    def __post_init__(self) -> None:
        if self.n_members < 1:
            raise ConfigError(f"n_members = {self.n_members}: expected >= 1")
