"""The screen's fast path carries the applicability-domain score and inflates chi_std exactly as
the model's posterior (EnsemblePrediction) does; screen pair tables have an ad_score column."""
import numpy as np
import pytest
import torch

from chiscreen.model import ChiEnsemble
from chiscreen.model.domain import build_domain
from chiscreen.screen import EngineConfig, QueryConfig, ScreenConfig, run_screen
from chiscreen.screen.job import read_pairs
from chiscreen.screen.scoring import BlockScorer
from chiscreen.screen.synthetic import synthetic_catalogs

T = [260.0, 330.0]


def _ens_with_domain(F=12, seed=1):
    rng = np.random.default_rng(seed)
    ens = ChiEnsemble.random(F, F, n_members=4, d=6, seed=seed)
    ens.std_scale["chi_exp"] = 1.3
    ens.domain = build_domain(ens, rng.normal(size=(25, F)), rng.normal(size=(15, F)),
                              inflation={"chi_exp": {"slope": 0.6, "cap": 2.5, "k95": 2.4}})
    return ens


@pytest.mark.parametrize("mean_first", [False, True])
def test_block_std_and_score_equal_the_posterior(mean_first):
    ens = _ens_with_domain()
    rng = np.random.default_rng(0)
    Xp = (rng.normal(size=(9, 12)) * rng.uniform(0.5, 3, size=(9, 1))).astype(np.float32)   # near and far
    Xs = rng.normal(size=(7, 12)).astype(np.float32)
    Up, Us = ens.encode_polymers(Xp), ens.encode_solvents(Xs)
    sc = BlockScorer.for_ensemble(ens, Us, T, p_all=not mean_first, mean_first=mean_first, chunk=4)
    r = sc.score(Up)
    pi, ti, si = np.meshgrid(np.arange(9), np.arange(len(T)), np.arange(7), indexing="ij")
    pi, ti, si = pi.ravel(), ti.ravel(), si.ravel()
    post = ens.posterior(Xp[pi], Xs[si], np.asarray(T)[ti])
    got = r.chi_std_at(torch.from_numpy(pi), torch.from_numpy(ti), torch.from_numpy(si)).numpy()
    np.testing.assert_allclose(got, post.calibrated_std_of("chi_exp"), rtol=2e-4, atol=2e-6)
    np.testing.assert_allclose(r.ad_at(torch.from_numpy(pi), torch.from_numpy(si)), post.ad, rtol=1e-4, atol=1e-5)
    assert np.ptp(post.ad) > 0.5        # the test spans in- and out-of-domain polymers


def test_screen_pairs_carry_ad_score(tmp_path):
    pol, sol, Xp, Xs = synthetic_catalogs(60, 20, 12, seed=2, n_invalid=0)
    cfg = ScreenConfig(temperatures=["300K"], query=QueryConfig(top_k_per_polymer=2),
                       engine=EngineConfig(kind="plain", shard_size=30))
    ens = _ens_with_domain()
    res = run_screen(cfg, out=str(tmp_path / "dom"), ensemble=ens, descriptors=(Xp, Xs), catalogs=(pol, sol),
                     progress=False)
    df = read_pairs(res.out, names=False)
    assert len(df) == 120 and "ad_score" in df.columns
    assert np.isfinite(df["ad_score"]).all() and (df["ad_score"] >= 0).all()
    plain = ChiEnsemble.random(12, 12, n_members=4, d=6, seed=1)
    res = run_screen(cfg, out=str(tmp_path / "plain"), ensemble=plain, descriptors=(Xp, Xs), catalogs=(pol, sol),
                     progress=False)
    df = read_pairs(res.out, names=False)
    assert "ad_score" in df.columns and df["ad_score"].isna().all()
