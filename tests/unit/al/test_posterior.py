"""The BoTorch model over a pool is the ensemble's EnsemblePrediction: same member values, mean
and calibrated std, with latents computed once per molecule."""
import numpy as np
import pytest
import torch

from chiscreen.al.botorch_model import PoolEnsembleModel, rows_as_inputs
from chiscreen.al.pool import CandidatePool, PoolPosterior
from chiscreen.model.ensemble import ChiEnsemble


def _pool_and_ens(scale=1.7, tasks=("soluble", "chi_comp", "chi_exp", "chi_oracle")):
    rng = np.random.default_rng(0)
    ens = ChiEnsemble.random(6, 5, n_members=4, d=3, seed=1, polymer_representation="cyclic:3", tasks=list(tasks))
    ens.std_scale = {"chi_exp": 1.3, "chi_comp": 0.8, "chi_oracle": scale}
    pool = CandidatePool.from_product([f"P{i}" for i in range(7)], [f"S{j}" for j in range(5)], [280.0, 330.0])
    pool.Xp = rng.normal(size=(7, 6)).astype(np.float32)
    pool.Xs = rng.normal(size=(5, 5)).astype(np.float32)
    return pool, ens


@pytest.mark.parametrize("task", ["chi_oracle", "chi_exp"])
def test_pool_posterior_equals_ensemble_prediction(task):
    pool, ens = _pool_and_ens()
    post = pool.posterior(ens, task=task, chunk=17)             # chunks must not change anything
    ref = ens.posterior(pool.Xp[pool.pi], pool.Xs[pool.si], pool.T)   # the model's EnsemblePrediction
    tol = dict(rtol=1e-5, atol=2e-6)                            # float32 towers: summation order
    np.testing.assert_allclose(post.mean, ref.mean_of(task), **tol)
    np.testing.assert_allclose(post.std, ref.calibrated_std_of(task), **tol)
    m, s = ref.mean_of(task), ens.std_scale[task]
    np.testing.assert_allclose(post.values, m + s * (ref[task] - m), **tol)
    np.testing.assert_allclose(post.p_soluble, ref["p_soluble"], **tol)
    assert post.values.shape == (4, len(pool)) and post.scale == s


def test_model_without_oracle_head_uses_chi_exp_prior():
    pool, ens = _pool_and_ens(tasks=("soluble", "chi_comp", "chi_exp"))
    post = pool.posterior(ens, task="chi_oracle")
    ref = ens.posterior(pool.Xp[pool.pi], pool.Xs[pool.si], pool.T)
    np.testing.assert_allclose(post.mean, ref.mean_of("chi_exp"), rtol=1e-5, atol=2e-6)
    assert post.scale == ens.std_scale["chi_exp"]


def test_latents_once_per_molecule(monkeypatch):
    pool, ens = _pool_and_ens()
    calls = []
    orig = ens.encode_polymers
    monkeypatch.setattr(ens, "encode_polymers", lambda X: (calls.append(X.shape[0]), orig(X))[1])
    pool.posterior(ens, chunk=5)
    pool.posterior(ens, chunk=5)
    assert calls == [7]                                          # one pass over the 7 polymers


def test_botorch_posterior_equals_pool_posterior():
    pool, ens = _pool_and_ens()
    post = pool.posterior(ens)
    model = PoolEnsembleModel(post)
    rows = np.array([0, 5, 11, 69, 3])
    bp = model.posterior(rows_as_inputs(rows))
    np.testing.assert_allclose(bp.mean[..., 0].numpy(), post.mean[rows], rtol=1e-10)
    np.testing.assert_allclose(bp.variance.sqrt()[..., 0].numpy(), post.std[rows], rtol=1e-8)
    assert bp.values.shape == (4, 5, 1)                           # E x q x m
    # batched input: b x q x 1 -> b x E x q x 1, member values as in the pool posterior
    X = torch.stack([rows_as_inputs(rows), rows_as_inputs(rows[::-1].copy())])
    vb = model.posterior(X).values
    assert vb.shape == (2, 4, 5, 1)
    np.testing.assert_allclose(vb[1, :, :, 0].numpy(), post.values[:, rows[::-1]], rtol=1e-10)
    with pytest.raises(IndexError):
        model.posterior(rows_as_inputs(np.array([len(pool)])))


def test_from_members_rejects_bad_shape():
    from chiscreen.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        PoolPosterior.from_members(np.zeros(5))
