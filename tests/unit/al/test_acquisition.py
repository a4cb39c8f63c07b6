"""Every acquisition function on a toy posterior whose answer is known."""
import numpy as np
import pytest

from chiscreen.al.acquisition import ACQUISITIONS, SelectContext, select
from chiscreen.al.cost import CostConfig, CostModel
from chiscreen.al.pool import PoolPosterior
from chiscreen.errors import ConfigError, RegistryError

P, S = 6, 5
PI = np.repeat(np.arange(P), S)
SI = np.tile(np.arange(S), P)
N = P * S


def toy(seed=0):
    """Members = mean + std * fixed offsets: row mean and std chosen per row."""
    rng = np.random.default_rng(seed)
    mean = np.linspace(0.0, 2.9, N)                    # row 0 has the lowest chi
    std = np.full(N, 0.1)
    std[17] = 3.0                                      # row 17: most uncertain
    z = rng.normal(size=(8, N))
    z = (z - z.mean(0)) / z.std(0, ddof=1)
    p_sol = np.tile(np.linspace(0.9, 0.1, N), (8, 1))
    p_sol[:, 4] = 0.99                                 # row 4: most soluble
    return PoolPosterior.from_members(mean + std * z, 1.0, p_soluble=p_sol, chi_c=0.5)


def test_registry_lists_all():
    assert set(ACQUISITIONS.keys()) >= {"random", "greedy", "max_std", "ucb", "qucb", "qei", "boundary", "thompson", "cost_aware"}
    with pytest.raises(RegistryError, match="unknown acquisition"):
        select("nope", toy(), 3)


def test_greedy_lowest_chi_and_most_soluble():
    post = toy()
    assert select("greedy", post, 3).rows.tolist() == [0, 1, 2]
    assert select("greedy", post, 1, SelectContext(objective="soluble")).rows.tolist() == [4]


def test_max_std_and_ucb():
    post = toy()
    assert select("max_std", post, 1).rows.tolist() == [17]
    # UCB: -mean + beta std; row 17 has mean ~1.7, std 3 -> wins for beta 2, loses for beta 0
    assert select("ucb", post, 1, SelectContext(beta=2.0)).rows.tolist() == [17]
    assert select("ucb", post, 1, SelectContext(beta=0.0)).rows.tolist() == [0]


def test_boundary_prefers_rows_near_chi_c():
    post = toy()
    near = int(np.argmin(np.abs(post.mean - 0.5)))
    assert select("boundary", post, 1, SelectContext(delta=0.05)).rows.tolist() == [near]


def test_random_is_seeded_and_excludes():
    post = toy()
    excl = np.zeros(N, dtype=bool)
    excl[:20] = True
    a = select("random", post, 5, SelectContext(seed=3, exclude=excl)).rows
    b = select("random", post, 5, SelectContext(seed=3, exclude=excl)).rows
    assert a.tolist() == b.tolist() and (a >= 20).all() and len(set(a)) == 5


def test_thompson_draws_member_optima():
    post = toy()
    rows = select("thompson", post, 4, SelectContext(seed=1)).rows
    assert len(set(rows)) == 4
    # each pick is the lowest-chi allowed row of some member
    best_any = {int(np.argmin(post.values[e])) for e in range(post.n_members)}
    assert rows[0] in best_any


@pytest.mark.parametrize("name", ["qucb", "qei"])
def test_botorch_batch_acquisitions(name):
    post = toy()
    excl = np.zeros(N, dtype=bool)
    excl[0] = True
    sel = select(name, post, 3, SelectContext(exclude=excl, shortlist=10, seed=0, polymer_of=PI, max_per_polymer=2))
    assert len(sel.rows) == 3 and 0 not in sel.rows and len(set(sel.rows)) == 3
    counts = np.bincount(PI[sel.rows])
    assert counts.max() <= 2
    # low-chi or high-std rows: all picks are among the UCB shortlist
    ucb = -post.mean + 2.0 * post.std
    short = set(np.argsort(-np.where(excl, -np.inf, ucb))[:10])
    assert set(sel.rows) <= short


def test_diversity_caps_and_exclusion():
    post = toy()
    ctx = SelectContext(polymer_of=PI, solvent_of=SI, max_per_polymer=1, max_per_solvent=2)
    rows = select("greedy", post, 6, ctx).rows
    assert len(set(PI[rows])) == 6                     # one row per polymer
    assert np.bincount(SI[rows]).max() <= 2


def test_budget_and_cost_awareness():
    post = toy()
    have_p = np.array([True, False, False, False, False, True])
    cm = CostModel(PI, SI, have_p, np.ones(S, dtype=bool), CostConfig(polymer_s=5.0, solvent_s=0.05, pair_s=0.001))
    # with 1 s of budget only rows of profiled polymers (0 and 5) are affordable
    for name in ("greedy", "max_std", "cost_aware", "random", "thompson"):
        sel = select(name, post, 4, SelectContext(cost=cm, budget_s=1.0, polymer_of=PI, solvent_of=SI))
        assert set(PI[sel.rows]) <= {0, 5}, name
        assert sel.cost_s <= 1.0
    # cost-aware: gain per second -> row 17 (polymer 3, new: 5 s) is worth it only if its
    # variance gain beats cheap rows: std 3 -> gain 9 / 5 s = 1.8/s vs 0.01 / 0.001 s = 10/s
    sel = select("cost_aware", post, 1, SelectContext(cost=cm, budget_s=100.0))
    assert PI[sel.rows[0]] in (0, 5)
    # a batch pays for a new polymer once: after row 17, its polymer's other rows cost 1 ms
    sel = select("max_std", post, 3, SelectContext(cost=cm, budget_s=100.0))
    assert sel.rows[0] == 17                          # polymer 3 (new): 5 s + 1 ms
    new = {int(p) for p in PI[sel.rows] if not have_p[p]}
    assert abs(sel.cost_s - (5.0 * len(new) + 3 * 0.001)) < 1e-9     # each new polymer paid once
    assert abs(cm.batch_cost(sel.rows) - sel.cost_s) < 1e-9
    # the same polymer's other rows are now cheap: a second pick of polymer 3 adds 1 ms only
    two = select("max_std", post, 2, SelectContext(cost=cm, budget_s=100.0, exclude=np.isin(np.arange(N), [0, 1, 2, 3, 4])))
    assert two.rows[0] == 17 and abs(cm.batch_cost(np.array([17, 15])) - 5.002) < 1e-9


def test_zero_budget_and_bad_batch_are_errors():
    post = toy()
    with pytest.raises(ConfigError, match="budget_s"):
        select("greedy", post, 3, SelectContext(budget_s=0.0))
    with pytest.raises(ConfigError, match="batch size"):
        select("greedy", post, 0)


def test_min_new_polymers_seeds_the_batch_with_unprofiled_polymers():
    post = toy()
    have_p = np.array([True, False, False, False, False, True])
    cm = CostModel(PI, SI, have_p, np.ones(S, dtype=bool), CostConfig(polymer_s=5.0, solvent_s=0.05, pair_s=0.001))
    plain = select("cost_aware", post, 4, SelectContext(cost=cm, budget_s=100.0, polymer_of=PI, solvent_of=SI))
    assert set(PI[plain.rows]) <= {0, 5}                  # cheap rows win on gain per second
    ctx = SelectContext(cost=cm, budget_s=100.0, polymer_of=PI, solvent_of=SI, min_new_polymers=2)
    sel = select("cost_aware", post, 4, ctx)
    new = {int(p) for p in PI[sel.rows] if not have_p[p]}
    assert len(new) == 2 and sel.rows[0] == 17            # the most uncertain unprofiled row first
    assert abs(sel.cost_s - cm.batch_cost(sel.rows)) < 1e-9 and cm.have_p.sum() == 2   # ctx's model untouched
    # the budget still binds: 1 s affords no new polymer, so none is forced
    one = select("cost_aware", post, 4, SelectContext(cost=cm, budget_s=1.0, min_new_polymers=2))
    assert set(PI[one.rows]) <= {0, 5}
