"""Model layer: the multitask two-tower deep ensemble for Flory-Huggins chi and solubility.

    from chiscreen.model import load_ensemble
    ens = load_ensemble()                       # shipped default model
    df = ens.predict(["*CC(*)c1ccccc1"], ["Cc1ccccc1"], [298.15])

- :mod:`~chiscreen.model.network`: stacked towers and the pair head (all members in one module)
- :mod:`~chiscreen.model.ensemble`: :class:`ChiEnsemble` (encode, head parameters, predict)
- :mod:`~chiscreen.model.artifact`: save / :func:`load_ensemble` (no pickle)
- :mod:`~chiscreen.model.train`: :func:`train_ensemble` on experimental chi, computed chi, solubility
- :mod:`~chiscreen.model.evaluate`: official / leave-polymer-out evaluation, calibration, plots
- :mod:`~chiscreen.model.predict`: DataFrame predictions with per-row status
"""
from chiscreen.model.artifact import default_model_dir, load_ensemble, save_artifact
from chiscreen.model.config import DataConfig, LossConfig, ModelConfig, OptimConfig, TrainConfig
from chiscreen.model.ensemble import ChiEnsemble

__all__ = [
    "ChiEnsemble", "load_ensemble", "save_artifact", "default_model_dir", "TrainConfig",
    "ModelConfig", "LossConfig", "OptimConfig", "DataConfig",
]
