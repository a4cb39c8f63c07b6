"""Acquisition functions (registry ``ACQUISITIONS``) and batch selection over a pool.

Every acquisition is a pure function of a :class:`~chiscreen.al.pool.PoolPosterior` (plus
its parameters and a seed). Score acquisitions return one score per row (higher = query
first); batch acquisitions (Thompson sampling, qUCB, qEI) build the batch themselves. The
objective is *low chi* (good solvents): greedy takes the lowest mean chi (or, with
``objective="soluble"``, the highest mean P(soluble)).

    sel = select("ucb", post, n=50, ctx=SelectContext(exclude=done, polymer_of=pool.pi, solvent_of=pool.si))

Rules every selection obeys: rows in ``ctx.exclude`` (already computed, held out) are never
picked; at most ``max_per_polymer`` / ``max_per_solvent`` rows of one batch share a polymer /
solvent; under ``budget_s`` (with a cost model) the batch's marginal oracle cost stays within
the budget. ``cost_aware`` ranks by expected gain (posterior variance) per second of oracle
cost, recomputing marginal costs as the batch pays for new molecules.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.special import ndtr

from chiscreen.al.cost import CostModel
from chiscreen.al.pool import PoolPosterior
from chiscreen.errors import ConfigError, InvalidInputError
from chiscreen.registry import Registry


@dataclass
class SelectContext:
    """What a selection needs besides the posterior.

    Attributes:
        exclude: (N,) bool, rows that must not be picked (computed, held out, failed).
        polymer_of, solvent_of: (N,) molecule ids per row (for the diversity caps and costs).
        max_per_polymer, max_per_solvent: batch diversity caps (None: no cap).
        seed: random seed (random, Thompson, MC acquisitions).
        beta: UCB exploration weight (score = -mean + beta * std).
        objective: "chi" (low chi is good) or "soluble" (high P(soluble) is good), for greedy.
        delta: half-width of the boundary band |chi - chi_c| < delta (boundary acquisition).
        shortlist: rows kept for BoTorch batch acquisitions (scored from mean/std first).
        best_f: lowest chi observed so far (qEI); None: the lowest posterior mean.
        mc_samples: member draws per evaluation of qUCB / qEI (BoTorch IndexSampler).
        cost: marginal oracle cost model (None: every row costs the same).
        budget_s: compute budget of the batch in seconds (None: no budget).
        min_new_polymers: with a cost model, seed the batch with this many rows of polymers that
            have no profile yet (the most uncertain row of each, within caps and budget), so that a
            cost-aware batch still explores new chemistry when cheap pairs are plentiful.
    """

    exclude: np.ndarray | None = None
    polymer_of: np.ndarray | None = None
    solvent_of: np.ndarray | None = None
    max_per_polymer: int | None = None
    max_per_solvent: int | None = None
    seed: int = 0
    beta: float = 2.0
    objective: str = "chi"
    delta: float = 0.1
    shortlist: int = 1000
    best_f: float | None = None
    mc_samples: int = 32
    cost: CostModel | None = None
    budget_s: float | None = None
    min_new_polymers: int = 0
    params: dict = field(default_factory=dict)


@dataclass
class Selection:
    """A batch: pool rows in pick order, their acquisition score, and the oracle cost (s)."""

    rows: np.ndarray
    scores: np.ndarray
    cost_s: float
    acquisition: str


@dataclass(frozen=True)
class Acquisition:
    name: str
    kind: str  # "score" or "batch"
    fn: Callable
    doc: str


ACQUISITIONS: Registry[Acquisition] = Registry("acquisition function")


def _register(name: str, kind: str):
    def deco(fn):
        ACQUISITIONS.register(name)(Acquisition(name, kind, fn, (fn.__doc__ or "").strip().splitlines()[0]))
        return fn
    return deco


# ---------------------------------------------------------------------------- score acquisitions
@_register("random", "score")
def random_scores(post: PoolPosterior, ctx: SelectContext) -> np.ndarray:
    """Uniform random order (baseline)."""
    return np.random.default_rng(ctx.seed).random(len(post))


@_register("greedy", "score")
def greedy_scores(post: PoolPosterior, ctx: SelectContext) -> np.ndarray:
    """Exploit: lowest mean chi (objective "chi") or highest mean P(soluble) ("soluble")."""
    if ctx.objective == "soluble":
        if post.p_soluble is None:
            raise InvalidInputError("greedy with objective 'soluble' needs P(soluble) in the posterior")
        return post.p_soluble.mean(0)
    if ctx.objective != "chi":
        raise ConfigError(f"objective = {ctx.objective!r}: expected 'chi' or 'soluble'")
    return -post.mean


@_register("max_std", "score")
def max_std_scores(post: PoolPosterior, ctx: SelectContext) -> np.ndarray:
    """Explore: largest calibrated ensemble std."""
    return post.std.copy()


@_register("ucb", "score")
def ucb_scores(post: PoolPosterior, ctx: SelectContext) -> np.ndarray:
    """Optimistic low chi: -mean + beta * std."""
    return -post.mean + ctx.beta * post.std


@_register("boundary", "score")
def boundary_scores(post: PoolPosterior, ctx: SelectContext) -> np.ndarray:
    """Probability that chi lies within +-delta of chi_c (normal approximation): where a
    verdict (miscible / immiscible) is undecided."""
    cc = post.chi_c if post.chi_c is not None else 0.5
    sd = np.maximum(post.std, 1e-9)
    return ndtr((cc + ctx.delta - post.mean) / sd) - ndtr((cc - ctx.delta - post.mean) / sd)


@_register("cost_aware", "score")
def cost_aware_scores(post: PoolPosterior, ctx: SelectContext) -> np.ndarray:
    """Expected gain (calibrated posterior variance) per second of marginal oracle cost."""
    return post.std ** 2  # divided by the marginal cost inside the batch builder


# ---------------------------------------------------------------------------- batch building
class _Batch:
    """Greedy batch builder with exclusion, diversity caps and a budget."""

    def __init__(self, n_rows: int, ctx: SelectContext) -> None:
        self.ctx = ctx
        self.allowed = np.ones(n_rows, dtype=bool) if ctx.exclude is None else ~np.asarray(ctx.exclude, dtype=bool)
        if len(self.allowed) != n_rows:
            raise InvalidInputError(f"exclude mask has {len(self.allowed)} rows, posterior {n_rows}")
        self.cost = ctx.cost.copy() if ctx.cost is not None else None
        self.spent = 0.0
        self.rows: list[int] = []
        self.count_p: dict[int, int] = {}
        self.count_s: dict[int, int] = {}

    def remaining(self) -> float:
        return math.inf if self.ctx.budget_s is None else self.ctx.budget_s - self.spent

    def marginal(self, rows: np.ndarray) -> np.ndarray:
        if self.cost is None:
            return np.zeros(len(rows))
        return self.cost.row_cost(rows)

    def ok_mask(self, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` can still be added (allowed, caps, budget)."""
        ok = self.allowed[rows].copy()
        c = self.ctx
        if c.max_per_polymer is not None and c.polymer_of is not None and self.count_p:
            full = np.array([k for k, v in self.count_p.items() if v >= c.max_per_polymer])
            if len(full):
                ok &= ~np.isin(c.polymer_of[rows], full)
        if c.max_per_solvent is not None and c.solvent_of is not None and self.count_s:
            full = np.array([k for k, v in self.count_s.items() if v >= c.max_per_solvent])
            if len(full):
                ok &= ~np.isin(c.solvent_of[rows], full)
        if c.budget_s is not None:
            ok &= self.marginal(rows) <= self.remaining() + 1e-12
        return ok

    def add(self, row: int) -> None:
        row = int(row)
        if self.cost is not None:
            self.spent += self.cost.pay(row)
        self.rows.append(row)
        self.allowed[row] = False
        c = self.ctx
        if c.polymer_of is not None:
            self.count_p[int(c.polymer_of[row])] = self.count_p.get(int(c.polymer_of[row]), 0) + 1
        if c.solvent_of is not None:
            self.count_s[int(c.solvent_of[row])] = self.count_s.get(int(c.solvent_of[row]), 0) + 1

    def fill_by_score(self, scores: np.ndarray, n: int) -> None:
        order = np.argsort(-scores, kind="stable")
        order = order[self.allowed[order]]
        for r in order:
            if len(self.rows) >= n:
                break
            if self.ok_mask(np.array([r]))[0]:
                self.add(r)

    def fill_by_ratio(self, gain: np.ndarray, n: int) -> None:
        """Greedy gain / marginal cost, costs updated after each pick (on a shortlist)."""
        cand = np.flatnonzero(self.allowed)
        if len(cand) == 0:
            return
        k = min(len(cand), max(2000, 40 * n))
        base = self.marginal(cand) + 1e-12
        short = np.union1d(cand[np.argsort(-gain[cand])[:k]], cand[np.argsort(-(gain[cand] / base))[:k]])
        while len(self.rows) < n:
            ok = self.ok_mask(short)
            if not ok.any():
                break
            s = short[ok]
            ratio = gain[s] / (self.marginal(s) + 1e-12)
            self.add(s[int(np.argmax(ratio))])

    def selection(self, scores: np.ndarray, name: str) -> Selection:
        rows = np.asarray(self.rows, dtype=np.int64)
        return Selection(rows, np.asarray(scores)[rows] if len(rows) else np.zeros(0), self.spent, name)


def _thompson(post: PoolPosterior, n: int, b: _Batch) -> np.ndarray:
    """Thompson sampling from members: each slot draws one member and takes its best row."""
    rng = np.random.default_rng(b.ctx.seed)
    score = np.full(len(post), np.nan)
    while len(b.rows) < n:
        e = int(rng.integers(post.n_members))
        v = -post.values[e] if b.ctx.objective == "chi" else post.p_soluble[e]
        cand = np.flatnonzero(b.allowed)
        if len(cand) == 0:
            break
        ok = b.ok_mask(cand)
        if not ok.any():
            break
        cand = cand[ok]
        r = cand[int(np.argmax(v[cand]))]
        score[r] = v[r]
        b.add(r)
    return score


def _botorch_batch(post: PoolPosterior, n: int, b: _Batch, which: str) -> np.ndarray:
    """qUCB / qEI by BoTorch's sequential-greedy ``optimize_acqf_discrete`` over a shortlist of
    the best rows by UCB (mean/std of the whole pool first). Rounds re-run the optimisation
    when a pick would break a cap or the budget."""
    import torch
    from botorch.acquisition import qLogExpectedImprovement, qUpperConfidenceBound
    from botorch.acquisition.objective import LinearMCObjective
    from botorch.optim import optimize_acqf_discrete
    from botorch.sampling.index_sampler import IndexSampler

    from chiscreen.al.botorch_model import PoolEnsembleModel, rows_as_inputs

    ctx = b.ctx
    ucb = -post.mean + ctx.beta * post.std
    cand = np.flatnonzero(b.allowed)
    short = cand[np.argsort(-ucb[cand], kind="stable")[: max(ctx.shortlist, n)]]
    model = PoolEnsembleModel(post)
    obj = LinearMCObjective(torch.tensor([-1.0], dtype=torch.float64))   # maximise -chi
    sampler = IndexSampler(sample_shape=torch.Size([ctx.mc_samples]), seed=ctx.seed)
    if which == "qucb":
        acq = qUpperConfidenceBound(model, beta=ctx.beta ** 2, sampler=sampler, objective=obj)
    else:
        best = -(ctx.best_f if ctx.best_f is not None else float(post.mean.min()))
        acq = qLogExpectedImprovement(model, best_f=best, sampler=sampler, objective=obj)
    score = np.full(len(post), np.nan)
    while len(b.rows) < n:
        choices = short[b.ok_mask(short)]
        if len(choices) == 0:
            break
        acq.set_X_pending(rows_as_inputs(np.array(b.rows)) if b.rows else None)
        X, vals = optimize_acqf_discrete(acq, q=min(n - len(b.rows), len(choices)),
                                         choices=rows_as_inputs(choices), unique=True)
        picks = X[:, 0].round().long().numpy()
        for j, r in enumerate(picks):
            if not b.ok_mask(np.array([r]))[0]:
                break
            score[r] = float(vals[j]) if vals.ndim else float(vals)
            b.add(r)
    return score


@_register("thompson", "batch")
def thompson_batch(post, n, b):
    """Thompson sampling from ensemble members (lowest chi per drawn member)."""
    return _thompson(post, n, b)


@_register("qucb", "batch")
def qucb_batch(post, n, b):
    """BoTorch qUCB (maximising -chi) on a UCB shortlist, sequential greedy."""
    return _botorch_batch(post, n, b, "qucb")


@_register("qei", "batch")
def qei_batch(post, n, b):
    """BoTorch qEI (log form) below the best chi seen (maximising -chi) on a UCB shortlist."""
    return _botorch_batch(post, n, b, "qei")


def _seed_new_polymers(b: _Batch, post: PoolPosterior, k: int) -> None:
    """Add the most uncertain row (posterior std) of up to ``k`` distinct unprofiled polymers."""
    cost = b.cost
    for _ in range(k):
        cand = np.flatnonzero(b.allowed & ~cost.have_p[cost.pi])
        if len(cand) == 0:
            return
        cand = cand[b.ok_mask(cand)]
        if len(cand) == 0:
            return
        b.add(int(cand[np.argmax(post.std[cand])]))   # pays the profile: that polymer is profiled now


def select(name: str, post: PoolPosterior, n: int, ctx: SelectContext | None = None) -> Selection:
    """Pick up to ``n`` pool rows with acquisition ``name`` (RegistryError if unknown).

    Raises ConfigError for n < 1 or a budget <= 0. Returns fewer rows when the pool, the caps
    or the budget allow fewer."""
    acq = ACQUISITIONS[name]
    ctx = ctx or SelectContext()
    if n < 1:
        raise ConfigError(f"batch size {n}: expected >= 1")
    if ctx.budget_s is not None and not ctx.budget_s > 0:
        raise ConfigError(f"budget_s = {ctx.budget_s}: expected a positive number of seconds")
    b = _Batch(len(post), ctx)
    if ctx.min_new_polymers > 0 and ctx.cost is not None:
        _seed_new_polymers(b, post, min(n, ctx.min_new_polymers))
    if acq.kind == "score":
        scores = acq.fn(post, ctx)
        if name == "cost_aware":
            b.fill_by_ratio(scores, n)
        else:
            b.fill_by_score(scores, n)
    else:
        scores = acq.fn(post, n, b)
    return b.selection(scores, name)
