"""Hyperparameter tuning under nested, polymer-grouped cross-validation (no Ray here).

The Ray Tune driver (``jobs/tune.py``) only samples configurations and schedules trials; what
a trial *is* lives here, so it can be tested without Ray:

    tcfg = load_tuning_config("configs/tune.yaml")              # TuningConfig
    base = load_config(tcfg.base, TrainConfig)
    cfg = apply_params(base, {"model.d": 24, "width": 128, "optim.lr": 1e-3}, members=2)
    folds = polymer_folds(data, n_splits=3, seed=1)              # held-out polymer sets
    res = score_config(cfg, data, folds[:2])                     # {"r2", "rmse", "per_fold", ...}

Protocol (strict, as ``chiscreen.model.evaluate.evaluate_grouped``): a held-out polymer loses
*every* row (experimental chi, computed chi, solubility, oracle chi, ...) from training; the
score is R2 / RMSE of experimental chi on the held-out polymers' rows, pooled over folds.
Nested CV: :func:`polymer_folds` with the evaluation's own settings (GroupKFold(5) by polymer,
seed 0) gives the outer folds, bit for bit those of ``bench/model_eval.py --eval polymer``;
the tuner only ever receives ``data.subset_rows(outer_train_mask(...))``, so it cannot see an
outer test polymer; its inner folds split the remaining polymers again.

Search parameters are dotted TrainConfig keys (``model.d``, ``optim.lr``,
``loss.weights.soluble``, ...) plus two derived ones: ``width`` (every hidden layer this wide;
``"linear"``: the default linear shrink from the input size to 2d) and ``optim.max_steps``
(also sets ``optim.lr_step`` to half of it unless ``optim.lr_step`` is searched too).
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import yaml

from chiscreen.config import from_dict, load_config, to_dict
from chiscreen.errors import ConfigError, InvalidInputError
from chiscreen.model.calibration import predict_task_rows
from chiscreen.model.config import TrainConfig
from chiscreen.model.data import TrainingData
from chiscreen.schema import POLYMER_KEY

#: search-space kinds a parameter may use (``jobs/tune.py`` maps them to ray.tune samplers)
SPACE_KINDS = ("choice", "uniform", "loguniform", "randint")
#: parameters that are not TrainConfig keys
DERIVED = ("width",)


# ------------------------------------------------------------------ config
@dataclass
class SchedulerConfig:
    """ASHA over inner folds: a trial reports after every inner fold (time attribute
    ``folds_done``); at each rung (``grace_period`` folds, then x ``reduction_factor``) only
    the best 1/``reduction_factor`` of trials go on. ``kind: none`` runs every trial on every
    inner fold."""

    kind: str = "asha"
    grace_period: int = 1
    reduction_factor: int = 2

    def __post_init__(self) -> None:
        if self.kind not in ("asha", "none"):
            raise ConfigError(f"tune scheduler.kind = {self.kind!r}: expected 'asha' or 'none'")
        if self.grace_period < 1 or self.reduction_factor < 2:
            raise ConfigError("tune scheduler: grace_period >= 1 and reduction_factor >= 2 expected")


@dataclass
class TuningConfig:
    """What ``jobs/tune.py`` runs (configs/tune.yaml). Unknown keys are rejected.

    Attributes:
        base: training config the search starts from (path; relative paths are taken from the
            project root, then from the tune config's folder).
        set: extra overrides of the base config (dotted key -> value), applied to every trial
            and to the written configuration (e.g. ``data.extra_tables``).
        members: ensemble members per trial (2: a 5-member trial is too slow on 2 cores).
        metric: "r2" (maximised) or "rmse" (minimised), pooled over a trial's inner folds.
        num_samples: configurations sampled per tuning run (the first ones are ``points``).
        points: configurations evaluated first (e.g. today's default), flat like ``search``.
        search: parameter -> {kind: args}: ``{choice: [..]}``, ``{uniform: [lo, hi]}``,
            ``{loguniform: [lo, hi]}``, ``{randint: [lo, hi)}``.
        search_seed: seed of the random sampler (every tuning run samples the same list).
        max_concurrent_trials: trials at once (each one CPU, one thread).
        outer_splits, outer_seed: the reported leave-polymer-out folds (GroupKFold by polymer
            over the experimental chi rows; 5 / 0 = ``bench/model_eval.py --eval polymer``).
        outer_folds: which outer folds to run (default all; a subset for quick checks).
        inner_splits, inner_folds, inner_seed: inner polymer-grouped K-fold of the tuning
            data; a trial trains on at most ``inner_folds`` of its ``inner_splits`` folds.
        final: also tune on all polymers (that result is the shipped configuration).
        eval_members, eval_seeds: ensemble of the nested evaluation (each outer fold's chosen
            configuration trained on the outer-training rows and tested on the outer fold).
        scheduler: see SchedulerConfig.
    """

    base: str = "configs/train-default.yaml"
    set: dict[str, Any] = field(default_factory=dict)
    members: int = 2
    metric: str = "r2"
    num_samples: int = 8
    points: list[dict[str, Any]] = field(default_factory=list)
    search: dict[str, dict[str, Any]] = field(default_factory=dict)
    search_seed: int = 0
    max_concurrent_trials: int = 2
    outer_splits: int = 5
    outer_seed: int = 0
    outer_folds: list[int] | None = None
    inner_splits: int = 3
    inner_folds: int = 2
    inner_seed: int = 1
    final: bool = True
    eval_members: int = 5
    eval_seeds: list[int] = field(default_factory=lambda: [0, 1])
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)

    def __post_init__(self) -> None:
        if self.metric not in ("r2", "rmse"):
            raise ConfigError(f"tune metric = {self.metric!r}: expected 'r2' or 'rmse'")
        if self.members < 1 or self.eval_members < 1 or self.num_samples < 1:
            raise ConfigError("tune members, eval_members and num_samples must be >= 1")
        if not 1 <= self.inner_folds <= self.inner_splits or self.inner_splits < 2:
            raise ConfigError(f"tune inner_folds = {self.inner_folds}: expected 1..inner_splits ({self.inner_splits}), inner_splits >= 2")
        if self.outer_splits < 2:
            raise ConfigError(f"tune outer_splits = {self.outer_splits}: expected >= 2")
        if self.outer_folds is not None and any(not 0 <= k < self.outer_splits for k in self.outer_folds):
            raise ConfigError(f"tune outer_folds = {self.outer_folds}: expected indices in 0..{self.outer_splits - 1}")
        if not 1 <= self.max_concurrent_trials <= 8:
            raise ConfigError(f"tune max_concurrent_trials = {self.max_concurrent_trials}: expected 1..8")
        if len(self.points) > self.num_samples:
            raise ConfigError(f"tune points: {len(self.points)} given, more than num_samples ({self.num_samples})")
        for name, spec in self.search.items():
            check_space(name, spec)
        for i, p in enumerate(self.points):
            extra = set(p) - set(self.search)
            if extra:
                raise ConfigError(f"tune points[{i}]: {sorted(extra)} not in search")

    @property
    def mode(self) -> str:
        return "max" if self.metric == "r2" else "min"


def check_space(name: str, spec: Any) -> None:
    """Raise ConfigError unless ``spec`` is one ``{kind: args}`` of SPACE_KINDS."""
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in SPACE_KINDS:
        raise ConfigError(f"tune search.{name} = {spec!r}: expected one of {{{', '.join(f'{k}: ...' for k in SPACE_KINDS)}}}")
    kind, args = next(iter(spec.items()))
    if not isinstance(args, list) or not args:
        raise ConfigError(f"tune search.{name}.{kind}: expected a non-empty list, got {args!r}")
    if kind != "choice":
        if len(args) != 2 or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in args) or not args[0] < args[1]:
            raise ConfigError(f"tune search.{name}.{kind} = {args!r}: expected [low, high] numbers with low < high")
        if kind == "loguniform" and args[0] <= 0:
            raise ConfigError(f"tune search.{name}.loguniform = {args!r}: low must be > 0")
    if name not in DERIVED and not _is_config_key(name):
        raise ConfigError(f"tune search: {name!r} is not a training-config key (dotted, e.g. model.d) nor one of {DERIVED}")


def _is_config_key(name: str) -> bool:
    d = to_dict(TrainConfig())
    parts = name.split(".")
    cur: Any = d
    for i, p in enumerate(parts):
        if not isinstance(cur, dict):
            return False
        if p not in cur:
            # free-form mappings (loss.weights, optim.batch_sizes) take task names
            return i == len(parts) - 1 and ".".join(parts[:-1]) in ("loss.weights", "optim.batch_sizes")
        cur = cur[p]
    return True


def load_tuning_config(path: str | Path) -> TuningConfig:
    """Load configs/tune.yaml (unknown keys and bad search specs -> ConfigError naming them)."""
    return load_config(path, TuningConfig)


def resolve_base(tcfg: TuningConfig, tune_config_path: str | Path | None = None, root: str | Path | None = None) -> Path:
    """The base training config's path (absolute; project root first, then the tune config's folder)."""
    p = Path(tcfg.base)
    if p.is_absolute():
        cands = [p]
    else:
        cands = [Path(root or Path(__file__).resolve().parents[2]) / p]
        if tune_config_path is not None:
            cands.append(Path(tune_config_path).resolve().parent / p)
    for c in cands:
        if c.is_file():
            return c
    raise ConfigError(f"tune base = {tcfg.base!r}: no such training config (looked at {', '.join(map(str, cands))})")


# ------------------------------------------------------------------ parameters -> config
def _set_dotted(d: dict, key: str, value: Any) -> None:
    cur = d
    parts = key.split(".")
    for p in parts[:-1]:
        if cur.get(p) is None:
            cur[p] = {}
        cur = cur[p]
    cur[parts[-1]] = value


def param_overrides(params: dict[str, Any]) -> dict[str, Any]:
    """Search parameters -> dotted config overrides (``width`` and ``optim.max_steps`` expanded)."""
    out: dict[str, Any] = {}
    for k, v in params.items():
        if isinstance(v, np.generic):
            v = v.item()
        if k == "width":
            continue
        out[k] = v
    if "width" in params:
        w = params["width"]
        if w in (None, "linear"):
            out["model.hidden_widths"] = None
        else:
            out["model.hidden_widths"] = "__width__:" + str(int(w))   # expanded once n_hidden is known
    if "optim.max_steps" in params and "optim.lr_step" not in params:
        out["optim.lr_step"] = max(1, int(params["optim.max_steps"]) // 2)
    return out


def apply_params(base: TrainConfig | dict, params: dict[str, Any], members: int | None = None,
                 sets: dict[str, Any] | None = None) -> TrainConfig:
    """``base`` with ``sets`` then the search ``params`` applied (and ``members``), validated.

    Raises:
        ConfigError: a parameter value the training config rejects (names the key).
    """
    d = copy.deepcopy(base if isinstance(base, dict) else to_dict(base))
    for k, v in {**(sets or {}), **param_overrides(params)}.items():
        _set_dotted(d, k, v)
    hw = d.get("model", {}).get("hidden_widths")
    if isinstance(hw, str) and hw.startswith("__width__:"):
        d["model"]["hidden_widths"] = [int(hw.split(":")[1])] * int(d["model"].get("n_hidden", 3))
    if members is not None:
        d["n_members"] = int(members)
    return from_dict(TrainConfig, d)


def tuned_config_yaml(base_path: str | Path, params: dict[str, Any], sets: dict[str, Any] | None = None,
                      header: str = "") -> str:
    """The base config file's YAML (same keys; its comments dropped) with ``sets`` and the chosen
    ``params`` applied, each touched key written with its resolved value (e.g. the expanded
    hidden widths). A touched loss section is written as the resolved weight of every trained
    task (the reference form's ``a1`` / ``a2`` dropped). Validated by loading it back."""
    d = yaml.safe_load(Path(base_path).read_text()) or {}
    cfg = apply_params(load_config(base_path, TrainConfig), params, sets=sets)
    full = to_dict(cfg)
    for k in [*(sets or {}), *param_overrides(params)]:
        parts = k.split(".")[:2]               # loss.weights.soluble -> loss.weights (the whole mapping)
        val: Any = full
        for q in parts:
            val = val[q]
        _set_dotted(d, ".".join(parts), copy.deepcopy(val))
    if any(k.startswith("loss.") for k in [*(sets or {}), *param_overrides(params)]):
        d["loss"] = {"weights": cfg.loss.task_weights(cfg.data.tasks)}   # every task's resolved weight
    text = (header.rstrip() + "\n" if header else "") + yaml.safe_dump(d, sort_keys=False)
    back = from_dict(TrainConfig, yaml.safe_load(text))
    same = ({k: v for k, v in to_dict(back).items() if k != "loss"} == {k: v for k, v in full.items() if k != "loss"}
            and back.loss.task_weights(cfg.data.tasks) == cfg.loss.task_weights(cfg.data.tasks))
    if not same:
        raise ConfigError("tuned config: the written YAML does not load back to the chosen configuration")
    return text


# ------------------------------------------------------------------ folds
def _exp_frame(data: TrainingData) -> tuple[np.ndarray, pd.DataFrame]:
    if "chi_exp" not in data.tasks or len(data.tasks["chi_exp"]) == 0:
        raise InvalidInputError("tuning scores experimental chi: the data have no chi_exp rows")
    rows = np.sort(data.tasks["chi_exp"].row)
    return rows, data.table.iloc[rows].reset_index(drop=True)


def polymer_folds(data: TrainingData, n_splits: int, seed: int) -> list[set[str]]:
    """Held-out polymer sets of a GroupKFold by polymer over the experimental chi rows (the
    grouping and shuffling of :func:`chiscreen.data.splits.grouped_kfold`, as
    ``evaluate_grouped`` uses it)."""
    from chiscreen.data.splits import grouped_kfold

    _, ex = _exp_frame(data)
    return [set(ex[POLYMER_KEY].iloc[te]) for _, te in grouped_kfold(ex, by="polymer", n_splits=n_splits, seed=seed)]


def outer_train_mask(data: TrainingData, held: set[str]) -> np.ndarray:
    """Strict protocol: True for label rows whose polymer is not held out (every task)."""
    return ~data.table[POLYMER_KEY].isin(held).to_numpy()


def heldout_rows(data: TrainingData, held: set[str]) -> np.ndarray:
    """Label-table rows of the experimental chi of the held-out polymers (sorted)."""
    rows, ex = _exp_frame(data)
    return rows[ex[POLYMER_KEY].isin(held).to_numpy()]


# ------------------------------------------------------------------ scoring
def _metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    from chiscreen.model.evaluate import regression_metrics

    return regression_metrics(y, p)


def train_and_predict(cfg: TrainConfig, data: TrainingData, held: set[str]) -> tuple[pd.DataFrame, float]:
    """Train ``cfg`` without any row of the ``held`` polymers; predict their experimental chi.
    Returns (rows: row, y, pred, std, temperature_K, polymer_key; training seconds)."""
    from chiscreen.model.train import train_ensemble

    rows = heldout_rows(data, held)
    if len(rows) == 0:
        raise InvalidInputError(f"no experimental chi rows for the {len(held)} held-out polymer(s)")
    keep = outer_train_mask(data, held)
    sub = data.subset_rows(keep)
    assert not set(sub.table[POLYMER_KEY]) & held
    res = train_ensemble(cfg, sub, log=lambda m: None, progress=False)
    pred = predict_task_rows(res.ensemble, data, rows, "chi_exp")
    pred[POLYMER_KEY] = data.table[POLYMER_KEY].to_numpy()[rows]
    return pred, res.seconds


def score_config(cfg: TrainConfig, data: TrainingData, folds: list[set[str]],
                 on_fold: Callable[[dict], None] | None = None) -> dict:
    """The tuning objective: train ``cfg`` once per held-out polymer set of ``folds`` (strict) and
    score experimental chi on the held-out rows.

    ``on_fold(metrics)`` is called after every fold with the running result (what a Ray Tune
    trial reports; ASHA may stop the trial there): r2 / rmse pooled over the folds done, the
    last fold's r2, folds_done, seconds. Returns the final running result plus ``per_fold``.
    Raises InvalidInputError when a fold has no experimental rows.
    """
    preds, per = [], []
    t0 = time.perf_counter()
    out: dict = {}
    for i, held in enumerate(folds):
        p, secs = train_and_predict(cfg, data, held)
        preds.append(p)
        m = _metrics(p["y"].to_numpy(), p["pred"].to_numpy())
        per.append({"fold": i, "n": m["n"], "r2": m["r2"], "rmse": m["rmse"], "seconds": secs, "n_polymers": len(held)})
        allp = pd.concat(preds, ignore_index=True)
        pooled = _metrics(allp["y"].to_numpy(), allp["pred"].to_numpy())
        out = {"r2": pooled["r2"], "rmse": pooled["rmse"], "n": pooled["n"], "fold_r2": m["r2"],
               "min_fold_r2": float(min(f["r2"] for f in per)), "folds_done": i + 1,
               "seconds": time.perf_counter() - t0}
        if on_fold is not None:
            on_fold(dict(out))
    out["per_fold"] = per
    return out


def choose_best(trials: pd.DataFrame, metric: str, n_folds: int) -> pd.Series:
    """The best trial among those that finished all ``n_folds`` inner folds (ASHA-stopped trials
    scored fewer folds and are not comparable). ``trials``: one row per trial with the metric
    and ``folds_done``. Raises InvalidInputError when none finished."""
    done = trials[(trials["folds_done"] >= n_folds) & np.isfinite(trials[metric].astype(float))]
    if done.empty:
        raise InvalidInputError(f"no trial finished all {n_folds} inner folds ({len(trials)} trial(s))")
    best = done[metric].astype(float).idxmax() if metric == "r2" else done[metric].astype(float).idxmin()
    return done.loc[best]


def nested_predictions(cfg: TrainConfig, data: TrainingData, held: set[str], fold: int, seed: int) -> pd.DataFrame:
    """One outer fold of the nested evaluation: ``cfg`` (chosen without these polymers) trained
    with seed ``seed`` on the outer-training rows, tested on the fold; columns as
    ``evaluate_grouped`` writes them (fold, exp_row, group, seconds, y, pred, std, ...) so that
    :func:`chiscreen.model.evaluate.summarize` reads them."""
    cfg = copy.deepcopy(cfg)
    cfg.seed = int(seed)
    pred, secs = train_and_predict(cfg, data, held)
    t = data.table
    pred["fold"] = fold
    pred["exp_row"] = t["source_row"].to_numpy()[pred["row"].to_numpy()] if "source_row" in t else pred["row"]
    pred["group"] = pred[POLYMER_KEY]
    pred["seconds"] = secs
    return pred


__all__ = ["TuningConfig", "SchedulerConfig", "SPACE_KINDS", "load_tuning_config", "resolve_base", "check_space",
           "param_overrides", "apply_params", "tuned_config_yaml", "polymer_folds", "outer_train_mask", "heldout_rows",
           "train_and_predict", "score_config", "choose_best", "nested_predictions"]
