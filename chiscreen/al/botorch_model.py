"""The deep ensemble as a BoTorch ``EnsembleModel`` over a discrete candidate pool.

Inputs are pool row indices: ``X`` of shape ``batch x q x 1`` (float, integral values) picks
rows of a :class:`~chiscreen.al.pool.PoolPosterior`, whose calibrated member values were
gathered from latents computed once per molecule. ``forward`` returns ``batch x E x q x 1``:
member e's calibrated chi (mean + s (v - mean)) at each row, so the posterior's mean is the
ensemble mean and its standard deviation the calibrated ensemble std (BoTorch's unbiased
variance over uniformly weighted members equals the ddof-1 sample variance).

BoTorch is imported only inside chiscreen/al/.
"""
from __future__ import annotations

import numpy as np
import torch
from botorch.models.ensemble import EnsembleModel

from chiscreen.al.pool import PoolPosterior


class PoolEnsembleModel(EnsembleModel):
    """EnsembleModel whose members are the ensemble's calibrated predictions over a pool."""

    _num_outputs = 1

    def __init__(self, posterior: PoolPosterior, dtype: torch.dtype = torch.float64) -> None:
        super().__init__()
        self.pool_values = torch.as_tensor(np.ascontiguousarray(posterior.values), dtype=dtype)  # (E, N)
        self.n_rows = self.pool_values.shape[1]

    def forward(self, X: torch.Tensor) -> torch.Tensor:
        """X (..., q, 1) row indices -> member values (..., E, q, 1)."""
        idx = X[..., 0].round().long()
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.n_rows):
            raise IndexError(f"pool row index out of range [0, {self.n_rows})")
        vals = self.pool_values[:, idx.reshape(-1)]                   # (E, prod(batch) * q)
        vals = vals.reshape(self.pool_values.shape[0], *idx.shape)    # (E, ..., q)
        vals = vals.movedim(0, -2)                                    # (..., E, q)
        return vals.unsqueeze(-1)


def rows_as_inputs(rows: np.ndarray, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """Pool row indices (n,) -> BoTorch discrete choices (n, 1)."""
    return torch.as_tensor(np.asarray(rows), dtype=dtype).reshape(-1, 1)
