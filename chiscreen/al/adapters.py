"""The few places where active learning touches layers that are being reshaped right now.

Each adapter is one function, so that switching to the model layer's ``EnsemblePrediction`` /
task registry / retrainable trainer, or to the runtime's owned-folder helper and Ray start,
is a one-line change here and nowhere else.

- :func:`member_values`: per-member values (E, N) of one task for aligned latent rows.
- :func:`oracle_head`: which head of the ensemble carries the ``chi_oracle`` task.
- :func:`start_ray`: connect to / start Ray for the oracle tasks (the runtime's one Ray start).
- :func:`run_dir`: the run directory as an owned folder (the runtime's :class:`OwnedDir`).
"""
from __future__ import annotations

import numpy as np
import torch

#: The model task that carries the project's own xtb -> COSMO-SAC values (its own head, never
#: mixed with the reference COSMO-RS values of ``chi_comp``; see chiscreen.model.tasks).
ORACLE_HEAD = "chi_oracle"

#: task name as AL uses it -> model task
TASK_HEADS = {"chi_oracle": ORACLE_HEAD, "chi_exp": "chi_exp"}


def oracle_head(task: str) -> str:
    """Model task ("chi_oracle", "chi_exp") of an AL task name."""
    from chiscreen.errors import InvalidInputError

    if task not in TASK_HEADS:
        raise InvalidInputError(f"unknown AL task {task!r}; expected one of {sorted(TASK_HEADS)}")
    return TASK_HEADS[task]


def model_task(ens, task: str) -> str:
    """The task of ``ens`` whose posterior stands for ``task``: the task itself, or -- for a
    model that has no ``chi_oracle`` head yet (before the first oracle rows) -- ``chi_exp``,
    the model's best prior for chi."""
    t = oracle_head(task)
    return t if t in ens.tasks else "chi_exp"


@torch.no_grad()
def member_values(ens, Up: torch.Tensor, Us: torch.Tensor, pi: np.ndarray, si: np.ndarray,
                  T_K: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Raw (uncalibrated) per-member chi of ``task`` and P(soluble) for rows (pi[n], si[n], T[n]),
    from the model's :class:`~chiscreen.model.posterior.EnsemblePrediction` over latents.

    Args:
        ens: a ChiEnsemble. Up (E, P, 2d), Us (E, S, 2d): latents of the pool's molecules.
        pi, si: (N,) int indices into Up / Us; T_K: (N,) Kelvin.
    Returns:
        chi (E, N) float64, p_soluble (E, N) float64.
    """
    post = ens.posterior_pool(Up, Us, np.asarray(pi), np.asarray(si), np.asarray(T_K, dtype=np.float64))
    return post[model_task(ens, task)], post["p_soluble"]


def std_scale(ens, task: str) -> float:
    """Calibration factor of the ensemble spread for ``task`` (1.0 when not calibrated)."""
    from chiscreen.model.posterior import std_scale_of

    return std_scale_of(ens.std_scale, model_task(ens, task))


def save_model(ens, path, metrics: dict | None = None):
    """Write a model artifact directory (loadable by ``--model``)."""
    from chiscreen.model.artifact import save_artifact

    return save_artifact(ens, path, metrics=metrics)


def start_ray(num_cpus: int | None = None, address: str | None = None) -> None:
    """Start (or join) Ray for oracle tasks through :func:`chiscreen.runtime.connect_ray`, the one
    place chiscreen starts Ray (a local session: no dashboard, no token-auth warning). Thread
    settings are per task: the oracle's Ray tasks run with ``ray_options(threads=1)``."""
    from chiscreen.runtime import connect_ray

    connect_ray(address=address, num_cpus=num_cpus)


#: kind of the run directory's manifest (``manifest.json`` with format ``chiscreen-al-run``)
RUN_KIND = "al-run"
#: every file an AL run writes (relative glob patterns of the owned folder)
RUN_OWNED = ["manifest.json", "config.yaml", "pool.parquet", "state.json", "model", "models/*/*",
             "labels/oracle/*.parquet", "labels/lab/*.parquet", "cycles/*/*", "report/*"]


def run_dir(path, take_over: bool = False):
    """The run directory opened for one writer (context manager): the runtime's
    :class:`~chiscreen.runtime.outdir.OwnedDir` of kind ``al-run``: its manifest marks it as an
    AL run, its exclusive lock (``.chiscreen.lock``: pid, host, start) makes a second cycle of the
    run refuse with :class:`~chiscreen.runtime.outdir.OutputLockedError`, and a lock left by a
    killed cycle is reported as stale and taken over only with ``take_over`` (``--take-over``).
    Never opened with ``overwrite``: a run accumulates state and is never replaced."""
    from chiscreen.runtime.outdir import OwnedDir

    return OwnedDir(path, kind=RUN_KIND, owned=RUN_OWNED, take_over=take_over)
