"""Block scoring: the ensemble pair head for a polymer block x every solvent x temperatures.

The pair head of member e is ``y_k = z0 . W[e, k] + b[e, k]`` with
``z0 = (s_p - s_s)^2 - r_p^2 - r_s^2``. Because z0 is quadratic, for a block of P polymers and
S solvents

    W z0 = W (s_p^2 - r_p^2) + W (s_s^2 - r_s^2) - 2 (W * s_p) . s_s

so the whole block is ONE batched matrix product per member, with no (P, S, d) intermediate
(the direct form is ~40x slower). At fixed temperatures the five head outputs collapse: chi is
linear in (A, B, C), so ``chi(T_j) = W_A + W_B / T_j (+ W_C / T_j^2)`` is one row of a collapsed
head; the K' = 1 + n_T rows are [logit, chi(T_1), ..., chi(T_n)].

The GEMM is augmented so bias and per-side terms come out of the same product:

    polymer side  Ap (E, P*K', d+1+K') = [-2 W_k * s_p ; g_p,k + b_k ; onehot_k]
    solvent side  As (E, d+1+K', S)    = [s_s ; 1 ; g_s]
    Ap @ As -> (E, P, K', S)

Ensemble statistics use running sums and sums of squares over members (torch.std_mean was ~10x
slower on CPU). The solvent side is prepared once per job and reused for every block. This fast
path is tested equal to :class:`chiscreen.model.posterior.EnsemblePrediction` (the one definition
of mean, std and calibrated std); its std factor comes from
:func:`chiscreen.model.posterior.std_scale_of` via :meth:`BlockScorer.for_ensemble`.

Chi heads (``head``) are the screen names of the chi tasks in :mod:`chiscreen.model.tasks`
("exp", "comp", ...; :func:`chiscreen.model.tasks.head_names`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

import chiscreen.model.tasks as _tasks
from chiscreen.errors import ChiscreenError, ScreenError
from chiscreen.model.posterior import EnsemblePrediction, member_mean_std, std_scale_of

SOLUBILITY_TASK = "soluble"  # the binary task whose probability screens report as p_soluble


def head_task(head: str) -> _tasks.TaskSpec:
    """The chi task of a screen head name ("exp" -> chi_exp); ScreenError when unknown."""
    try:
        return _tasks.task_of_head(head)
    except ChiscreenError:
        raise ScreenError(f"unknown chi head {head!r}; expected one of {_tasks.head_names()}") from None


def logit_output() -> str:
    return _tasks.get_task(SOLUBILITY_TASK).outputs[0]


def collapse_head(W: torch.Tensor, b: torch.Tensor, outputs: Sequence[str], temperatures_K: Sequence[float],
                  head: str = "exp") -> tuple[torch.Tensor, torch.Tensor]:
    """Collapse the head to K' = 1 + n_T rows [logit, chi(T_1), ..., chi(T_n)].

    Args:
        W: (E, K, d) head weights, b: (E, K) biases, in physical units (``ens.head_params()``).
        outputs: names of the K outputs (``ens.outputs``).
        temperatures_K: temperatures in Kelvin.
        head: a chi head name ("exp": experimental chi, default; "comp": computed, COSMO-RS-like
            chi; see :func:`chiscreen.model.tasks.head_names`).
    Returns:
        Wc (E, K', d), bc (E, K').
    """
    spec = head_task(head)
    outputs = list(outputs)
    a, bname, c = spec.chi_outputs(True)
    logit = logit_output()
    for need in (logit, a, bname):
        if need not in outputs:
            raise ScreenError(f"model outputs {outputs} lack {need!r}, needed for the {head!r} head")
    K = len(outputs)
    rows = [np.eye(K)[outputs.index(logit)]]
    for T in temperatures_K:
        r = np.zeros(K)
        r[outputs.index(a)] = 1.0
        r[outputs.index(bname)] = 1.0 / float(T)
        if c in outputs:
            r[outputs.index(c)] = 1.0 / float(T) ** 2
        rows.append(r)
    M = torch.tensor(np.stack(rows), dtype=torch.float64)  # (K', K)
    Wc = torch.einsum("jk,ekd->ejd", M, W.double()).to(W.dtype)
    bc = (b.double() @ M.T).to(b.dtype)
    return Wc.contiguous(), bc.contiguous()


def prepare_solvents(Us: torch.Tensor, Wc: torch.Tensor) -> torch.Tensor:
    """Solvent side of the augmented GEMM: latents (E, S, 2d) -> (E, d+1+K', S)."""
    d = Wc.shape[-1]
    s, r = Us[..., :d], Us[..., d:]
    gs = (s * s - r * r) @ Wc.transpose(1, 2)  # (E, S, K')
    ones = torch.ones(*s.shape[:2], 1, dtype=Us.dtype, device=Us.device)
    return torch.cat([s, ones, gs], -1).transpose(1, 2).contiguous()


def prepare_polymers(Up: torch.Tensor, Wc: torch.Tensor, bc: torch.Tensor) -> torch.Tensor:
    """Polymer side of the augmented GEMM: latents (E, P, 2d) -> (E, P*K', d+1+K')."""
    E, P, _ = Up.shape
    K, d = Wc.shape[1:]
    s, r = Up[..., :d], Up[..., d:]
    gp = (s * s - r * r) @ Wc.transpose(1, 2) + bc[:, None, :]  # (E, P, K')
    cross = -2.0 * s[:, :, None, :] * Wc[:, None, :, :]  # (E, P, K', d)
    eye = torch.eye(K, dtype=Up.dtype, device=Up.device).expand(E, P, K, K)
    return torch.cat([cross, gp[..., None], eye], -1).reshape(E, P * K, d + 1 + K)


@dataclass
class BlockScores:
    """Ensemble statistics for P polymers x S solvents x n_T temperatures (float32 tensors).

    Attributes:
        chi: (P, T, S) ensemble mean chi(T).
        chi_std: (P, T, S) ensemble std of chi times the model's std_scale.
        p_soluble: (P, S) mean over members of sigmoid(logit) (T-independent), or None when the
            scorer was asked not to compute it for every pair (see :meth:`BlockScorer.pair_p`).
        p_soluble_std: (P, S) ensemble std of the probability, or None likewise.
    """

    chi: torch.Tensor
    chi_std: torch.Tensor
    p_soluble: torch.Tensor | None = None
    p_soluble_std: torch.Tensor | None = None

    @property
    def shape(self) -> tuple[int, int, int]:
        P, T, S = self.chi.shape
        return P, T, S


class BlockScorer:
    """Scores polymer latents against a fixed solvent set at fixed temperatures.

    Holds the collapsed head and the prepared solvent side; every engine path (in-process, Ray
    actor, GPU actor) calls :meth:`score` on blocks of polymer latents.

    P(soluble) needs one sigmoid per member and pair, which costs more than the GEMM itself on a
    CPU; with ``p_all=False`` :meth:`score` leaves it out and :meth:`pair_p` computes it for the
    few pairs a query keeps.

    Args:
        W, b: physical head (E, K, d), (E, K) from ``ens.head_params()``.
        outputs: ``ens.outputs``.
        Us: solvent latents (E, S, 2d) from ``ens.encode_solvents``.
        temperatures_K: temperatures in Kelvin.
        head: a chi head name ("exp", "comp", ...).
        std_scale: factor on the raw ensemble std of chi; use :meth:`for_ensemble`, which takes
            it from :func:`chiscreen.model.posterior.std_scale_of` (the one definition).
        chunk: polymers per GEMM (bounds the (E, chunk, K', S) intermediate).
        p_all: compute P(soluble) for every pair in :meth:`score`.
    """

    def __init__(self, W: torch.Tensor, b: torch.Tensor, outputs: Sequence[str], Us: torch.Tensor,
                 temperatures_K: Sequence[float], head: str = "exp", std_scale: float = 1.0,
                 chunk: int = 128, p_all: bool = True) -> None:
        if len(temperatures_K) == 0:
            raise ScreenError("no temperatures given; expected at least one (Kelvin)")
        self.device = Us.device
        self.temperatures_K = [float(t) for t in temperatures_K]
        self.head = head
        self.std_scale = float(std_scale)
        self.chunk = int(chunk)
        self.p_all = bool(p_all)
        W = W.to(self.device, torch.float32)
        b = b.to(self.device, torch.float32)
        Wc, bc = collapse_head(W, b, outputs, self.temperatures_K, head)   # rows: logit, chi(T)...
        if not self.p_all:
            Wc, bc = Wc[:, 1:].contiguous(), bc[:, 1:].contiguous()
        self.Wc, self.bc = Wc, bc
        self.W_logit = W[:, list(outputs).index(logit_output())].contiguous()     # (E, d)
        self.b_logit = b[:, list(outputs).index(logit_output())].contiguous()     # (E,)
        self.E, self.K, self.d = Wc.shape
        if Us.shape[0] != self.E or Us.shape[-1] != 2 * self.d:
            raise ScreenError(f"solvent latents have shape {tuple(Us.shape)}, expected ({self.E}, S, {2 * self.d})")
        self.Us = Us.to(torch.float32)
        self.As = prepare_solvents(self.Us, Wc)
        self.n_solvents = Us.shape[1]
        self._logit_s: torch.Tensor | None = None
        self._logit_cs: torch.Tensor | None = None
        self.numpy_gather = self.device.type == "cpu"  # torch index_select on accelerators

    @classmethod
    def for_ensemble(cls, ens, Us: torch.Tensor, temperatures_K: Sequence[float], head: str = "exp",
                     chunk: int = 128, p_all: bool = True) -> "BlockScorer":
        """A scorer for ``ens`` (a ChiEnsemble): its physical head, outputs and the std factor
        of the head's chi task."""
        spec = head_task(head)
        W, b = ens.head_params()
        return cls(W, b, ens.outputs, Us, temperatures_K, head=head, std_scale=std_scale_of(ens.std_scale, spec.name),
                   chunk=chunk, p_all=p_all)

    @torch.no_grad()
    def score(self, Up: torch.Tensor) -> BlockScores:
        """Polymer latents (E, P, 2d) -> :class:`BlockScores` for P x S x n_T pairs."""
        Up = Up.to(self.device, torch.float32)
        E, P, _ = Up.shape
        K, S = self.K, self.n_solvents
        mean = torch.empty(P, K, S, device=self.device)
        std = torch.empty(P, K, S, device=self.device)
        for p0 in range(0, P, self.chunk):
            p1 = min(P, p0 + self.chunk)
            Ap = prepare_polymers(Up[:, p0:p1], self.Wc, self.bc)
            Y = torch.bmm(Ap, self.As).view(E, p1 - p0, K, S)
            if self.p_all:
                Y[:, :, 0].sigmoid_()
            s1 = mean[p0:p1]
            s2 = std[p0:p1]
            torch.mul(Y[0], Y[0], out=s2)
            s1.copy_(Y[0])
            for e in range(1, E):
                s1.add_(Y[e])
                s2.addcmul_(Y[e], Y[e])
            s1.div_(E)
            s2.sub_(s1 * s1 * E).div_(max(E - 1, 1)).clamp_(min=0).sqrt_()
        k0 = 1 if self.p_all else 0
        chi_std = std[:, k0:]
        if self.std_scale != 1.0:
            chi_std.mul_(self.std_scale)
        if self.p_all:
            return BlockScores(chi=mean[:, 1:], chi_std=chi_std, p_soluble=mean[:, 0], p_soluble_std=std[:, 0])
        return BlockScores(chi=mean, chi_std=chi_std)

    @torch.no_grad()
    def pair_p(self, Up: torch.Tensor, pi: torch.Tensor, si: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """P(soluble) mean and std over members for selected pairs (polymer row pi[n], solvent si[n]).

        Uses the same expansion as the GEMM, gathered per pair: work ~ n x E x d, for the few
        pairs a query keeps.
        """
        if self._logit_s is None:
            d = self.d
            s, r = self.Us[..., :d], self.Us[..., d:]
            self._logit_s = s.permute(1, 0, 2).contiguous()                              # (S, E, d)
            self._logit_cs = ((s * s - r * r) @ self.W_logit[:, :, None])[..., 0].T.contiguous()  # (S, E)
        d = self.d
        Up = Up.to(self.device, torch.float32)
        s, r = Up[..., :d], Up[..., d:]
        ap = (-2.0 * s * self.W_logit[:, None, :]).permute(1, 0, 2).contiguous()         # (P, E, d)
        cp = (((s * s - r * r) @ self.W_logit[:, :, None])[..., 0] + self.b_logit[:, None]).T.contiguous()  # (P, E)
        if self.numpy_gather:  # numpy's take is ~3x faster than torch indexing on CPU
            pn, sn = pi.numpy(), si.numpy()

            def take(x, idx):
                return torch.from_numpy(np.take(x.numpy(), idx, axis=0))
        else:
            pn, sn = pi, si

            def take(x, idx):
                return x.index_select(0, idx)
        logit = take(ap, pn).mul_(take(self._logit_s, sn)).sum(-1)
        logit += take(cp, pn)
        logit += take(self._logit_cs, sn)
        p = logit.sigmoid_()                                                              # (n, E)
        if self.numpy_gather:  # the one definition of the statistics (few pairs: cheap)
            m, sd = member_mean_std(p.numpy(), axis=1)
            return torch.from_numpy(m.astype(np.float32)), torch.from_numpy(sd.astype(np.float32))
        E = p.shape[1]
        m = p.mean(1)
        sd = p.std(1, unbiased=True) if E > 1 else torch.zeros_like(m)
        return m, sd


@torch.no_grad()
def score_direct(W: torch.Tensor, b: torch.Tensor, outputs: Sequence[str], Up: torch.Tensor, Us: torch.Tensor,
                 temperatures_K: Sequence[float], head: str = "exp", std_scale: float = 1.0) -> BlockScores:
    """Reference implementation of :meth:`BlockScorer.score` with the direct (P, S, d) pair
    feature; statistics from :class:`~chiscreen.model.posterior.EnsemblePrediction`.

    Slow (materialises every pair feature); used by tests to check the GEMM form.
    """
    d = W.shape[-1]
    Wc, bc = collapse_head(W.double(), b.double(), outputs, temperatures_K, head)
    Up, Us = Up.double(), Us.double()
    z = (Up[:, :, None, :d] - Us[:, None, :, :d]) ** 2 - Up[:, :, None, d:] ** 2 - Us[:, None, :, d:] ** 2
    Y = torch.einsum("epsd,ekd->epks", z, Wc) + bc[:, None, :, None]  # (E, P, K', S)
    Y[:, :, 0] = torch.sigmoid(Y[:, :, 0])
    E, P, K, S = Y.shape
    names = ["p", *(f"chi@{j}" for j in range(K - 1))]
    post = EnsemblePrediction.from_members(names, Y.permute(0, 1, 3, 2).reshape(E, P * S, K).numpy(), {})
    m = torch.from_numpy(post.mean).reshape(P, S, K).permute(0, 2, 1)
    sd = torch.from_numpy(post.std).reshape(P, S, K).permute(0, 2, 1)
    return BlockScores(chi=m[:, 1:].float(), chi_std=(sd[:, 1:] * std_scale).float(),
                       p_soluble=m[:, 0].float(), p_soluble_std=sd[:, 0].float())
