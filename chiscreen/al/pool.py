"""Candidate pools and the ensemble posterior over them.

A pool is an explicit list of (polymer, solvent, T) rows over a small set of molecules:
descriptors are computed once per molecule (cached by the features layer), latents once per
molecule and model, and member values for the rows are gathered from those latents in chunks.

    pool = CandidatePool.from_product(polymers, solvents, [298.15, 323.15])
    post = pool.posterior(ens, task="chi_oracle")       # PoolPosterior over all rows
    post.values   # (E, N) calibrated member chi: mean + s (v - mean), s = std_scale
    post.mean, post.std                                  # (N,), std = s * ensemble std (ddof 1)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from chiscreen.al.adapters import member_values, std_scale
from chiscreen.errors import InvalidInputError

POOL_COLUMNS = ["polymer_key", "solvent_key", "temperature_K"]


@dataclass
class PoolPosterior:
    """Ensemble posterior over N pool rows (numpy; what acquisition functions read).

    Attributes:
        values: (E, N) calibrated member chi values of ``task``.
        mean: (N,) ensemble mean; std: (N,) calibrated std (s * sample std, ddof 1).
        p_soluble: (E, N) member P(soluble) (None when not computed).
        chi_c: (N,) critical chi per row (0.5: long-chain limit unless the pool says otherwise).
        task: "chi_oracle" or "chi_exp"; scale: the std_scale used.
    """

    values: np.ndarray
    mean: np.ndarray
    std: np.ndarray
    p_soluble: np.ndarray | None = None
    chi_c: np.ndarray | None = None
    task: str = "chi_oracle"
    scale: float = 1.0

    @classmethod
    def from_members(cls, raw: np.ndarray, scale: float = 1.0, p_soluble: np.ndarray | None = None,
                     chi_c: np.ndarray | float | None = 0.5, task: str = "chi_oracle") -> "PoolPosterior":
        """Calibrated posterior from raw member values (E, N): v' = mean + scale (v - mean)."""
        raw = np.asarray(raw, dtype=np.float64)
        if raw.ndim != 2 or raw.shape[0] < 1:
            raise InvalidInputError(f"member values must be (E, N), got shape {raw.shape}")
        mean = raw.mean(0)
        vals = mean[None, :] + float(scale) * (raw - mean[None, :])
        std = vals.std(0, ddof=1) if raw.shape[0] > 1 else np.zeros(raw.shape[1])
        n = raw.shape[1]
        cc = np.full(n, 0.5) if chi_c is None else np.broadcast_to(np.asarray(chi_c, dtype=float), (n,)).copy()
        return cls(vals, mean, std, p_soluble, cc, task, float(scale))

    @property
    def n_members(self) -> int:
        return self.values.shape[0]

    def __len__(self) -> int:
        return self.values.shape[1]

    def subset(self, idx: np.ndarray) -> "PoolPosterior":
        idx = np.asarray(idx)
        return PoolPosterior(self.values[:, idx], self.mean[idx], self.std[idx],
                             None if self.p_soluble is None else self.p_soluble[:, idx],
                             None if self.chi_c is None else self.chi_c[idx], self.task, self.scale)


@dataclass
class CandidatePool:
    """Pool rows over indexed molecules.

    Attributes:
        polymers, solvents: canonical identities (keys), one per molecule.
        pi, si: (N,) indices into polymers / solvents; T: (N,) Kelvin.
        Xp, Xs: raw descriptors per molecule (set by :meth:`featurize`).
    """

    polymers: list[str]
    solvents: list[str]
    pi: np.ndarray
    si: np.ndarray
    T: np.ndarray
    Xp: np.ndarray | None = None
    Xs: np.ndarray | None = None
    _latents: dict = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.pi)

    @classmethod
    def from_product(cls, polymers: list[str], solvents: list[str], temperatures_K: list[float]) -> "CandidatePool":
        P, S, K = len(polymers), len(solvents), len(temperatures_K)
        pi, si, ti = np.meshgrid(np.arange(P), np.arange(S), np.arange(K), indexing="ij")
        return cls(list(polymers), list(solvents), pi.ravel(), si.ravel(),
                   np.asarray(temperatures_K, dtype=float)[ti.ravel()])

    @classmethod
    def from_table(cls, df: pd.DataFrame) -> "CandidatePool":
        """From a table with polymer_key, solvent_key, temperature_K (row order kept)."""
        miss = [c for c in POOL_COLUMNS if c not in df.columns]
        if miss:
            raise InvalidInputError(f"pool table: missing column(s) {miss}; expected {POOL_COLUMNS}")
        pk = list(dict.fromkeys(df["polymer_key"]))
        sk = list(dict.fromkeys(df["solvent_key"]))
        pidx = {k: i for i, k in enumerate(pk)}
        sidx = {k: i for i, k in enumerate(sk)}
        return cls(pk, sk, df["polymer_key"].map(pidx).to_numpy(), df["solvent_key"].map(sidx).to_numpy(),
                   df["temperature_K"].to_numpy(dtype=float))

    def table(self) -> pd.DataFrame:
        return pd.DataFrame({"polymer_key": np.asarray(self.polymers, dtype=object)[self.pi],
                             "solvent_key": np.asarray(self.solvents, dtype=object)[self.si],
                             "temperature_K": self.T})

    def row_keys(self) -> np.ndarray:
        """A string identity per row: polymer|solvent|T (T rounded to 0.01 K)."""
        t = self.table()
        return (t["polymer_key"] + "|" + t["solvent_key"] + "|" + t["temperature_K"].round(2).map("{:.2f}".format)).to_numpy()

    def featurize(self, featurizer: str = "rdkit2d", representation: str = "cyclic:3", progress: bool = False,
                  timeout_s: float = 60.0) -> "CandidatePool":
        """Descriptors once per molecule (cached). Rows whose molecule fails are dropped (returned
        pool) and reported by :attr:`dropped`."""
        from chiscreen.features import featurize

        fp = featurize(self.polymers, kind="polymer", featurizer=featurizer, representation=representation,
                       progress=progress, timeout_s=timeout_s, assume_canonical=True)
        fs = featurize(self.solvents, kind="solvent", featurizer=featurizer, progress=progress,
                       timeout_s=timeout_s, assume_canonical=True)
        okp, oks = fp.ok, fs.ok
        keep = okp[self.pi] & oks[self.si]
        self.Xp, self.Xs = fp.X, fs.X
        self.dropped = pd.DataFrame({"polymer_key": np.asarray(self.polymers, dtype=object)[self.pi[~keep]],
                                     "solvent_key": np.asarray(self.solvents, dtype=object)[self.si[~keep]],
                                     "temperature_K": self.T[~keep]})
        if not keep.all():
            self.pi, self.si, self.T = self.pi[keep], self.si[keep], self.T[keep]
        return self

    def latents(self, ens) -> tuple[torch.Tensor, torch.Tensor]:
        """(Up (E, P, 2d), Us (E, S, 2d)) of every pool molecule for ``ens``, computed once per model."""
        if self.Xp is None or self.Xs is None:
            raise InvalidInputError("pool not featurized: call CandidatePool.featurize() first")
        key = id(ens), ens.artifact_hash
        if key not in self._latents:
            self._latents.clear()
            self._latents[key] = (ens.encode_polymers(self.Xp), ens.encode_solvents(self.Xs))
        return self._latents[key]

    def posterior(self, ens, task: str = "chi_oracle", rows: np.ndarray | None = None,
                  chunk: int = 200_000, chi_c: float | np.ndarray = 0.5) -> PoolPosterior:
        """Calibrated ensemble posterior over the pool rows (or ``rows``), gathered in chunks."""
        Up, Us = self.latents(ens)
        idx = np.arange(len(self)) if rows is None else np.asarray(rows)
        chis, ps = [], []
        for a in range(0, len(idx), chunk):
            j = idx[a:a + chunk]
            c, p = member_values(ens, Up, Us, self.pi[j], self.si[j], self.T[j], task)
            chis.append(c)
            ps.append(p)
        E = ens.n_members
        raw = np.concatenate(chis, 1) if chis else np.zeros((E, 0))
        p = np.concatenate(ps, 1) if ps else np.zeros((E, 0))
        return PoolPosterior.from_members(raw, std_scale(ens, task), p, chi_c, task)
