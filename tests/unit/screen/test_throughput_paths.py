"""The throughput paths of the screen equal the reference ones: the chunked per-member polymer
towers (PolymerTowers) equal ``ens.encode_polymers``, the one-gather kept-row statistics
(``BlockScores.kept_fn``) equal ``chi_std_at`` + ``BlockScorer.pair_p``, and the plain engine
with shards in threads writes the same tables as one shard at a time."""
import os

import numpy as np
import pandas as pd
import pytest
import torch

from chiscreen.model import ChiEnsemble
from chiscreen.screen import EngineConfig, QueryConfig, ScreenConfig, run_screen
from chiscreen.screen.engine import plain_shard_threads
from chiscreen.screen.scoring import BlockScorer, PolymerTowers
from chiscreen.screen.synthetic import synthetic_catalogs


@pytest.mark.parametrize("activation", ["silu", "relu", "tanh", "elu"])
def test_polymer_towers_equal_encode_polymers(activation):
    _, _, Xp, _ = synthetic_catalogs(1100, 5, 20, seed=1, n_invalid=0)
    ens = ChiEnsemble.random(20, 20, n_members=4, d=6, seed=2, activation=activation)
    tw = PolymerTowers(ens, chunk=256)                 # several chunks and a ragged last one
    assert tw.fast == (activation != "elu")            # no in-place form known: the model's own path
    ref = ens.encode_polymers(Xp)
    got = tw(Xp)
    assert got.shape == ref.shape and got.dtype == torch.float32
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("temps", [[298.15], [260.0, 300.0, 350.0]])
def test_kept_stats_equal_std_and_pair_p(temps):
    _, _, Xp, Xs = synthetic_catalogs(300, 40, 12, seed=3, n_invalid=0)
    ens = ChiEnsemble.random(12, 12, n_members=5, d=8, seed=4)
    Up, Us = ens.encode_polymers(Xp), ens.encode_solvents(Xs)
    W, b = ens.head_params()
    sc = BlockScorer(W, b, ens.outputs, Us, temps, std_scale=1.7, p_all=False, mean_first=True)
    r = sc.score(Up)
    pi, ti, si = (r.chi < torch.quantile(r.chi.flatten(), 0.05)).nonzero(as_tuple=True)
    assert len(pi) > 100
    sd, pm, ps = r.kept_stats(pi, ti, si, pair_p=lambda a, c: sc.pair_p(Up, a, c))
    ref_pm, ref_ps = sc.pair_p(Up, pi, si)
    torch.testing.assert_close(sd, r.chi_std_at(pi, ti, si), rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(pm, ref_pm, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ps, ref_ps, rtol=1e-4, atol=1e-6)
    empty = torch.zeros(0, dtype=torch.int64)
    assert all(len(x) == 0 for x in r.kept_stats(empty, empty, empty))


def test_plain_shard_threads_same_tables(tmp_path):
    pol, sol, Xp, Xs = synthetic_catalogs(500, 30, 12, seed=6, n_invalid=3)
    ens = ChiEnsemble.random(12, 12, n_members=4, d=6, seed=1)
    before = torch.get_num_threads()
    out = {}
    for n in (1, 2):
        cfg = ScreenConfig(temperatures=["300K", "350K"], query=QueryConfig(chi_max=0.3, top_k_per_solvent=3),
                           engine=EngineConfig(kind="plain", shard_size=37, threads=1 if n == 1 else None,
                                               shard_threads=n))
        res = run_screen(cfg, out=str(tmp_path / str(n)), ensemble=ens, descriptors=(Xp, Xs), catalogs=(pol, sol),
                         progress=False)
        assert res.stats.written == res.stats.n_shards and res.stats.workers == n
        assert res.stats.cpu_seconds > 0
        out[n] = pd.read_parquet(tmp_path / str(n) / "pairs").sort_values(["polymer_id", "T_K", "solvent_id"])
        torch.set_num_threads(before)
    assert torch.get_num_threads() == before             # restored after the threaded run
    assert len(out[1]) > 0
    pd.testing.assert_frame_equal(out[1].reset_index(drop=True), out[2].reset_index(drop=True))
    a = pd.read_parquet(tmp_path / "1" / "top_per_solvent.parquet")
    b = pd.read_parquet(tmp_path / "2" / "top_per_solvent.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert sorted(os.listdir(tmp_path / "1" / "pairs")) == sorted(os.listdir(tmp_path / "2" / "pairs"))


def test_plain_shard_threads_choice():
    assert plain_shard_threads(EngineConfig(kind="plain", shard_threads=3), "cpu") == 3
    assert plain_shard_threads(EngineConfig(kind="plain", threads=2), "cpu") == 1
    assert plain_shard_threads(EngineConfig(kind="plain", shard_threads=4), "cuda") == 1
    assert 1 <= plain_shard_threads(EngineConfig(kind="plain"), "cpu") <= max(1, torch.get_num_threads())
