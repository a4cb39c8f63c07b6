"""The two-tower pair network, stacked over ensemble members.

All E members live in one module: every weight has a leading member axis, so one ``bmm`` runs
the whole ensemble (training 10 members costs little more than one on a CPU, where small
matrix products are dominated by Python overhead). Members never share parameters or
gradients; Adam is element-wise, so they train exactly as E independent networks would.

Shapes (E members, N molecules, F scaled descriptors, d latent half-size, K head outputs):
    tower(x): (N, F) or (E, N, F) -> (E, N, 2d)       u = [s, r]
    pair_feature(u_p, u_s): (E, B, 2d) x2 -> (E, B, d) z0 = (s_p - s_s)^2 - r_p^2 - r_s^2
    head(z0): (E, B, d) -> (E, B, K)                 raw outputs (scaled units, see ensemble)
    pair inputs (opt-in, ``n_pair > 0``): x (E, B, m) per-row values such as the oracle's chi of
    the pair at T; raw outputs += x @ W_pair + b_pair (one linear map per member, zero at start)
"""
from __future__ import annotations

import math

import torch
from torch import nn

_ACT = {
    "sigmoid": nn.Sigmoid,
    "relu": nn.ReLU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "elu": nn.ELU,
}


def tower_widths(n_in: int, d: int, n_hidden: int = 3, hidden_widths: list[int] | None = None) -> list[int]:
    """Layer widths [n_in, h1, ..., h_n, 2d]; hidden widths shrink linearly from n_in to 2d."""
    if hidden_widths is not None:
        return [n_in, *hidden_widths, 2 * d]
    hs = [int(round(n_in + (2 * d - n_in) * (i + 1) / (n_hidden + 1))) for i in range(n_hidden)]
    return [n_in, *[max(h, 1) for h in hs], 2 * d]


class StackedLinear(nn.Module):
    """E independent linear layers: (E, N, in) -> (E, N, out); weight (E, in, out)."""

    def __init__(self, n_members: int, n_in: int, n_out: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_members, n_in, n_out))
        self.bias = nn.Parameter(torch.empty(n_members, 1, n_out))

    @torch.no_grad()
    def reset_member(self, e: int, gen: torch.Generator) -> None:
        """nn.Linear's default init (uniform +-1/sqrt(fan_in)) for member e."""
        bound = 1.0 / math.sqrt(self.weight.shape[1])
        self.weight[e].uniform_(-bound, bound, generator=gen)
        self.bias[e].uniform_(-bound, bound, generator=gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 2:
            return torch.matmul(x, self.weight) + self.bias
        return torch.baddbmm(self.bias, x, self.weight)


class StackedTower(nn.Module):
    """MLP over scaled descriptors for all members: hidden layers with ``activation``, linear output."""

    def __init__(self, n_members: int, widths: list[int], activation: str = "silu") -> None:
        super().__init__()
        self.widths = list(widths)
        self.layers = nn.ModuleList(StackedLinear(n_members, a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.act = _ACT[activation]()

    def reset_member(self, e: int, gen: torch.Generator) -> None:
        for layer in self.layers:
            layer.reset_member(e, gen)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(self.layers)
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < n - 1:
                x = self.act(x)
        return x


def pair_feature(u_p: torch.Tensor, u_s: torch.Tensor, d: int) -> torch.Tensor:
    """z0 = (s_p - s_s)^2 - r_p^2 - r_s^2 for aligned rows (..., 2d) -> (..., d)."""
    s_p, r_p = u_p[..., :d], u_p[..., d:]
    s_s, r_s = u_s[..., :d], u_s[..., d:]
    return (s_p - s_s) ** 2 - r_p ** 2 - r_s ** 2


class StackedChiNet(nn.Module):
    """Polymer tower, solvent tower and the linear pair head for E members.

    Buffers ``out_scale`` / ``out_shift`` (K,) map raw head outputs to physical units:
    physical_k = raw_k * out_scale_k + out_shift_k (logit: 1, 0; A: sigma, mu; B: sigma T_ref;
    C: sigma T_ref^2), where mu, sigma standardise the task's training targets.
    """

    def __init__(self, n_members: int, n_poly: int, n_solv: int, d: int, n_out: int,
                 n_hidden: int = 3, hidden_widths: list[int] | None = None, activation: str = "silu",
                 n_pair: int = 0) -> None:
        super().__init__()
        self.n_members, self.d, self.n_out, self.n_pair = n_members, d, n_out, int(n_pair)
        self.tower_p = StackedTower(n_members, tower_widths(n_poly, d, n_hidden, hidden_widths), activation)
        self.tower_s = StackedTower(n_members, tower_widths(n_solv, d, n_hidden, hidden_widths), activation)
        self.head = StackedLinear(n_members, d, n_out)
        if self.n_pair:
            # only models with pair inputs have these parameters: descriptor-only state dicts are unchanged
            self.pair = StackedLinear(n_members, self.n_pair, n_out)
            with torch.no_grad():
                self.pair.weight.zero_()
                self.pair.bias.zero_()
        self.register_buffer("out_scale", torch.ones(n_out))
        self.register_buffer("out_shift", torch.zeros(n_out))

    def reset(self, seeds: list[int]) -> None:
        """Initialise member e from its own generator seeded with seeds[e] (deterministic)."""
        if len(seeds) != self.n_members:
            raise ValueError(f"{len(seeds)} seeds for {self.n_members} members")
        for e, s in enumerate(seeds):
            gen = torch.Generator().manual_seed(int(s))
            self.tower_p.reset_member(e, gen)
            self.tower_s.reset_member(e, gen)
            self.head.reset_member(e, gen)

    def raw_head(self, u_p: torch.Tensor, u_s: torch.Tensor, x: torch.Tensor | None = None) -> torch.Tensor:
        """Raw (scaled-unit) outputs for aligned latents (E, B, 2d) -> (E, B, K); ``x`` (B, m) or
        (E, B, m): the rows' pair inputs (required when the net has ``n_pair`` > 0)."""
        out = self.head(pair_feature(u_p, u_s, self.d))
        if self.n_pair:
            if x is None:
                raise ValueError(f"this network takes {self.n_pair} pair input(s) per row; none given")
            out = out + self.pair(x)
        return out

    def pair_term(self, x: torch.Tensor) -> torch.Tensor:
        """Physical-unit contribution (E, B, K) of pair inputs x (B, m) or (E, B, m) (zero
        buffers for the shift: it is in the head's bias already)."""
        if not self.n_pair:
            raise ValueError("this network has no pair inputs")
        return self.pair(x) * self.out_scale

    def effective_head(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Physical-unit head: W (E, K, d), b (E, K)."""
        W = self.head.weight.transpose(1, 2) * self.out_scale[None, :, None]
        b = self.head.bias[:, 0, :] * self.out_scale[None, :] + self.out_shift[None, :]
        return W, b


def seeds_for(seed: int, n_members: int) -> list[int]:
    """Per-member seeds (member e: seed + 1000 e)."""
    return [int(seed) + 1000 * e for e in range(n_members)]

