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

Mean first (``mean_first=True``): the ensemble MEAN is linear in the member outputs, so with the
members concatenated along the inner dimension it is ONE GEMM per block,

    polymer side  Ap (P*K', E*d+1+K') = [-2 W_1,k * s_p,1 | ... | -2 W_E,k * s_p,E | sum_e (g_p,e,k + b_e,k) | onehot_k]
    solvent side  As (E*d+1+K', S)    = [s_s,1 ; ... ; s_s,E ; 1 ; sum_e g_s,e] / E

(E times fewer outputs and no per-member accumulation). The member spread is then computed only
for the rows a query keeps or ranks (:meth:`BlockScores.chi_std_at`, work ~ n x E x d), from
the gathered member values with :func:`~chiscreen.model.posterior.member_mean_std`. This needs
a query that decides on the mean alone (``QueryConfig.allows_mean_first``: no std threshold,
no std in the rank key, no P(soluble) for every pair).

Applicability domain: with a model that has domain statistics (``ens.domain``), the scorer made
by :meth:`BlockScorer.for_ensemble` scores every solvent once and every block's polymers from
their latents (nearest training molecule, :mod:`chiscreen.model.domain`), multiplies chi_std by
the inflation at the pair's score (as :class:`~chiscreen.model.posterior.EnsemblePrediction`
does) and returns the pair scores as ``BlockScores.ad`` (P, S) (NaN without domain statistics).

Chi heads (``head``) are the screen names of the chi tasks in :mod:`chiscreen.model.tasks`
("exp", "comp", ...; :func:`chiscreen.model.tasks.head_names`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

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


def _inplace_activation(act) -> Callable[[torch.Tensor], torch.Tensor] | None:
    """An in-place form of a tower activation module, or None when it has none here."""
    from torch import nn

    if type(act) is nn.SiLU:
        return lambda h: torch.nn.functional.silu(h, inplace=True)
    return {nn.ReLU: torch.relu_, nn.Tanh: torch.tanh_, nn.Sigmoid: torch.sigmoid_}.get(type(act))


class PolymerTowers:
    """The polymer towers of every member for a block of molecules, as ``ens.encode_polymers``.

    Raw descriptors (P, F_p) float32 -> latents (E, P, 2d) float32 (the ensemble's descriptor
    scaler, then the stacked tower). On a CPU the tower runs member by member over row chunks of
    ``chunk`` molecules: one ``addmm`` per layer and member (bias fused), activations in place,
    the last layer written straight into the output. The stacked ``baddbmm`` form allocates every
    activation of all members at once and runs at ~40 GFLOP/s per core on a 2000-polymer block
    (~25 GFLOP/s on 8000); this form keeps a chunk's activations in cache (~52 GFLOP/s, flat in
    the block size). Same arithmetic per element, summation order inside the GEMM aside (float32
    differences ~1e-7 relative).

    A molecule's latents do not depend on the block it is scored in (its size, its position):
    MKL rounds differently for fewer than ~8 rows, so chunks under :attr:`MIN_ROWS` rows are
    padded (a screen whose shards lose failed rows gives the same bits as one that does not).

    Falls back to ``ens.encode_polymers`` on an accelerator, or when the tower is not a plain
    :class:`~chiscreen.model.network.StackedTower` with an activation it knows (a model variant).
    """

    MIN_ROWS = 16

    def __init__(self, ens, chunk: int = 512) -> None:
        from chiscreen.model.ensemble import ChiEnsemble
        from chiscreen.model.network import StackedLinear, StackedTower

        self.ens = ens
        self.chunk = max(1, int(chunk))
        tower = getattr(getattr(ens, "net", None), "tower_p", None)
        act = _inplace_activation(getattr(tower, "act", None))
        device = getattr(ens, "device", torch.device("cpu"))
        self.fast = (type(tower) is StackedTower and act is not None
                     and all(type(layer) is StackedLinear for layer in tower.layers)
                     and torch.device(device).type == "cpu"
                     and getattr(type(ens), "encode_polymers", None) is ChiEnsemble.encode_polymers)
        if self.fast:
            self.act = act
            self.layers = [(layer.weight.detach(), layer.bias.detach()) for layer in tower.layers]  # (E,in,out), (E,1,out)
            self.E = self.layers[0][0].shape[0]
            self.n_out = self.layers[-1][0].shape[-1]

    @torch.no_grad()
    def __call__(self, X: np.ndarray) -> torch.Tensor:
        if not self.fast:
            return self.ens.encode_polymers(X)
        Z = torch.from_numpy(self.ens.scaler_polymer.transform(X))
        N = Z.shape[0]
        out = torch.empty(self.E, N, self.n_out, dtype=Z.dtype)
        last = len(self.layers) - 1
        for p0 in range(0, N, self.chunk):
            p1 = min(N, p0 + self.chunk)
            x = Z[p0:p1]
            n = p1 - p0
            if n < self.MIN_ROWS:  # BLAS takes other paths (other rounding) for very few rows
                x = torch.cat([x, x.new_zeros(self.MIN_ROWS - n, x.shape[1])])
            for e in range(self.E):
                h = x
                for i, (W, b) in enumerate(self.layers):
                    if i == last:
                        if n < self.MIN_ROWS:
                            out[e, p0:p1] = torch.addmm(b[e], h, W[e])[:n]
                        else:
                            torch.addmm(b[e], h, W[e], out=out[e, p0:p1])
                    else:
                        h = self.act(torch.addmm(b[e], h, W[e]))
        return out


@dataclass
class BlockScores:
    """Ensemble statistics for P polymers x S solvents x n_T temperatures (float32 tensors).

    Attributes:
        chi: (P, T, S) ensemble mean chi(T).
        chi_std: (P, T, S) ensemble std of chi times the model's std_scale, or None on the
            mean-first path (then :meth:`chi_std_at` computes it for selected rows).
        p_soluble: (P, S) mean over members of sigmoid(logit) (T-independent), or None when the
            scorer was asked not to compute it for every pair (see :meth:`BlockScorer.pair_p`).
        p_soluble_std: (P, S) ensemble std of the probability, or None likewise.
        std_fn: ``(pi, ti, si) -> (n,)`` calibrated chi std of selected rows (mean-first path).
        ad: (P, S) applicability-domain score of each pair, or None (no domain statistics).
        kept_fn: ``(pi, ti, si) -> (chi_std, p_soluble, p_soluble_std)`` (n,) each, for selected
            rows in one pass over the member values (mean-first path; see :meth:`kept_stats`).
    """

    chi: torch.Tensor
    chi_std: torch.Tensor | None
    p_soluble: torch.Tensor | None = None
    p_soluble_std: torch.Tensor | None = None
    std_fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor] | None = None
    ad: torch.Tensor | None = None
    kept_fn: Callable[[torch.Tensor, torch.Tensor, torch.Tensor],
                      tuple[torch.Tensor, torch.Tensor, torch.Tensor]] | None = None

    def kept_stats(self, pi: torch.Tensor, ti: torch.Tensor, si: torch.Tensor,
                   pair_p: Callable | None = None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(chi_std, p_soluble, p_soluble_std), (n,) each, of rows (pi[n], ti[n], si[n]).

        From the block's arrays where it has them, else from ``kept_fn`` (one gather of the
        member terms for both), else from :meth:`chi_std_at` and ``pair_p(pi, si)`` (P(soluble)
        mean and std of selected pairs, :meth:`BlockScorer.pair_p`); ValueError when P(soluble)
        was not computed and there is no way to compute it."""
        if self.p_soluble is None and self.chi_std is None and self.kept_fn is not None:
            return self.kept_fn(pi, ti, si)
        if self.p_soluble is not None:
            pm, ps = self.p_soluble[pi, si], self.p_soluble_std[pi, si]
        elif pair_p is not None:
            pm, ps = pair_p(pi, si)
        else:
            raise ValueError("P(soluble) was not computed and no pair_p function was given")
        return self.chi_std_at(pi, ti, si), pm, ps

    def ad_at(self, pi: torch.Tensor, si: torch.Tensor) -> np.ndarray:
        """(n,) float32 AD score of pairs (pi[n], si[n]); NaN without domain statistics."""
        if self.ad is None:
            return np.full(len(pi), np.nan, dtype=np.float32)
        return self.ad[pi, si].cpu().numpy().astype(np.float32)

    def chi_std_at(self, pi: torch.Tensor, ti: torch.Tensor, si: torch.Tensor) -> torch.Tensor:
        """(n,) calibrated ensemble std of chi at rows (pi[n], ti[n], si[n])."""
        if self.chi_std is not None:
            return self.chi_std[pi, ti, si]
        if self.std_fn is None:
            raise ScreenError("chi_std was not computed for this block and it has no std function")
        return self.std_fn(pi, ti, si)

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
        chunk: polymers per GEMM (bounds the (E, chunk, K', S) intermediate; the mean-first
            GEMM has no member axis and takes ``chunk * E`` polymers at a time).
        p_all: compute P(soluble) for every pair in :meth:`score`.
        mean_first: one GEMM for the ensemble mean, chi std only for selected rows (see the
            module docstring); ScreenError together with ``p_all`` (a mean of sigmoids is not
            linear in the members).
        ad_polymer_fn: polymer latents (E, P, 2d) -> (P,) AD scores; with ``ad_solvent`` (S,)
            and ``inflation`` (ad array -> std factor array) the applicability domain (see the
            module docstring); :meth:`for_ensemble` sets all three from ``ens.domain``.
    """

    def __init__(self, W: torch.Tensor, b: torch.Tensor, outputs: Sequence[str], Us: torch.Tensor,
                 temperatures_K: Sequence[float], head: str = "exp", std_scale: float = 1.0,
                 chunk: int = 128, p_all: bool = True, mean_first: bool = False,
                 ad_polymer_fn: Callable[[torch.Tensor], np.ndarray] | None = None,
                 ad_solvent: np.ndarray | None = None,
                 inflation: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        if len(temperatures_K) == 0:
            raise ScreenError("no temperatures given; expected at least one (Kelvin)")
        self.device = Us.device
        self.temperatures_K = [float(t) for t in temperatures_K]
        self.head = head
        self.std_scale = float(std_scale)
        self.chunk = int(chunk)
        self.p_all = bool(p_all)
        self.mean_first = bool(mean_first)
        if self.mean_first and self.p_all:
            raise ScreenError("mean_first needs p_all=False: P(soluble) for every pair needs every member")
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
        if self.mean_first:
            self._prepare_mean_first()
        else:
            self.As = prepare_solvents(self.Us, Wc)
        self.n_solvents = Us.shape[1]
        self._logit_s: torch.Tensor | None = None
        self._logit_cs: torch.Tensor | None = None
        self.numpy_gather = self.device.type == "cpu"  # torch index_select on accelerators
        # per-scorer terms of pair_p / kept_stats made here, not on first use: the plain engine
        # scores shards in threads that share one scorer
        self._pair_p_prepare()
        if self.mean_first:
            self._kept_prepare()
        self.ad_polymer_fn = ad_polymer_fn
        self.ad_solvent = None if ad_solvent is None else np.asarray(ad_solvent, dtype=np.float64)
        self.inflation = inflation
        if self.ad_solvent is not None and len(self.ad_solvent) != self.n_solvents:
            raise ScreenError(f"{len(self.ad_solvent)} solvent AD scores for {self.n_solvents} solvents")

    def _domain(self, Up: torch.Tensor) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """(AD score (P, S), std inflation factor (P, S)) of a block, float32 on the device, or
        (None, None) without domain statistics."""
        if self.ad_polymer_fn is None or self.ad_solvent is None:
            return None, None
        from chiscreen.model.domain import combine

        ad = combine(np.asarray(self.ad_polymer_fn(Up), dtype=np.float64)[:, None], self.ad_solvent[None, :])
        f = self.inflation(ad) if self.inflation is not None else np.ones_like(ad)
        return (torch.from_numpy(ad.astype(np.float32)).to(self.device),
                torch.from_numpy(np.asarray(f, dtype=np.float32)).to(self.device))

    @classmethod
    def for_ensemble(cls, ens, Us: torch.Tensor, temperatures_K: Sequence[float], head: str = "exp",
                     chunk: int = 128, p_all: bool = True, mean_first: bool = False) -> "BlockScorer":
        """A scorer for ``ens`` (a ChiEnsemble): its physical head, outputs and the std factor
        of the head's chi task."""
        spec = head_task(head)
        W, b = ens.head_params()
        dom = getattr(ens, "domain", None)
        kw = {}
        if dom is not None:
            kw = {"ad_polymer_fn": lambda Up: dom.polymer_scores(ens, Up.to(ens.device)),
                  "ad_solvent": dom.solvent_scores(ens, Us.to(ens.device)),
                  "inflation": lambda ad: dom.factor(spec.name, ad)}
        return cls(W, b, ens.outputs, Us, temperatures_K, head=head, std_scale=std_scale_of(ens.std_scale, spec.name),
                   chunk=chunk, p_all=p_all, mean_first=mean_first, **kw)

    # ------------------------------------------------------------------ mean first
    def _prepare_mean_first(self) -> None:
        """Solvent side of the concatenated GEMM, (E*d+1+K', S), pre-divided by E, and the
        per-member solvent terms kept for :meth:`_member_std`."""
        E, K, d = self.E, self.K, self.d
        s, r = self.Us[..., :d], self.Us[..., d:]
        gs = (s * s - r * r) @ self.Wc.transpose(1, 2)                       # (E, S, K')
        S = s.shape[1]
        ones = torch.ones(1, S, dtype=s.dtype, device=s.device)
        self.As_mean = (torch.cat([s.permute(0, 2, 1).reshape(E * d, S), ones, gs.sum(0).T], 0) / E).contiguous()
        self._s_s = s.permute(1, 0, 2).contiguous()                            # (S, E, d)
        self._g_s = gs.permute(1, 2, 0).contiguous()                           # (S, K', E)

    def _polymer_terms(self, Up: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-member polymer terms: cross (P, K', E, d) = -2 W_e,k * s_p,e and g (P, K', E) =
        W_e,k . (s_p^2 - r_p^2) + b_e,k."""
        d = self.d
        s, r = Up[..., :d], Up[..., d:]
        g = (s * s - r * r) @ self.Wc.transpose(1, 2) + self.bc[:, None, :]   # (E, P, K')
        cross = -2.0 * s.permute(1, 0, 2)[:, None, :, :] * self.Wc.permute(1, 0, 2)[None]  # (P, K', E, d)
        return cross, g.permute(1, 2, 0)

    def _score_mean_first(self, Up: torch.Tensor) -> BlockScores:
        E, P, _ = Up.shape
        K, S, d = self.K, self.n_solvents, self.d
        mean = torch.empty(P, K, S, device=self.device)
        flat = mean.view(P * K, S)
        eye = torch.eye(K, dtype=Up.dtype, device=Up.device)
        cross, g = self._polymer_terms(Up)         # (P, K', E, d), (P, K', E): small (no solvent axis)
        step = max(1, self.chunk * E)
        for p0 in range(0, P, step):
            p1 = min(P, p0 + step)
            n = p1 - p0
            Ap = torch.cat([cross[p0:p1].reshape(n, K, E * d), g[p0:p1].sum(-1, keepdim=True), eye.expand(n, K, K)], -1)
            torch.mm(Ap.view(n * K, -1), self.As_mean, out=flat[p0 * K:p1 * K])

        ad, fac = self._domain(Up)

        def std_fn(pi: torch.Tensor, ti: torch.Tensor, si: torch.Tensor) -> torch.Tensor:
            sd = self._member_std(cross, g, pi, ti, si)
            return sd if fac is None else sd * fac[pi, si]

        kept_fn = None
        if not self.p_all:
            sp = Up[..., :d]                                                     # (E, P, d)

            def kept_fn(pi: torch.Tensor, ti: torch.Tensor, si: torch.Tensor):
                return self._kept_stats(Up, sp, g, pi, ti, si, fac)

        return BlockScores(chi=mean, chi_std=None, std_fn=std_fn, ad=ad, kept_fn=kept_fn)

    def _kept_prepare(self) -> None:
        """Solvent-side and weight terms of :meth:`_kept_stats` (once per scorer)."""
        d = self.d
        s, r = self.Us[..., :d], self.Us[..., d:]
        # (E, K'+1, d): -2 x [chi rows of the collapsed head ; logit row]
        self._w_kept = (-2.0 * torch.cat([self.Wc, self.W_logit[:, None, :]], 1)).contiguous()
        self._logit_cs_kept = ((s * s - r * r) @ self.W_logit[:, :, None])[..., 0].contiguous()  # (E, S)
        self._s_s_kept = s.contiguous()                                                        # (E, S, d)
        self._g_s_kept = self._g_s.permute(1, 2, 0).contiguous()                               # (K', E, S)

    def _kept_stats(self, Up: torch.Tensor, sp: torch.Tensor, g: torch.Tensor, pi: torch.Tensor, ti: torch.Tensor,
                    si: torch.Tensor, fac: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Calibrated chi std and P(soluble) mean / std of rows (pi, ti, si) from ONE gather of the
        member latents: q = s_p * s_s (E, n, d), then per member [-2 W_chi(T) ; -2 W_logit] @ q^T
        (K'+1, n) (a GEMM with the rows as its long axis) plus the per-side terms. Same expansion
        as :meth:`_member_values` and :meth:`pair_p` (which gather the latents once each);
        statistics by :func:`~chiscreen.model.posterior.member_mean_std`."""
        n = len(pi)
        z = torch.zeros(0, device=self.device)
        if n == 0:
            return z, z, z
        d, K = self.d, self.K
        s = Up[..., :d]
        cp = ((s * s - Up[..., d:] ** 2) @ self.W_logit[:, :, None])[..., 0] + self.b_logit[:, None]  # (E, P)
        gE = g.permute(1, 2, 0)                                                          # (K', E, P) view
        if self.numpy_gather:  # numpy's take is ~3x faster than torch indexing on CPU
            pn, kn, sn = pi.numpy(), ti.numpy(), si.numpy()
            q = np.take(sp.numpy(), pn, axis=1)                                           # (E, n, d)
            q *= np.take(self._s_s_kept.numpy(), sn, axis=1)
            Y = torch.bmm(self._w_kept, torch.from_numpy(q).transpose(1, 2)).numpy()      # (E, K'+1, n)
            if K == 1:
                chi_m = Y[:, 0, :]
                chi_m += np.take(gE.numpy()[0], pn, axis=1)
                chi_m += np.take(self._g_s_kept.numpy()[0], sn, axis=1)
            else:
                rows = np.arange(n)
                chi_m = Y[:, kn, rows]                                                    # (E, n)
                chi_m += gE.numpy()[kn, :, pn].T
                chi_m += self._g_s_kept.numpy()[kn, :, sn].T
            logit = Y[:, K, :]
            logit += np.take(cp.numpy(), pn, axis=1)
            logit += np.take(self._logit_cs_kept.numpy(), sn, axis=1)
            _, sd = member_mean_std(chi_m.astype(np.float64), axis=0)
            sd = torch.from_numpy(sd.astype(np.float32))
            prob = torch.from_numpy(np.ascontiguousarray(logit)).sigmoid_()
            pm, ps = member_mean_std(prob.numpy(), axis=0)
            pm, ps = torch.from_numpy(pm.astype(np.float32)), torch.from_numpy(ps.astype(np.float32))
        else:
            q = sp.index_select(1, pi) * self._s_s_kept.index_select(1, si)               # (E, n, d)
            Y = torch.bmm(self._w_kept, q.transpose(1, 2))                                # (E, K'+1, n)
            rows = torch.arange(n, device=self.device)
            chi_m = Y[:, ti, rows] + gE[ti, :, pi].T + self._g_s_kept[ti, :, si].T        # (E, n)
            prob = (Y[:, K, :] + cp[:, pi] + self._logit_cs_kept[:, si]).sigmoid()
            E = chi_m.shape[0]
            sd = chi_m.std(0, unbiased=True) if E > 1 else torch.zeros(n, device=self.device)
            pm = prob.mean(0)
            ps = prob.std(0, unbiased=True) if E > 1 else torch.zeros(n, device=self.device)
        if self.std_scale != 1.0:
            sd = sd * self.std_scale
        if fac is not None:
            sd = sd * fac[pi, si]
        return sd, pm, ps

    def _member_values(self, cross: torch.Tensor, g: torch.Tensor, pi: torch.Tensor, ti: torch.Tensor,
                       si: torch.Tensor) -> torch.Tensor:
        """(n, E) member chi at rows (pi, ti, si) from a block's polymer terms; ~ n x E x d."""
        k = ti + (1 if self.p_all else 0)
        if self.numpy_gather:  # numpy's take is ~3x faster than torch indexing on CPU
            pn, kn, sn = pi.numpy(), k.numpy(), si.numpy()
            cn = cross.numpy()
            y = np.einsum("ned,ned->ne", cn[pn, kn], np.take(self._s_s.numpy(), sn, axis=0))
            y += g.numpy()[pn, kn]
            y += self._g_s.numpy()[sn, kn]
            return torch.from_numpy(y)
        y = (cross[pi, k] * self._s_s.index_select(0, si)).sum(-1)
        return y + g[pi, k] + self._g_s[si, k]

    @torch.no_grad()
    def member_chi(self, Up: torch.Tensor, pi: torch.Tensor, ti: torch.Tensor, si: torch.Tensor) -> torch.Tensor:
        """(n, E) member values of chi at rows (polymer pi, temperature ti, solvent si) of a
        block with latents ``Up`` (E, P, 2d); work ~ n x E x d."""
        Up = Up.to(self.device, torch.float32)
        if not hasattr(self, "_s_s"):
            self._prepare_mean_first()
        cross, g = self._polymer_terms(Up)
        return self._member_values(cross, g, pi, ti, si)

    def _member_std(self, cross: torch.Tensor, g: torch.Tensor, pi: torch.Tensor, ti: torch.Tensor,
                    si: torch.Tensor) -> torch.Tensor:
        if len(pi) == 0:
            return torch.zeros(0, device=self.device)
        y = self._member_values(cross, g, pi, ti, si)
        if y.device.type == "cpu":  # the one definition of the statistics
            _, sd = member_mean_std(y.numpy().astype(np.float64), axis=1)
            sd = torch.from_numpy(sd.astype(np.float32))
        else:
            sd = y.std(1, unbiased=True) if y.shape[1] > 1 else torch.zeros(y.shape[0], device=y.device)
        return sd * self.std_scale if self.std_scale != 1.0 else sd

    @torch.no_grad()
    def score(self, Up: torch.Tensor) -> BlockScores:
        """Polymer latents (E, P, 2d) -> :class:`BlockScores` for P x S x n_T pairs."""
        Up = Up.to(self.device, torch.float32)
        if self.mean_first:
            return self._score_mean_first(Up)
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
        ad, fac = self._domain(Up)
        if fac is not None:
            chi_std.mul_(fac[:, None, :])
        if self.p_all:
            return BlockScores(chi=mean[:, 1:], chi_std=chi_std, p_soluble=mean[:, 0], p_soluble_std=std[:, 0], ad=ad)
        return BlockScores(chi=mean, chi_std=chi_std, ad=ad)

    def _pair_p_prepare(self) -> None:
        d = self.d
        s, r = self.Us[..., :d], self.Us[..., d:]
        logit_s = s.permute(1, 0, 2).contiguous()                                        # (S, E, d)
        self._logit_cs = ((s * s - r * r) @ self.W_logit[:, :, None])[..., 0].T.contiguous()  # (S, E)
        self._logit_s = logit_s

    @torch.no_grad()
    def pair_p(self, Up: torch.Tensor, pi: torch.Tensor, si: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """P(soluble) mean and std over members for selected pairs (polymer row pi[n], solvent si[n]).

        Uses the same expansion as the GEMM, gathered per pair: work ~ n x E x d, for the few
        pairs a query keeps.
        """
        if self._logit_s is None:
            self._pair_p_prepare()
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
