"""The few places where active learning touches layers that are being reshaped right now.

Each adapter is one function, so that switching to the model layer's ``EnsemblePrediction`` /
task registry / retrainable trainer, or to the runtime's owned-folder helper and Ray start,
is a one-line change here and nowhere else.

- :func:`member_values`: per-member values (E, N) of one task for aligned latent rows.
- :func:`oracle_head`: which head of the ensemble carries the ``chi_oracle`` task.
- :func:`start_ray`: connect to / start Ray for the oracle tasks.
"""
from __future__ import annotations

import numpy as np
import torch

#: Head of the current (pre task-registry) ensemble that carries the project's own
#: xtb -> COSMO-SAC values in an AL run. An AL run trains that head only on ``chi_oracle``
#: rows (the reference COSMO-RS rows are never in an AL training set), so it is a head of its
#: own. With the task registry (issue 8) this becomes the ``chi_oracle`` TaskSpec.
ORACLE_HEAD = "chi_comp"

#: task name as AL uses it -> head of the ensemble
TASK_HEADS = {"chi_oracle": ORACLE_HEAD, "chi_exp": "chi_exp"}


def oracle_head(task: str) -> str:
    """Ensemble head name ("chi_exp" / "chi_comp") of an AL task ("chi_oracle", "chi_exp")."""
    from chiscreen.errors import InvalidInputError

    if task not in TASK_HEADS:
        raise InvalidInputError(f"unknown AL task {task!r}; expected one of {sorted(TASK_HEADS)}")
    return TASK_HEADS[task]


@torch.no_grad()
def member_values(ens, Up: torch.Tensor, Us: torch.Tensor, pi: np.ndarray, si: np.ndarray,
                  T_K: np.ndarray, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Raw (uncalibrated) per-member chi of ``task`` and P(soluble) for rows (pi[n], si[n], T[n]).

    Args:
        ens: a ChiEnsemble. Up (E, P, 2d), Us (E, S, 2d): latents of the pool's molecules.
        pi, si: (N,) int indices into Up / Us; T_K: (N,) Kelvin.
    Returns:
        chi (E, N) float64, p_soluble (E, N) float64.
    """
    Y = ens.pair_outputs(Up[:, torch.as_tensor(pi)], Us[:, torch.as_tensor(si)]).double().cpu().numpy()
    chi = ens.chi_from_outputs(Y, np.asarray(T_K, dtype=np.float64)[None, :], oracle_head(task))
    logit = Y[..., ens.outputs.index("logit")]
    return chi, 1.0 / (1.0 + np.exp(-np.clip(logit, -60, 60)))


def std_scale(ens, task: str) -> float:
    """Calibration factor of the ensemble spread for ``task`` (1.0 when not calibrated)."""
    return float(ens.std_scale.get(oracle_head(task), 1.0))


def start_ray(num_cpus: int | None = None, address: str | None = None) -> None:
    """Start (or join) Ray for oracle tasks (the qc runner's entrypoint helper)."""
    from chiscreen.qc.parallel import init_ray

    init_ray(num_cpus=num_cpus, address=address)


def run_lock(path):
    """Exclusive advisory lock of an owned folder (context manager): fcntl lock on
    ``path/.lock`` holding the owner's pid and host; a second holder gets a clear error.
    (The runtime's owned-folder helper replaces this when it lands.)"""
    from chiscreen.al._lock import folder_lock

    return folder_lock(path)
