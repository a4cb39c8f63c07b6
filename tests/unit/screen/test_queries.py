import numpy as np
import pytest
import torch

from chiscreen.errors import ConfigError
from chiscreen.screen.queries import QueryConfig, SelectiveQuery, filter_block, merge_top_per_solvent, selective_dissolution
from chiscreen.screen.scoring import BlockScores


def _scores(seed=0, P=12, T=2, S=9):
    g = torch.Generator().manual_seed(seed)
    chi = torch.rand(P, T, S, generator=g) * 2 - 0.5
    return BlockScores(chi=chi, chi_std=torch.rand(P, T, S, generator=g) * 0.3,
                       p_soluble=torch.rand(P, S, generator=g), p_soluble_std=torch.rand(P, S, generator=g) * 0.1)


TEMPS = [300.0, 350.0]


def _df(t):
    return t.to_pandas()


def test_thresholds_are_anded():
    r = _scores()
    q = QueryConfig(chi_max=0.6, p_soluble_min=0.3, chi_std_max=0.2)
    kept, cand = filter_block(r, q, np.arange(100, 112), np.arange(9), TEMPS, 0.5)
    assert cand is None
    df = _df(kept)
    chi = r.chi.numpy()
    want = (chi < 0.6) & (r.p_soluble.numpy()[:, None, :] >= 0.3) & (r.chi_std.numpy() <= 0.2)
    assert len(df) == want.sum() > 0
    assert (df.chi < 0.6).all() and (df.p_soluble >= 0.3).all() and (df.chi_std <= 0.2).all()
    assert set(df.polymer_id) <= set(range(100, 112))
    assert (df.miscible == (df.chi < 0.5)).all()


def test_top_k_per_polymer_after_thresholds():
    r = _scores(1)
    q = QueryConfig(top_k_per_polymer=3, chi_max=1.0)
    df = _df(filter_block(r, q, np.arange(12), np.arange(9), TEMPS, 0.5)[0])
    chi = r.chi.numpy()
    for (p, T), g in df.groupby(["polymer_id", "T_K"]):
        t = TEMPS.index(T)
        vals = np.sort(chi[p, t][chi[p, t] < 1.0])[:3]
        assert np.allclose(np.sort(g.chi.to_numpy()), vals)


def test_rank_by_p_soluble():
    r = _scores(2)
    q = QueryConfig(top_k_per_polymer=2, rank_by="p_soluble")
    df = _df(filter_block(r, q, np.arange(12), np.arange(9), TEMPS, 0.5)[0])
    p = r.p_soluble.numpy()
    for (pid, T), g in df.groupby(["polymer_id", "T_K"]):
        assert set(g.solvent_id) == set(np.argsort(-p[pid])[:2])


def test_per_solvent_top_k_streaming_merge_equals_global():
    """Shard-wise candidates merged one shard at a time == top k over the whole product."""
    q = QueryConfig(top_k_per_solvent=4, chi_max=1.2)
    blocks = [_scores(s, P=10) for s in range(5)]
    cands = []
    for i, r in enumerate(blocks):
        cands.append(filter_block(r, q, np.arange(10 * i, 10 * i + 10), np.arange(9), TEMPS, 0.5)[1])
    merged = merge_top_per_solvent(iter(cands[::-1]), q).to_pandas()
    chi = torch.cat([b.chi for b in blocks]).numpy()  # (50, T, S)
    for s in range(9):
        for t, T in enumerate(TEMPS):
            col = chi[:, t, s]
            ok = np.flatnonzero(col < 1.2)
            want = ok[np.argsort(col[ok], kind="stable")][:4]
            got = merged[(merged.solvent_id == s) & (merged.T_K == np.float32(T))].sort_values("rank")
            assert list(got.polymer_id) == list(want)
            assert list(got["rank"]) == list(range(1, len(want) + 1))


def test_unbounded_query_is_refused_unless_keep_all():
    with pytest.raises(ConfigError, match="keep_all"):
        QueryConfig().check_bounded()
    QueryConfig(keep_all=True).check_bounded()
    with pytest.raises(ConfigError):
        QueryConfig(p_soluble_min=2.0)
    with pytest.raises(ConfigError, match="dissolve"):
        SelectiveQuery(name="x", dissolve=[])


def test_selective_dissolution_margin_and_ranking():
    # 3 polymers (1 target, 2 excluded) x 4 solvents x 1 T
    chi = torch.tensor([[[0.1, 0.4, 0.9, 0.2]],      # target: want chi < 0.5
                        [[0.9, 0.7, 0.2, 0.3]],      # excluded: want chi > 0.5
                        [[1.0, 0.6, 0.8, 0.9]]])
    r = BlockScores(chi=chi, chi_std=torch.full_like(chi, 0.05), p_soluble=torch.rand(3, 4),
                    p_soluble_std=torch.zeros(3, 4))
    sq = SelectiveQuery(name="t", dissolve=["A"], exclude=["B", "C"], top_k=3)
    df = selective_dissolution(r, 1, ["A", "B", "C"], np.array([10, 11, 12, 13]), [300.0], 0.5, sq).to_pandas()
    assert list(df.solvent_id) == [10, 11, 13]          # margins 0.4, 0.1, -0.2 (solvent 12: -0.4 dropped)
    assert df.margin.to_numpy() == pytest.approx([0.4, 0.1, -0.2], abs=1e-6)
    assert list(df.selective) == [True, True, False]
    assert df.worst_polymer.iloc[2] == "B" and df["chi[A]"].iloc[0] == pytest.approx(0.1)


def test_rank_by_chi_upper_prefers_confident_solvents():
    r = _scores(4)
    q = QueryConfig(top_k_per_polymer=2, top_k_per_solvent=3, rank_by="chi_upper")
    kept, cand = filter_block(r, q, np.arange(12), np.arange(9), TEMPS, 0.5)
    df = _df(kept)
    ub = (r.chi + r.chi_std).numpy()
    for (p, T), g in df.groupby(["polymer_id", "T_K"]):
        assert set(g.solvent_id) == set(np.argsort(ub[p, TEMPS.index(T)])[:2])
    merged = merge_top_per_solvent(iter([cand]), q).to_pandas()
    assert "chi_upper" not in merged.columns
    for (s, T), g in merged.groupby(["solvent_id", "T_K"]):
        assert list(g.sort_values("rank").polymer_id) == list(np.argsort(ub[:, TEMPS.index(T), s])[:3])
