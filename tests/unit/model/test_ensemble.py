import numpy as np
import torch

from chiscreen.model import ChiEnsemble, artifact_hash
from chiscreen.model.network import pair_feature, tower_widths


def test_tower_widths_shrink_linearly():
    assert tower_widths(200, 34, 3) == [200, 167, 134, 101, 68]


def test_contract_shapes_and_head_formula():
    ens = ChiEnsemble.random(12, 9, n_members=4, d=5, seed=1)
    Xp = np.random.default_rng(0).normal(size=(6, 12)).astype(np.float32)
    Xs = np.random.default_rng(1).normal(size=(3, 9)).astype(np.float32)
    Up, Us = ens.encode_polymers(Xp), ens.encode_solvents(Xs)
    assert Up.shape == (4, 6, 10) and Us.shape == (4, 3, 10) and Up.dtype == torch.float32
    assert not Up.requires_grad
    W, b = ens.head_params()
    assert W.shape == (4, 5, 5) and b.shape == (4, 5)
    assert ens.outputs == ["logit", "A_comp", "B_comp", "A_exp", "B_exp"]
    # aligned pair path equals the documented formula
    p, s = 2, 1
    z = pair_feature(Up[:, p], Us[:, s], ens.d)                 # (E, d)
    manual = torch.einsum("ed,ekd->ek", z, W) + b
    Y = ens.pair_outputs(Up[:, [p]], Us[:, [s]])[:, 0]
    torch.testing.assert_close(Y, manual)
    out = ens.predict_arrays(Xp[[p]], Xs[[s]], np.array([320.0]))
    k = ens.outputs
    np.testing.assert_allclose(out["chi_exp"][:, 0], (manual[:, k.index("A_exp")] + manual[:, k.index("B_exp")] / 320.0).numpy(), rtol=1e-5)


def test_random_is_deterministic_and_members_differ():
    a = ChiEnsemble.random(8, 8, n_members=3, d=4, seed=7)
    b = ChiEnsemble.random(8, 8, n_members=3, d=4, seed=7)
    assert artifact_hash(a) == artifact_hash(b)
    W, _ = a.head_params()
    assert not torch.allclose(W[0], W[1])
    assert artifact_hash(ChiEnsemble.random(8, 8, n_members=3, d=4, seed=8)) != artifact_hash(a)


def test_c_term_outputs():
    ens = ChiEnsemble.random(8, 8, n_members=2, d=4, use_c_term=True)
    assert ens.outputs[-2:] == ["C_comp", "C_exp"] and ens.head_params()[0].shape[1] == 7
