import numpy as np
import pytest
import torch

from chiscreen.errors import ScreenError
from chiscreen.model import ChiEnsemble
from chiscreen.screen.scoring import BlockScorer, collapse_head, score_direct


def _latents(ens, n_p=37, n_s=23, seed=0):
    rng = np.random.default_rng(seed)
    Xp = rng.standard_normal((n_p, ens.n_features_polymer), dtype=np.float32)
    Xs = rng.standard_normal((n_s, ens.n_features_solvent), dtype=np.float32)
    return ens.encode_polymers(Xp), ens.encode_solvents(Xs), Xp, Xs


@pytest.mark.parametrize("head", ["exp", "comp"])
def test_gemm_form_matches_direct_pair_head(ens, head):
    Up, Us, _, _ = _latents(ens)
    W, b = ens.head_params()
    T = [250.0, 298.15, 400.0]
    sc = BlockScorer(W, b, ens.outputs, Us, T, head=head, chunk=8, std_scale=1.7)
    got, ref = sc.score(Up), score_direct(W, b, ens.outputs, Up, Us, T, head=head, std_scale=1.7)
    for k in ("chi", "chi_std", "p_soluble", "p_soluble_std"):
        assert torch.allclose(getattr(got, k), getattr(ref, k), atol=2e-5, rtol=1e-4), k
    assert got.chi.shape == (37, 3, 23)


def test_scores_match_ensemble_predict_arrays(ens):
    Up, Us, Xp, Xs = _latents(ens, 5, 4)
    W, b = ens.head_params()
    r = BlockScorer(W, b, ens.outputs, Us, [320.0]).score(Up)
    pa = ens.predict_arrays(Xp[[3]], Xs[[2]], np.array([320.0]))
    assert r.chi[3, 0, 2].item() == pytest.approx(pa["chi_exp"].mean(), abs=1e-5)
    assert r.chi_std[3, 0, 2].item() == pytest.approx(pa["chi_exp"].std(ddof=1), abs=1e-5)
    assert r.p_soluble[3, 2].item() == pytest.approx(pa["p_soluble"].mean(), abs=1e-5)


def test_lazy_p_soluble_matches_full(ens):
    Up, Us, _, _ = _latents(ens)
    W, b = ens.head_params()
    full = BlockScorer(W, b, ens.outputs, Us, [300.0]).score(Up)
    lazy_sc = BlockScorer(W, b, ens.outputs, Us, [300.0], p_all=False)
    lazy = lazy_sc.score(Up)
    assert lazy.p_soluble is None
    assert torch.allclose(lazy.chi, full.chi, atol=1e-6)
    pi, si = torch.tensor([0, 5, 36, 5]), torch.tensor([22, 0, 3, 7])
    for numpy_gather in (True, False):  # False: the torch index_select path used on GPUs
        lazy_sc.numpy_gather = numpy_gather
        m, s = lazy_sc.pair_p(Up, pi, si)
        assert torch.allclose(m, full.p_soluble[pi, si], atol=1e-6)
        assert torch.allclose(s, full.p_soluble_std[pi, si], atol=1e-6)


def test_c_term_collapses_into_chi():
    ens = ChiEnsemble.random(8, 8, n_members=3, d=4, seed=2, use_c_term=True)
    assert ens.outputs[-2:] == ["C_comp", "C_exp"]
    W, b = ens.head_params()
    Wc, bc = collapse_head(W, b, ens.outputs, [300.0], "exp")
    o = ens.outputs
    want = W[:, o.index("A_exp")] + W[:, o.index("B_exp")] / 300 + W[:, o.index("C_exp")] / 300 ** 2
    assert torch.allclose(Wc[:, 1], want, atol=1e-6)
    assert torch.allclose(Wc[:, 0], W[:, o.index("logit")])


def test_bad_inputs_raise(ens):
    Up, Us, _, _ = _latents(ens)
    W, b = ens.head_params()
    with pytest.raises(ScreenError, match="temperatures"):
        BlockScorer(W, b, ens.outputs, Us, [])
    with pytest.raises(ScreenError, match="head"):
        BlockScorer(W, b, ens.outputs, Us, [300.0], head="cosmo")
    with pytest.raises(ScreenError, match="shape"):
        BlockScorer(W, b, ens.outputs, Us[:2], [300.0])
