"""Mean-first scoring (one GEMM over concatenated members, std only for kept rows) equals the
per-member path: same kept rows, same values (float32 rounding)."""
import numpy as np
import pytest
import torch

from chiscreen.errors import ScreenError
from chiscreen.model import ChiEnsemble
from chiscreen.screen import EngineConfig, QueryConfig, ScreenConfig, run_screen
from chiscreen.screen.job import read_pairs
from chiscreen.screen.queries import filter_block
from chiscreen.screen.scoring import BlockScorer
from chiscreen.screen.synthetic import synthetic_catalogs

T = [260.0, 298.15, 350.0]


def _scorers(ens, Us, chunk=7, temps=T):
    W, b = ens.head_params()
    kw = dict(head="exp", std_scale=1.3, chunk=chunk, p_all=False)
    return (BlockScorer(W, b, ens.outputs, Us, temps, **kw),
            BlockScorer(W, b, ens.outputs, Us, temps, mean_first=True, **kw))


def _gap_threshold(values: np.ndarray, q: float) -> float:
    """A threshold near quantile q in the middle of the widest gap nearby, so float32 rounding
    differences between the two paths (~1e-7) cannot move a row across it."""
    v = np.sort(values.ravel())
    i = int(q * len(v))
    lo, hi = max(1, i - 200), min(len(v) - 1, i + 200)
    j = lo + int(np.argmax(v[lo:hi] - v[lo - 1:hi - 1]))
    assert v[j] - v[j - 1] > 1e-5
    return float(0.5 * (v[j] + v[j - 1]))


def test_mean_first_block_equals_member_path(ens):
    rng = np.random.default_rng(3)
    Up = ens.encode_polymers(rng.standard_normal((41, ens.n_features_polymer), dtype=np.float32))
    Us = ens.encode_solvents(rng.standard_normal((29, ens.n_features_solvent), dtype=np.float32))
    ref_sc, mf_sc = _scorers(ens, Us)
    ref, mf = ref_sc.score(Up), mf_sc.score(Up)
    assert mf.chi_std is None and mf.chi.shape == ref.chi.shape == (41, 3, 29)
    assert torch.allclose(mf.chi, ref.chi, atol=1e-5, rtol=1e-5)
    pi, ti, si = (torch.from_numpy(rng.integers(0, n, 500)) for n in (41, 3, 29))
    for numpy_gather in (True, False):  # False: the torch indexing path used on GPUs
        mf_sc.numpy_gather = numpy_gather
        assert torch.allclose(mf.chi_std_at(pi, ti, si), ref.chi_std[pi, ti, si], atol=1e-5, rtol=1e-4)
        # member values: their mean is the GEMM mean
        y = mf_sc.member_chi(Up, pi, ti, si)
        assert y.shape == (500, ens.n_members)
        assert torch.allclose(y.mean(1), mf.chi[pi, ti, si], atol=1e-5)
    assert mf.chi_std_at(pi[:0], ti[:0], si[:0]).shape == (0,)


@pytest.mark.parametrize("query", [
    dict(chi_max="gap"),
    dict(chi_max="gap", chi_min=-10.0, top_k_per_polymer=3),
    dict(miscible_only=True, top_k_per_solvent=4),
    dict(top_k_per_polymer=2, top_k_per_solvent=3),
])
def test_mean_first_filter_keeps_the_same_rows(ens, query):
    rng = np.random.default_rng(5)
    Up = ens.encode_polymers(rng.standard_normal((60, ens.n_features_polymer), dtype=np.float32))
    Us = ens.encode_solvents(rng.standard_normal((33, ens.n_features_solvent), dtype=np.float32))
    ref_sc, mf_sc = _scorers(ens, Us)
    ref, mf = ref_sc.score(Up), mf_sc.score(Up)
    if query.get("chi_max") == "gap":
        query = {**query, "chi_max": _gap_threshold(ref.chi.numpy(), 0.05)}
    q = QueryConfig(**query)
    assert q.allows_mean_first
    chi_c = _gap_threshold(ref.chi.numpy(), 0.1)
    pids, sids = np.arange(100, 160), np.arange(7, 40)
    out = []
    for sc, r in ((ref_sc, ref), (mf_sc, mf)):
        out.append(filter_block(r, q, pids, sids, T, chi_c, pair_p=lambda pi, si, sc=sc: sc.pair_p(Up, pi, si)))
    for a, b in zip(out[0], out[1]):
        if a is None:
            assert b is None
            continue
        assert a.num_rows == b.num_rows > 0
        for c in ("polymer_id", "solvent_id", "T_K", "miscible", "verdict"):
            assert a.column(c).to_pylist() == b.column(c).to_pylist(), c
        for c in ("chi", "chi_std", "p_soluble", "p_soluble_std"):
            np.testing.assert_allclose(a.column(c).to_numpy(), b.column(c).to_numpy(), atol=2e-5, rtol=1e-4)


def test_queries_that_read_the_std_or_p_everywhere_are_not_mean_first():
    assert QueryConfig(chi_max=0.5).allows_mean_first
    assert QueryConfig(top_k_per_polymer=3, rank_by="chi").allows_mean_first
    assert not QueryConfig(chi_max=0.5, chi_std_max=0.1).allows_mean_first
    assert not QueryConfig(top_k_per_polymer=3, rank_by="chi_upper").allows_mean_first
    assert not QueryConfig(top_k_per_polymer=3, rank_by="p_soluble").allows_mean_first
    assert not QueryConfig(p_soluble_min=0.5).allows_mean_first


def test_mean_first_refuses_p_all(ens):
    Us = ens.encode_solvents(np.zeros((3, ens.n_features_solvent), dtype=np.float32))
    W, b = ens.head_params()
    with pytest.raises(ScreenError, match="mean_first"):
        BlockScorer(W, b, ens.outputs, Us, [300.0], p_all=True, mean_first=True)


def test_screen_output_equal_with_and_without_mean_first(tmp_path, monkeypatch):
    """Whole plain screen: the mean-first engine path writes the rows the per-member path writes."""
    pol, sol, Xp, Xs = synthetic_catalogs(150, 30, 12, seed=2, n_invalid=2)
    ens = ChiEnsemble.random(12, 12, n_members=4, d=6, seed=1)
    W, b = ens.head_params()
    chi = BlockScorer(W, b, ens.outputs, ens.encode_solvents(Xs), [300.0], p_all=False).score(
        ens.encode_polymers(np.nan_to_num(Xp))).chi.numpy()
    chi_max = _gap_threshold(chi, 0.03)
    cfg = ScreenConfig(temperatures=["300K"], query=QueryConfig(chi_max=chi_max, top_k_per_solvent=2),
                       engine=EngineConfig(kind="plain", shard_size=40))
    frames = {}
    for mode in (True, False):
        monkeypatch.setattr(QueryConfig, "allows_mean_first", property(lambda self, m=mode: m))
        res = run_screen(cfg, out=str(tmp_path / f"mf{mode}"), ensemble=ens, descriptors=(Xp, Xs),
                         catalogs=(pol, sol), progress=False)
        frames[mode] = read_pairs(res.out, names=False).sort_values(["polymer_id", "solvent_id"]).reset_index(drop=True)
    a, b = frames[True], frames[False]
    assert len(a) == len(b) > 0
    assert (a[["polymer_id", "solvent_id", "verdict"]].to_numpy() == b[["polymer_id", "solvent_id", "verdict"]].to_numpy()).all()
    np.testing.assert_allclose(a[["chi", "chi_std", "p_soluble"]].to_numpy(), b[["chi", "chi_std", "p_soluble"]].to_numpy(),
                               atol=2e-5, rtol=1e-4)
