"""Active learning: the ensemble posterior over a candidate pool as a BoTorch model, an
acquisition registry, cost-aware batch selection, and resumable cycles (select -> oracle ->
labels -> retrain -> evaluate -> report) in a run directory.

    from chiscreen.al import ALRun
    run = ALRun.init("configs/al-demo.yaml", "runs/al")     # pool, eval set, initial model
    run.cycle()                                             # one cycle (resumes if interrupted)

Importing this package does not import BoTorch or Ray (they load when a cycle needs them).
"""
from chiscreen.al.acquisition import ACQUISITIONS, SelectContext, Selection, select
from chiscreen.al.config import ALConfig, load_al_config
from chiscreen.al.cost import CostConfig, CostModel
from chiscreen.al.pool import CandidatePool, PoolPosterior
from chiscreen.al.run import ALRun, RunDirError

__all__ = ["ACQUISITIONS", "ALConfig", "ALRun", "CandidatePool", "CostConfig", "CostModel", "PoolPosterior",
           "RunDirError", "SelectContext", "Selection", "load_al_config", "select"]
