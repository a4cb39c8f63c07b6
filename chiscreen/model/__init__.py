"""Model layer: the multitask two-tower deep ensemble for Flory-Huggins chi and solubility.

    from chiscreen.model import load_ensemble
    from chiscreen.model.predict import predict_pairs
    ens = load_ensemble()                       # shipped default model
    df = predict_pairs(ens, ["*CC(*)c1ccccc1"], ["Cc1ccccc1"], [298.15])
    post = ens.posterior(Xp, Xs, T_K)           # EnsemblePrediction: per-member values, mean, std

- :mod:`~chiscreen.model.tasks`: the task registry (TaskSpec): outputs, losses, label columns, heads
- :mod:`~chiscreen.model.network`: stacked towers and the pair head (all members in one module)
- :mod:`~chiscreen.model.ensemble`: :class:`ChiEnsemble` (encode, head parameters, posteriors)
- :mod:`~chiscreen.model.posterior`: :class:`EnsemblePrediction` (the one place std_scale is applied)
- :mod:`~chiscreen.model.artifact`: save / :func:`load_ensemble` / :func:`artifact_hash` (no pickle)
- :mod:`~chiscreen.model.train`: :func:`train_ensemble` (steps; warm start, in-memory labels)
- :mod:`~chiscreen.model.uncertainty`, :mod:`~chiscreen.model.calibration`: metrics, std_scale fitting
- :mod:`~chiscreen.model.build`: :func:`train_and_save` (what ``chiscreen train`` runs)
- :mod:`~chiscreen.model.evaluate`: official / leave-polymer-out evaluation, plots
- :mod:`~chiscreen.model.predict`: DataFrame predictions with per-row status
"""
from chiscreen.model.artifact import artifact_hash, default_model_dir, load_ensemble, save_artifact
from chiscreen.model.config import DataConfig, LossConfig, ModelConfig, OptimConfig, TrainConfig
from chiscreen.model.ensemble import ChiEnsemble
from chiscreen.model.posterior import EnsemblePrediction
from chiscreen.model.tasks import TASKS, TaskSpec, register_task

__all__ = [
    "ChiEnsemble", "EnsemblePrediction", "load_ensemble", "save_artifact", "artifact_hash", "default_model_dir",
    "TrainConfig", "ModelConfig", "LossConfig", "OptimConfig", "DataConfig", "TASKS", "TaskSpec", "register_task",
]
