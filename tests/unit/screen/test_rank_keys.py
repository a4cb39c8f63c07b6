"""rank_by keys are one registry of functions, used by the block top-k, the streaming merge
of candidates and the demo's pandas ranking alike."""
import numpy as np
import pandas as pd
import pytest
import torch

from chiscreen.errors import ConfigError
from chiscreen.screen.queries import (RANK_KEYS, QueryConfig, filter_block, merge_top_per_solvent,
                                      rank_key_frame)
from chiscreen.screen.scoring import BlockScores


def _block(seed=0, P=7, T=2, S=5):
    g = torch.Generator().manual_seed(seed)
    return BlockScores(chi=torch.rand(P, T, S, generator=g), chi_std=torch.rand(P, T, S, generator=g) * 0.3,
                       p_soluble=torch.rand(P, S, generator=g), p_soluble_std=torch.rand(P, S, generator=g) * 0.1)


def test_registry_and_validation():
    assert RANK_KEYS.keys() == ["chi", "chi_upper", "p_soluble"]
    with pytest.raises(ConfigError, match="rank_by"):
        QueryConfig(top_k_per_polymer=3, rank_by="nope")


@pytest.mark.parametrize("rank_by", ["chi", "chi_upper", "p_soluble"])
def test_block_merge_and_frame_rank_the_same(rank_by):
    r = _block()
    q = QueryConfig(top_k_per_solvent=3, rank_by=rank_by)
    pid, sid = np.arange(10, 17), np.arange(100, 105)
    _, cand = filter_block(r, q, pid, sid, [300.0, 350.0], 0.5)
    merged = merge_top_per_solvent([cand.slice(0, 9), cand.slice(9)], q).to_pandas()
    # brute force over every row with the pandas helper
    P, T, S = r.shape
    pi, ti, si = np.meshgrid(np.arange(P), np.arange(T), np.arange(S), indexing="ij")
    full = pd.DataFrame({"polymer_id": pid[pi.ravel()], "solvent_id": sid[si.ravel()], "T_K": np.array([300.0, 350.0])[ti.ravel()],
                         "chi": r.chi.numpy().ravel(), "chi_std": r.chi_std.numpy().ravel(),
                         "p_soluble": r.p_soluble.numpy()[pi.ravel(), si.ravel()]})
    full["key"] = rank_key_frame(full, rank_by)
    want = full.sort_values(["solvent_id", "T_K", "key", "polymer_id"]).groupby(["solvent_id", "T_K"]).head(3)
    assert list(merged["polymer_id"]) == list(want["polymer_id"])
    assert list(merged["rank"]) == [1, 2, 3] * (S * T)
