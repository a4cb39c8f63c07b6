"""COSMO-SAC parameter sets: versioning, exact re-splitting, the fit on tiny synthetic
profiles, grouped CV folds, and chi provenance. Pure numerics: no xtb, no RDKit embedding."""
from __future__ import annotations

import json

import numpy as np
import pytest

from chiscreen.errors import ArtifactError, ConfigError
from chiscreen.qc import cosmosac
from chiscreen.qc.cavity import build_cavity, multipole_potential, solve_conductor
from chiscreen.qc.chi import chi_from_terms, combinatorial_chi, flory_huggins_chi
from chiscreen.qc.cosmosac import ln_gamma_comb_inf, segment_ln_gamma
from chiscreen.qc.fit import (RECIPE, FitData, cross_validate, fit_params, grouped_folds,
                              recipe_base)
from chiscreen.qc.params import (SAC2010, CosmoSacParams, get_params, resplit, shipped_names)
from chiscreen.qc.profile import ProfileRecord, ProfileSpec
from chiscreen.qc.sigma import SigmaProfile, profile_from_segments, segment_table

WATER_Z = np.array([8, 1, 1])
WATER_X = np.array([[0.0, 0.0, 0.0], [0.9572, 0.0, 0.0], [-0.2400, 0.9266, 0.0]])
WATER_Q = np.array([-0.834, 0.417, 0.417])


def _water_segments():
    s = build_cavity(WATER_Z, WATER_X, 0.35, 8)
    solve_conductor(s, multipole_potential(s.positions, WATER_X, WATER_Q))
    return segment_table(WATER_Z, WATER_X, s), s


def _synthetic(rng: np.random.Generator, area: float, hb: float, ot: float) -> SigmaProfile:
    """A smooth profile (A^2) with an NHB hump and HB tails; split with sigma_hb 0.007."""
    grid = np.linspace(-0.025, 0.025, 51)
    p = np.zeros((3, 51))
    p[0] = np.exp(-0.5 * ((grid - rng.normal(0, 0.002)) / 0.006) ** 2)
    p[1] = hb * (np.exp(-0.5 * ((grid + 0.015) / 0.003) ** 2) + np.exp(-0.5 * ((grid - 0.016) / 0.003) ** 2))
    p[2] = ot * np.exp(-0.5 * ((grid - 0.012) / 0.003) ** 2)
    p[p < 1e-3 * p.max()] = 0.0  # compact support, like real profiles
    p *= area / p.sum()
    return SigmaProfile(p, area, 1.1 * area * rng.uniform(0.9, 1.1))


def _dataset(seed: int = 0):
    rng = np.random.default_rng(seed)
    polys = {f"P{i}": _synthetic(rng, 900.0 + 100 * i, rng.uniform(0, 0.2), rng.uniform(0, 0.2))
             for i in range(4)}
    solvs = {f"S{j}": _synthetic(rng, 80.0 + 20 * j, rng.uniform(0, 0.4), rng.uniform(0, 0.3))
             for j in range(3)}
    rows = [(p, s, t, 0.0) for p in polys for s in solvs for t in (298.15, 340.0)]
    return rows, {**polys, **solvs}


# --------------------------------------------------------------------------- versioning
def test_literature_set_is_the_2010_model():
    for t in (250.0, 298.15, 400.0):
        assert np.array_equal(SAC2010.minus_dw(t), cosmosac._minus_dw(t))
    assert SAC2010.version.startswith("sac2010@")
    assert get_params("sac2010") is SAC2010
    assert "sac2010" in shipped_names()


def test_digest_tracks_numbers_not_names(tmp_path):
    a = SAC2010.with_values(name="a", es_scale=1.2)
    b = a.with_values(name="b", provenance={"note": "x"})
    assert a.digest == b.digest and a.version != b.version
    assert a.digest != SAC2010.digest
    path = a.with_values(provenance={"cv": {"mae": 0.3}}).save(tmp_path / "a.json")
    back = CosmoSacParams.load(path)
    assert back == a and back.provenance == {"cv": {"mae": 0.3}}
    assert get_params(str(path)).version == a.version


def test_bad_parameter_sets_are_rejected(tmp_path):
    with pytest.raises(ConfigError, match="unknown COSMO-SAC parameter"):
        CosmoSacParams.from_dict({"name": "x", "es_scal": 1.0})
    with pytest.raises(ConfigError, match="> 0"):
        CosmoSacParams("x", es_scale=-1.0)
    with pytest.raises(ConfigError, match="combinatorial='fh'"):
        CosmoSacParams("x", fv_ln_ratio=0.2)
    with pytest.raises(ConfigError, match="unknown COSMO-SAC parameter set"):
        get_params("no-such-set")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ArtifactError, match="bad.json"):
        CosmoSacParams.load(bad)


def test_shipped_default_has_provenance():
    p = get_params(None)
    if p.name == "sac2010":
        pytest.skip("no fitted parameter set shipped in chiscreen/qc/paramsets")
    assert p.name == RECIPE["name"]
    assert p.profile_method == ProfileSpec().method_version
    prov = p.provenance
    assert prov["free"] == RECIPE["free"]
    assert prov["cv"]["grouping"] == "polymer" and prov["cv"]["folds"] == 5
    assert 0 < prov["cv"]["mae"] < 2 and "data_Chi.csv" in prov["data"]


# --------------------------------------------------------------------------- model pieces
def test_resplit_is_exact():
    seg, surf = _water_segments()
    a, v = surf.total_area, surf.volume
    p7 = profile_from_segments(seg, a, v)
    assert resplit(p7, 0.007) is p7
    for sh in (0.004, 0.012, 0.02):
        direct = profile_from_segments(seg, a, v, sigma_hb=sh)
        np.testing.assert_allclose(resplit(p7, sh).p, direct.p, atol=1e-12)
        np.testing.assert_allclose(resplit(direct, 0.007, stored_sigma_hb=sh).p, p7.p, atol=1e-10)
    assert p7.p[1].sum() > resplit(p7, 0.02).p[1].sum()  # wider sigma_0: less may HB


def test_combinatorial_terms():
    a_s, v_s, a_p, v_p = 120.0, 110.0, 1500.0, 1700.0
    sg = flory_huggins_chi(ln_gamma_comb_inf(a_s, v_s, a_p, v_p), v_s, v_p)
    assert combinatorial_chi(a_s, v_s, a_p, v_p, "sg") == pytest.approx(float(sg))
    # SG depends on the polymer only through A/V: a repeat-unit cavity gives the same term
    assert combinatorial_chi(a_s, v_s, a_p / 10, v_p / 10, "sg") == pytest.approx(float(sg))
    assert combinatorial_chi(a_s, v_s, a_p, v_p, "fh") == pytest.approx(0.0, abs=1e-15)
    fv = combinatorial_chi(a_s, v_s, a_p, v_p, "fh", 0.4)
    assert fv == pytest.approx(0.4 + v_s / v_p * (1 - np.exp(0.4)))
    hybrid = combinatorial_chi(a_s, v_s, a_p, v_p, "sg_fv", 0.4)
    assert hybrid == pytest.approx(float(sg) + fv)
    assert CosmoSacParams("x", combinatorial="sg_fv", fv_ln_ratio=0.4).combinatorial == "sg_fv"


def test_warm_start_gives_the_same_solution():
    rng = np.random.default_rng(3)
    pr = _synthetic(rng, 500.0, 0.2, 0.1)
    p = pr.p.ravel() / pr.area
    g = segment_ln_gamma(p, 300.0)
    mw = SAC2010.with_values(es_scale=1.3).minus_dw(300.0)
    np.testing.assert_allclose(segment_ln_gamma(p, 300.0, minus_dw=mw, y0=g),
                               segment_ln_gamma(p, 300.0, minus_dw=mw), atol=1e-9)


# --------------------------------------------------------------------------- fit
def test_fitdata_matches_direct_chi():
    rows, profs = _dataset()
    data = FitData.build(rows, profs)
    par = SAC2010.with_values(name="t", es_scale=1.3, hb_scale=0.6, sigma_hb=0.011)
    pred = data.predict(par)
    for k in (0, 7, 23):
        p, s, t, _ = rows[k]
        pp, ps = resplit(profs[p], 0.011), resplit(profs[s], 0.011)
        mw = par.minus_dw(t)
        gp = segment_ln_gamma(pp.p.ravel() / pp.area, t, minus_dw=mw)
        gs = segment_ln_gamma(ps.p.ravel() / ps.area, t, minus_dw=mw)
        ref = chi_from_terms(ps.p.ravel(), ps.area, ps.volume, gs, pp.area, pp.volume, gp)
        assert pred[k] == pytest.approx(float(ref), abs=1e-9)


@pytest.mark.slow
def test_fit_recovers_known_parameters():
    rows, profs = _dataset()
    truth = SAC2010.with_values(name="truth", combinatorial="fh", es_scale=1.4, hb_scale=0.5,
                                fv_ln_ratio=0.3)
    y = FitData.build(rows, profs).predict(truth)
    rows = [(p, s, t, yy) for (p, s, t, _), yy in zip(rows, y)]
    data = FitData.build(rows, profs)
    res = fit_params(data, ["es", "hb", "fv"], SAC2010.with_values(combinatorial="fh"), name="f",
                     max_nfev=25)
    assert res.params.es_scale == pytest.approx(1.4, rel=1e-2)
    assert res.params.hb_scale == pytest.approx(0.5, rel=5e-2)
    assert res.params.fv_ln_ratio == pytest.approx(0.3, abs=1e-2)
    assert res.train_mae < 1e-3 and res.params.name == "f"


def test_fit_rejects_bad_free_lists():
    rows, profs = _dataset()
    data = FitData.build(rows, profs)
    with pytest.raises(ConfigError, match="unknown fit parameter"):
        fit_params(data, ["es", "nope"])
    with pytest.raises(ConfigError, match="combinatorial='fh'"):
        fit_params(data, ["fv"], SAC2010)


def test_grouped_folds_partition_the_groups():
    groups = np.repeat([f"g{i}" for i in range(11)], np.arange(1, 12))
    folds = grouped_folds(groups, 5, seed=1)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(groups)))
    seen = [set(groups[f]) for f in folds]
    for i in range(5):
        for j in range(i + 1, 5):
            assert not seen[i] & seen[j]
    assert all(np.array_equal(a, b) for a, b in zip(folds, grouped_folds(groups, 5, seed=1)))
    with pytest.raises(ConfigError, match="cannot make"):
        grouped_folds(groups[:3], 5)


@pytest.mark.slow
def test_cross_validation_is_out_of_fold():
    rows, profs = _dataset()
    truth = SAC2010.with_values(name="truth", es_scale=1.2)
    y = FitData.build(rows, profs).predict(truth)
    # poison one polymer's targets: an out-of-fold fit must not be pulled by them when it
    # scores that polymer, so its rows keep the clean prediction
    poison = np.array([r[0] == "P0" for r in rows])
    y_bad = np.where(poison, y + 0.5, y)
    rows_b = [(p, s, t, yy) for (p, s, t, _), yy in zip(rows, y_bad)]
    data = FitData.build(rows_b, profs)
    groups = [r[0] for r in rows_b]
    oof, fits = cross_validate(data, groups, ["es"], SAC2010, k=3, max_nfev=12)
    assert np.all(np.isfinite(oof))
    folds = grouped_folds(groups, 3)
    for f, te in zip(fits, folds):
        assert f.n_rows == len(rows) - len(te)
    np.testing.assert_allclose(oof[poison], y[poison], atol=1e-3)


def test_recipe_base():
    b = recipe_base()
    assert b.name == RECIPE["name"]
    for k, v in RECIPE.get("base", {}).items():
        assert getattr(b, k) == v


# --------------------------------------------------------------------------- oracle provenance
def _record(kind: str, smi: str, prof: SigmaProfile, spec: ProfileSpec) -> ProfileRecord:
    return ProfileRecord(kind, smi, spec.engine, spec.method_version, [prof, prof],
                         np.zeros(2), np.full(2, 0.5), prof, {})


def test_oracle_results_carry_profile_method_and_param_set():
    from chiscreen.qc.oracle import Oracle

    rng = np.random.default_rng(5)
    spec = ProfileSpec()
    poly = _record("polymer", "*CC*", _synthetic(rng, 1200.0, 0.05, 0.05), spec)
    solv = _record("solvent", "O", _synthetic(rng, 40.0, 0.5, 0.2), spec)
    old = Oracle(spec, params="sac2010")
    new = Oracle(spec, params=SAC2010.with_values(name="x", sigma_hb=0.012, combinatorial="fh",
                                                 fv_ln_ratio=0.2, profile_method="m"))
    c_old, _ = old.chi_from_records(poly, solv, 300.0, spread=False)
    c_new, sp = new.chi_from_records(poly, solv, 300.0, spread=True)
    assert c_old != pytest.approx(c_new)
    assert sp == pytest.approx(0.0, abs=1e-12)  # identical conformers
    ref = FitData.build([("p", "s", 300.0, 0.0)], {"p": poly.profile, "s": solv.profile}
                        ).predict(new.params)[0]
    assert c_new == pytest.approx(ref, abs=1e-9)
    prov = new.provenance(poly, solv)
    assert prov["profile_method"] == spec.method_version
    assert prov["param_set"] == new.params.version and prov["param_set_fitted_on"] == "m"
    assert old.provenance()["param_set"] == SAC2010.version


# --------------------------------------------------------------------------- water split
def test_water_atoms_and_candidates():
    from chiscreen.qc.sigma import water_atoms, water_candidates

    assert water_atoms(WATER_Z, WATER_X).all()
    # methanol-like O-H (O bonded to C and H) is not water-type
    meoh_z = np.array([8, 1, 6])
    meoh_x = np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.48, 1.33, 0.0]])
    assert not water_atoms(meoh_z, meoh_x).any()
    seg, surf = _water_segments()
    ow = water_candidates(seg)
    prof = profile_from_segments(seg, surf.total_area, surf.volume)
    ph = 1.0 - np.exp(-0.5 * (np.linspace(-0.025, 0.025, 51) / 0.007) ** 2)
    safe = ph > 0
    # for water every OH candidate is water-type
    np.testing.assert_allclose(ow[safe] * ph[safe], prof.p[1, safe], atol=1e-10)


def test_water_split_defaults_are_the_three_kind_model():
    from chiscreen.qc.params import water_split_profile

    assert not SAC2010.water_split and SAC2010.n_kinds == 3
    assert "water_self_scale" not in SAC2010.numeric_dict()  # old digests unchanged
    w = SAC2010.with_values(water_self_scale=0.5)
    assert w.water_split and w.minus_dw(300.0).shape == (204, 204)
    assert w.digest != SAC2010.digest
    # OW interacting exactly like OH: the 4-kind solve gives the 3-kind chi
    seg, surf = _water_segments()
    sw = profile_from_segments(seg, surf.total_area, surf.volume)
    from chiscreen.qc.sigma import water_candidates

    s4 = water_split_profile(sw, water_candidates(seg), 0.007, 0.007)
    assert s4.p.shape == (4, 51) and s4.p.sum() == pytest.approx(sw.p.sum())
    assert s4.p[1].sum() == pytest.approx(0.0, abs=1e-12)  # all OH of water moved to OW
    rng = np.random.default_rng(2)
    poly = _synthetic(rng, 900.0, 0.1, 0.1)
    p4 = water_split_profile(poly, np.zeros(51), 0.007, 0.007)
    same = SAC2010.with_values(name="s", sigma_hb_water=0.007)  # 4 kinds, OW == OH
    assert same.water_split
    for t in (280.0, 350.0):
        mw3, mw4 = SAC2010.minus_dw(t), same.minus_dw(t)
        c3 = chi_from_terms(sw.p.ravel(), sw.area, sw.volume,
                            segment_ln_gamma(sw.p.ravel() / sw.area, t, minus_dw=mw3),
                            poly.area, poly.volume,
                            segment_ln_gamma(poly.p.ravel() / poly.area, t, minus_dw=mw3))
        c4 = chi_from_terms(s4.p.ravel(), s4.area, s4.volume,
                            segment_ln_gamma(s4.p.ravel() / s4.area, t, minus_dw=mw4),
                            p4.area, p4.volume,
                            segment_ln_gamma(p4.p.ravel() / p4.area, t, minus_dw=mw4))
        assert float(c4) == pytest.approx(float(c3), abs=1e-9)
    with pytest.raises(ConfigError, match="sigma_hb_water"):
        CosmoSacParams("x", sigma_hb_water=-1.0)


def test_water_split_oracle_matches_fit_and_lowers_water_chi():
    from chiscreen.qc.oracle import Oracle
    from chiscreen.qc.profile import water_candidates_of

    seg, surf = _water_segments()
    spec = ProfileSpec()
    wp = profile_from_segments(seg, surf.total_area, surf.volume)
    water = ProfileRecord("solvent", "O", spec.engine, spec.method_version, [wp], np.zeros(1),
                          np.ones(1), wp, {}, [seg])
    rng = np.random.default_rng(7)
    poly = _record("polymer", "*CC*", _synthetic(rng, 1200.0, 0.05, 0.05), spec)
    ow, _ = water_candidates_of(water)
    assert ow.sum() > 0 and water_candidates_of(poly)[0].sum() == 0.0  # no segments, no water O
    base = SAC2010.with_values(name="b", hb_scale=2.0)
    weak = base.with_values(name="w", water_self_scale=0.4)
    c_base, _ = Oracle(spec, params=base).chi_from_records(poly, water, 300.0, spread=False)
    c_weak, sp = Oracle(spec, params=weak).chi_from_records(poly, water, 300.0, spread=True)
    assert c_weak < c_base  # weaker water-water HB: water less repelled by the polymer
    data = FitData.build([("p", "s", 300.0, 0.0)], {"p": poly.profile, "s": water.profile},
                         water={"s": ow})
    assert data.predict(weak)[0] == pytest.approx(c_weak, abs=1e-9)
    assert data.predict(base)[0] == pytest.approx(c_base, abs=1e-9)
