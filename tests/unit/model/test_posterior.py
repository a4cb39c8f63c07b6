"""One posterior: every mean / std / calibrated std in chiscreen equals EnsemblePrediction."""
import numpy as np
import pandas as pd
import pytest
import torch

from chiscreen.model import ChiEnsemble, EnsemblePrediction
from chiscreen.model.calibration import predict_task_rows
from chiscreen.model.data import TaskRows, TrainingData
from chiscreen.model.posterior import std_scale_of
from chiscreen.model.predict import result_values
from chiscreen.screen.scoring import BlockScorer, score_direct


@pytest.fixture()
def ens():
    e = ChiEnsemble.random(9, 7, n_members=5, d=4, seed=4)
    e.std_scale = {"chi_exp": 1.6, "chi_comp": 0.7}
    return e


def _X(ens, n_p=11, n_s=6, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n_p, ens.n_features_polymer), dtype=np.float32),
            rng.standard_normal((n_s, ens.n_features_solvent), dtype=np.float32))


def test_statistics_and_calibration_are_defined_once(ens):
    v = np.random.default_rng(0).normal(size=(5, 4, 3))
    post = EnsemblePrediction.from_members(["chi_exp", "p_soluble", "A_exp"], v, ens.std_scale)
    np.testing.assert_allclose(post.mean, v.mean(0))
    np.testing.assert_allclose(post.std, v.std(0, ddof=1))
    np.testing.assert_allclose(post.calibrated_std, post.std * np.array([1.6, 1.0, 1.0]))
    assert post["chi_exp"].shape == (5, 4) and std_scale_of(ens.std_scale, "chi_comp") == 0.7
    one = EnsemblePrediction.from_members(["chi_exp"], v[:1, :, :1], {})
    assert (one.std == 0).all()


def test_pool_equals_aligned_descriptors_without_the_product(ens):
    Xp, Xs = _X(ens)
    rng = np.random.default_rng(1)
    pi, si = rng.integers(0, len(Xp), 40), rng.integers(0, len(Xs), 40)
    T = rng.uniform(250, 400, 40)
    Up, Us = ens.encode_polymers(Xp), ens.encode_solvents(Xs)
    pool = ens.posterior_pool(Up, Us, pi, si, T, batch=7)            # 6 batches, never P x S
    ref = ens.posterior(Xp[pi], Xs[si], T)
    assert pool.values.shape == (5, 40, len(ref.names)) and pool.names == ref.names
    np.testing.assert_allclose(pool.values, ref.values, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(pool.calibrated_std, ref.calibrated_std, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ens.predict_arrays(Xp[pi], Xs[si], T)["chi_exp"], ref["chi_exp"])


@pytest.mark.parametrize("head,task", [("exp", "chi_exp"), ("comp", "chi_comp")])
@pytest.mark.parametrize("p_all", [True, False])
def test_screen_fast_path_equals_posterior(ens, head, task, p_all):
    Xp, Xs = _X(ens)
    Up, Us = ens.encode_polymers(Xp), ens.encode_solvents(Xs)
    temps = [260.0, 330.0]
    sc = BlockScorer.for_ensemble(ens, Us, temps, head=head, chunk=4, p_all=p_all)
    r = sc.score(Up)
    P, S = len(Xp), len(Xs)
    pi, si = np.repeat(np.arange(P), S), np.tile(np.arange(S), P)
    for j, T in enumerate(temps):
        post = ens.posterior_pool(Up, Us, pi, si, T)
        np.testing.assert_allclose(r.chi[:, j].numpy().ravel(), post.mean_of(task), rtol=1e-4, atol=2e-5)
        np.testing.assert_allclose(r.chi_std[:, j].numpy().ravel(), post.calibrated_std_of(task), rtol=1e-4, atol=5e-5)
        if p_all:
            np.testing.assert_allclose(r.p_soluble.numpy().ravel(), post.mean_of("p_soluble"), atol=2e-5)
            np.testing.assert_allclose(r.p_soluble_std.numpy().ravel(), post.std_of("p_soluble"), atol=5e-5)
    post = ens.posterior_pool(Up, Us, pi, si, 300.0)
    m, s = sc.pair_p(Up, torch.from_numpy(pi), torch.from_numpy(si))
    np.testing.assert_allclose(m.numpy(), post.mean_of("p_soluble"), atol=2e-6)
    np.testing.assert_allclose(s.numpy(), post.std_of("p_soluble"), atol=2e-6)
    W, b = ens.head_params()
    d = score_direct(W, b, ens.outputs, Up, Us, temps, head=head, std_scale=ens.std_scale[task])
    np.testing.assert_allclose(d.chi_std[:, 0].numpy().ravel(),
                               ens.posterior_pool(Up, Us, pi, si, temps[0]).calibrated_std_of(task), rtol=1e-4, atol=1e-6)


def test_predict_and_evaluate_use_the_posterior(ens):
    Xp, Xs = _X(ens, 6, 4)
    pi, si = np.arange(6), np.array([0, 1, 2, 3, 0, 1])
    T = np.full(6, 310.0)
    post = ens.posterior(Xp[pi], Xs[si], T)
    res = result_values(post, ens.tasks)
    np.testing.assert_allclose(res["chi_mean"], post["chi_exp"].mean(0))
    np.testing.assert_allclose(res["chi_std"], post["chi_exp"].std(0, ddof=1) * 1.6)
    np.testing.assert_allclose(res["chi_comp_std"], post["chi_comp"].std(0, ddof=1) * 0.7)
    np.testing.assert_allclose(res["A_std"], post["A_exp"].std(0, ddof=1))           # A, B never rescaled
    np.testing.assert_allclose(res["p_soluble_std"], post["p_soluble"].std(0, ddof=1))
    data = TrainingData(pd.DataFrame({"x": range(6)}), [f"P{i}" for i in range(6)], [f"S{i}" for i in range(4)], Xp[:6], Xs,
                        {"chi_exp": TaskRows(pi, si, T, np.zeros(6), pi.astype(str), np.arange(6))}, "rdkit2d", "1", "cyclic:3")
    rows = predict_task_rows(ens, data, np.array([4, 1]), "chi_exp")
    np.testing.assert_allclose(rows["pred"], post.mean_of("chi_exp")[[4, 1]])
    np.testing.assert_allclose(rows["std"], post.std_of("chi_exp")[[4, 1]])            # raw: calibration input
