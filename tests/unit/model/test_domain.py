"""Applicability domain: the distance, its normalisation, the std inflation and its fit, storage."""
import json
import logging
from pathlib import Path

import numpy as np
import pytest
import torch

from chiscreen.errors import ArtifactError
from chiscreen.model import ChiEnsemble, artifact_hash, load_ensemble, save_artifact
from chiscreen.model.domain import (DomainStats, binned_coverage, build_domain, combine, fit_inflation, loo_scale,
                                    nn_distance)
from chiscreen.model.posterior import EnsemblePrediction

DATA = Path(__file__).resolve().parents[2] / "data"


def test_nn_distance_is_the_member_mean_of_nearest_neighbour_distances():
    R = torch.tensor([[[0.0, 0.0], [3.0, 0.0]], [[0.0, 0.0], [0.0, 10.0]]])     # E=2, M=2, 2 dims
    U = torch.tensor([[[1.0, 0.0]], [[0.0, 4.0]]])                                # E=2, N=1
    # member 0: nearest is (0,0) at 1; member 1: nearest is (0,0) at 4 -> mean 2.5
    np.testing.assert_allclose(nn_distance(U, R), [2.5])
    # leave-one-out on the reference itself: member 0 distances 3, 3; member 1: 10, 10
    np.testing.assert_allclose(nn_distance(R, R, exclude_self=True), [6.5, 6.5])
    np.testing.assert_allclose(nn_distance(R, R), [0.0, 0.0])
    assert loo_scale(R) == pytest.approx(6.5)
    assert loo_scale(R[:, :1]) == 1.0                                              # one molecule: no unit


def test_scores_are_zero_on_training_molecules_about_one_in_domain_and_large_far_out():
    rng = np.random.default_rng(0)
    ens = ChiEnsemble.random(8, 6, n_members=3, d=4, seed=0)
    Xp, Xs = rng.normal(size=(200, 8)).astype(np.float32), rng.normal(size=(50, 6)).astype(np.float32)
    dom = build_domain(ens, Xp[:150], Xs)
    assert len(dom.Xp_ref) == 150
    train = dom.polymer_scores(ens, ens.encode_polymers(Xp[:150]))
    assert np.max(train) < 1e-3
    new = dom.polymer_scores(ens, ens.encode_polymers(Xp[150:]))            # same distribution, unseen
    assert 0.5 < np.median(new) < 2.0
    far = dom.polymer_scores(ens, ens.encode_polymers(Xp[150:] * 6))
    assert np.median(far) > 3 * np.median(new)
    np.testing.assert_allclose(combine([0.2, np.nan, 3.0], [1.0, 0.1, 0.5]), [1.0, np.nan, 3.0])


def test_factor_and_posterior_apply_the_inflation_and_interval():
    dom = DomainStats(np.zeros((2, 3)), np.zeros((2, 3)), 1.0, 1.0,
                      {"chi_exp": {"slope": 0.5, "cap": 2.0, "k95": 2.5}})
    np.testing.assert_allclose(dom.factor("chi_exp", [0.0, 1.0, 10.0, np.nan]), [1.0, 1.5, 2.0, 1.0])
    np.testing.assert_allclose(dom.factor("chi_comp", [3.0]), [1.0])           # not calibrated: 1
    rng = np.random.default_rng(1)
    v = rng.normal(size=(4, 3, 2))
    names = ("chi_exp", "p_soluble")
    post = EnsemblePrediction.from_members(names, v, {"chi_exp": 1.2}, domain=dom,
                                           ad_polymer=[0.0, 1.0, 5.0], ad_solvent=[0.0, 0.2, 0.0])
    raw = v.std(0, ddof=1)
    np.testing.assert_allclose(post.ad, [0.0, 1.0, 5.0])
    np.testing.assert_allclose(post.calibrated_std_of("chi_exp"), raw[:, 0] * 1.2 * np.array([1.0, 1.5, 2.0]))
    np.testing.assert_allclose(post.calibrated_std_of("p_soluble"), raw[:, 1])    # probabilities untouched
    lo, hi = post.interval_of("chi_exp")
    np.testing.assert_allclose(hi - lo, 2 * 2.5 * post.calibrated_std_of("chi_exp"))
    plain = EnsemblePrediction.from_members(names, v, {"chi_exp": 1.2})
    assert np.isnan(plain.ad).all() and np.isnan(plain.interval_of("chi_exp")[0]).all()
    np.testing.assert_allclose(plain.calibrated_std_of("chi_exp"), raw[:, 0] * 1.2)


def test_fit_inflation_recovers_a_growing_error_and_a_heavy_tail():
    rng = np.random.default_rng(0)
    n = 4000
    ad = rng.uniform(0, 3, n)
    std = rng.uniform(0.05, 0.15, n)
    y = std * 1.5 * (1 + 1.0 * ad) * rng.normal(size=n)                     # true factor 1.5 (1 + ad)
    fit = fit_inflation(y, np.zeros(n), std, ad)
    assert 0.7 < fit["slope"] < 1.4
    z = np.abs(y) / (std * fit["std_scale"] * (1 + fit["slope"] * np.minimum(ad, fit["cap"])))
    for b in binned_coverage(ad, z, 5):
        assert abs(b["coverage"] - 0.683) < 0.05
    assert 1.8 < fit["k95"] < 2.15                                             # Gaussian: ~1.96
    flat = fit_inflation(std * rng.normal(size=n), np.zeros(n), std, ad)      # error does not grow with ad
    assert flat["slope"] < 0.15
    heavy = fit_inflation(std * rng.standard_t(3, size=n), np.zeros(n), std, ad)
    assert heavy["k95"] > 2.3                                                  # heavy tails: wider than 1.96 std
    few = fit_inflation(y[:10], np.zeros(10), std[:10], ad[:10])
    assert few["slope"] == 0.0 and np.isnan(few["k95"])


def test_fit_inflation_split_and_unseen_fit_the_held_out_polymers_rows():
    rng = np.random.default_rng(2)
    n_seen, n_new = 3000, 3000
    ad = np.concatenate([np.zeros(n_seen), rng.uniform(0.3, 2.0, n_new)])      # seen pairs sit at ad 0
    unseen = np.arange(n_seen + n_new) >= n_seen
    std = rng.uniform(0.05, 0.15, n_seen + n_new)
    true = np.where(unseen, 2.0 * (1 + 0.5 * ad), 1.2)                          # unseen polymers: much larger errors
    y = std * true * rng.normal(size=len(std))
    for method in ("split", "unseen"):
        fit = fit_inflation(y, np.zeros(len(y)), std, ad, unseen=unseen, method=method)
        assert fit["method"] == method and fit["n_unseen"] == n_new
        cal = std * fit["std_scale"] * (1 + fit["slope"] * np.minimum(ad, fit["cap"]))
        z = np.abs(y) / cal
        assert abs((z[unseen] <= 1).mean() - 0.683) < 0.02                     # the unseen rows are what it fits
        assert abs((z[unseen] <= fit["k95"]).mean() - 0.95) < 0.01
    split = fit_inflation(y, np.zeros(len(y)), std, ad, unseen=unseen, method="split")
    assert split["std_scale"] == pytest.approx(1.2, rel=0.06)                  # the seen pairs' factor at ad 0
    pooled = fit_inflation(y, np.zeros(len(y)), std, ad, unseen=unseen, method="pooled")
    zp = np.abs(y) / (std * pooled["std_scale"] * (1 + pooled["slope"] * np.minimum(ad, pooled["cap"])))
    assert pooled["method"] == "pooled" and np.isfinite(zp).all()
    # no seen rows: split falls back to the unseen fit; too few unseen rows: to the pooled fit
    assert fit_inflation(y[unseen], np.zeros(n_new), std[unseen], ad[unseen], unseen=unseen[unseen],
                         method="split")["method"] == "unseen"
    few = unseen & (np.arange(len(y)) < n_seen + 10)
    assert fit_inflation(y, np.zeros(len(y)), std, ad, unseen=few, method="split")["method"] == "pooled"
    with pytest.raises(ValueError, match="calibration fit"):
        fit_inflation(y, np.zeros(len(y)), std, ad, method="median")


def test_domain_reference_sets_measured_chi_and_all():
    from types import SimpleNamespace

    from chiscreen.model.data import TaskRows
    from chiscreen.model.domain import domain_for_training

    rng = np.random.default_rng(3)
    ens = ChiEnsemble.random(8, 6, n_members=2, d=4, seed=0)
    Xp, Xs = rng.normal(size=(10, 8)).astype(np.float32), rng.normal(size=(6, 6)).astype(np.float32)

    def rows(pi, si):
        pi, si = np.asarray(pi), np.asarray(si)
        return TaskRows(pi, si, np.full(len(pi), 300.0), np.zeros(len(pi)), np.zeros(len(pi)), np.arange(len(pi)))

    data = SimpleNamespace(Xp=Xp, Xs=Xs, tasks={
        "chi_exp": rows([0, 1], [0, 1]), "chi_comp": rows([2], [2]),
        "chi_oracle": rows([0, 3, 4, 5], [3, 4, 0, 1]), "soluble": rows([6, 7], [5, 5])})
    assert len(domain_for_training(ens, data, "measured").Xp_ref) == 3           # polymers 0, 1, 2
    assert len(domain_for_training(ens, data).Xp_ref) == 3                         # the default
    assert len(domain_for_training(ens, data, "chi").Xp_ref) == 6                  # + the oracle-only 3, 4, 5
    assert len(domain_for_training(ens, data, "all").Xp_ref) == 8
    assert len(domain_for_training(ens, data, "measured").Xs_ref) == 3
    oracle_only = SimpleNamespace(Xp=Xp, Xs=Xs, tasks={"chi_oracle": rows([3, 4], [0, 1])})
    assert len(domain_for_training(ens, oracle_only, "measured").Xp_ref) == 2     # falls back to every chi task
    with pytest.raises(ValueError, match="domain reference"):
        domain_for_training(ens, data, "nearest")


def test_calibration_config_keys_are_typed():
    from chiscreen.config import from_dict
    from chiscreen.errors import ConfigError
    from chiscreen.model.config import CalibrationConfig

    c = from_dict(CalibrationConfig, {"by": "mixed", "fit": "split", "reference": "measured"})
    assert (c.fit, c.reference) == ("split", "measured")
    old = from_dict(CalibrationConfig, {"by": "mixed", "domain": True})             # a config from before the keys
    assert (old.fit, old.reference) == ("pooled", "measured")
    for bad in ({"fit": "median"}, {"reference": "oracle"}, {"fit_method": "split"}):
        with pytest.raises(ConfigError):
            from_dict(CalibrationConfig, bad)


def _with_domain(seed=0):
    rng = np.random.default_rng(seed)
    ens = ChiEnsemble.random(8, 6, n_members=3, d=4, seed=seed)
    Xp, Xs = rng.normal(size=(30, 8)).astype(np.float32), rng.normal(size=(20, 6)).astype(np.float32)
    ens.domain = build_domain(ens, Xp, Xs, inflation={"chi_exp": {"slope": 0.4, "cap": 3.0, "k95": 2.6}})
    return ens, Xp, Xs


def test_artifact_stores_domain_stats_and_hashes_them(tmp_path):
    ens, Xp, Xs = _with_domain()
    save_artifact(ens, tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["format_version"] == 3 and "domain.npz" in cfg["files"]
    got = load_ensemble(tmp_path / "m", check_featurizer=False)
    assert artifact_hash(got) == artifact_hash(ens)
    a = ens.posterior(Xp[:5] * 3, Xs[:5], np.full(5, 300.0))
    b = got.posterior(Xp[:5] * 3, Xs[:5], np.full(5, 300.0))
    np.testing.assert_allclose(b.ad, a.ad, rtol=1e-6)
    np.testing.assert_allclose(b.calibrated_std, a.calibrated_std, rtol=1e-6)
    assert np.all(a.ad > 0.5)
    # an edited inflation changes predictions: the hash catches it
    cfg["domain"]["inflation"]["chi_exp"]["slope"] = 0.0
    (tmp_path / "m" / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ArtifactError, match="does not match its contents"):
        load_ensemble(tmp_path / "m", check_featurizer=False)


def test_corrupt_or_missing_domain_file_is_an_artifact_error(tmp_path):
    ens, _, _ = _with_domain()
    save_artifact(ens, tmp_path / "m")
    (tmp_path / "m" / "domain.npz").write_bytes(b"junk")
    with pytest.raises(ArtifactError, match="domain.npz: corrupt"):
        load_ensemble(tmp_path / "m", check_featurizer=False)
    (tmp_path / "m" / "domain.npz").unlink()
    with pytest.raises(ArtifactError, match="domain.npz: missing"):
        load_ensemble(tmp_path / "m", check_featurizer=False)


def test_v2_artifact_without_domain_loads_and_predicts_nan_scores(tmp_path, caplog):
    ens = ChiEnsemble.random(8, 6, n_members=3, d=4, seed=0)
    h = artifact_hash(ens)
    save_artifact(ens, tmp_path / "m")
    cfg = json.loads((tmp_path / "m" / "config.json").read_text())
    assert cfg["format_version"] == 2 and "domain" not in cfg and not (tmp_path / "m" / "domain.npz").exists()
    with caplog.at_level(logging.INFO, logger="chiscreen.model"):
        got = load_ensemble(tmp_path / "m", check_featurizer=False)
    assert got.domain is None and artifact_hash(got) == h
    assert "no applicability-domain statistics" in caplog.text
    X = np.random.default_rng(0).normal(size=(4, 8)).astype(np.float32)
    post = got.posterior(X, X[:, :6], np.full(4, 300.0))
    assert np.isnan(post.ad).all()
    np.testing.assert_allclose(post.calibrated_std_of("chi_exp"), post.std_of("chi_exp") * got.std_scale["chi_exp"])


def test_frozen_v1_artifact_predict_table_carries_nan_domain_columns():
    from chiscreen.model.predict import predict_pairs

    ens = load_ensemble(DATA / "model_v1_tiny")
    assert ens.domain is None
    df = predict_pairs(ens, ["*CC(*)c1ccccc1"], ["Cc1ccccc1"], 298.15)
    assert df["status"].iat[0] == "ok"
    for c in ("ad_score", "ad_polymer", "ad_solvent", "chi_lo95", "chi_hi95"):
        assert c in df.columns and np.isnan(df[c].iat[0]), c
    assert np.isfinite(df["chi_std"].iat[0])


def test_predict_output_carries_the_score_and_the_inflated_std():
    from chiscreen.features import featurize
    from chiscreen.model.predict import predict_pairs

    ens = load_ensemble(DATA / "model_v1_tiny")
    plain = predict_pairs(ens, ["*CC(*)c1ccccc1", "*CC(*)C(F)(F)F"], ["Cc1ccccc1", "O"], 298.15)
    ref_p, ref_s = ["*CC(*)c1ccccc1", "*CC(*)C"], ["Cc1ccccc1", "CCO", "CC(C)=O"]
    Xp = featurize(ref_p, kind="polymer", featurizer=ens.featurizer, representation=ens.polymer_representation,
                   progress=False).X
    Xs = featurize(ref_s, kind="solvent", featurizer=ens.featurizer, progress=False).X
    ens.domain = build_domain(ens, Xp, Xs, inflation={"chi_exp": {"slope": 0.5, "cap": 4.0, "k95": 2.4}})
    df = predict_pairs(ens, ["*CC(*)c1ccccc1", "*CC(*)C(F)(F)F"], ["Cc1ccccc1", "O"], 298.15)
    assert df["ad_score"].iat[0] == pytest.approx(0.0, abs=1e-3)              # both molecules in the reference
    assert df["ad_score"].iat[1] > 0.1
    f = 1 + 0.5 * np.minimum(df["ad_score"].to_numpy(), 4.0)
    np.testing.assert_allclose(df["chi_std"], plain["chi_std"] * f, rtol=1e-5)
    np.testing.assert_allclose(df["chi_hi95"] - df["chi_mean"], 2.4 * df["chi_std"], rtol=1e-5)
    np.testing.assert_allclose(df["chi_mean"], plain["chi_mean"])
