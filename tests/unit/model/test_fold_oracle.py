"""The strict protocol's per-fold oracle refit (chiscreen.model.fold_oracle): the fit sees only the
fold's training rows, labels are recomputed from stored profiles, fits are cached on disk, and an
evaluation with it refits once per fold (tiny, seconds)."""
import numpy as np
import pandas as pd
import pytest

from chiscreen.errors import InvalidInputError
from chiscreen.model.config import CalibrationConfig, DataConfig, ModelConfig, OptimConfig, TrainConfig
from chiscreen.model.data import TaskRows, TrainingData
from chiscreen.model.fold_oracle import EXP_SOURCE, FoldOracle, fit_key

POLY = ["*C0*", "*C1*", "*C2*", "*C9*"]      # *C9* has no stored profile
SOLV = ["S0", "S1", "S2"]


def _data(store, oracle_without_profiles: bool = False):
    """Experimental rows made by one parameter set and oracle rows labelled by the same set (the
    shipped labels: a set that 'saw' every polymer); features are random. Oracle rows exist only
    where profiles do (as in a campaign table), unless ``oracle_without_profiles``."""
    from chiscreen.model.oracle_labels import OracleRelabeler
    from chiscreen.qc.params import SAC2010

    truth = SAC2010.with_values(combinatorial="fh", es_scale=1.4, hb_scale=2.0)
    rows = [(p, s, T) for p in range(4) for s in range(3) for T in (298.15, 340.0)]
    pi, si, T = (np.array([r[i] for r in rows]) for i in range(3))
    pk, sk = [POLY[i] for i in pi], [SOLV[i] for i in si]
    chi = OracleRelabeler(store).chi(pk, sk, T, truth)
    chi[np.isnan(chi)] = 0.5                      # the polymer without a profile still has measurements
    chi_exp = chi + np.where(pi == 0, 0.3 + 0.2 * si, 0.0)  # *C0* disagrees with the oracle
    n = len(rows)
    ochi = np.where((pi == 3) & (not oracle_without_profiles), np.nan, chi)
    table = pd.DataFrame({"polymer_key": pk + pk, "solvent_key": sk + sk, "temperature_K": np.r_[T, T],
                          "chi": np.r_[chi_exp, np.full(n, np.nan)], "chi_oracle": np.r_[np.full(n, np.nan), ochi],
                          "chi_computed": np.nan, "soluble": np.nan,
                          "source": [EXP_SOURCE] * n + ["campaign"] * n, "source_row": np.r_[np.arange(n), np.arange(n)]})
    groups = np.array([f"{a}_{b}" for a, b in zip(pk, sk)])
    rng = np.random.default_rng(0)
    tasks = {"chi_exp": TaskRows(pi, si, T, chi_exp, groups, np.arange(n)),
             "chi_oracle": TaskRows(pi[np.isfinite(ochi)], si[np.isfinite(ochi)], T[np.isfinite(ochi)],
                                    ochi[np.isfinite(ochi)], groups[np.isfinite(ochi)],
                                    n + np.flatnonzero(np.isfinite(ochi)))}
    return TrainingData(table, POLY, SOLV, rng.normal(size=(4, 5)).astype(np.float32),
                        rng.normal(size=(3, 5)).astype(np.float32), tasks, "rdkit2d", "1", "cyclic:3",
                        [f"f{i}" for i in range(5)])


def test_relabel_fits_on_training_rows_only_and_caches(profile_store, tmp_path, monkeypatch):
    d = _data(profile_store)
    fo = FoldOracle(d, store=profile_store, fit_cache=tmp_path)
    assert (fo.n_pairs, fo.n_pairs_with_profiles) == (9, 9)
    keep = ~d.table["polymer_key"].isin(["*C0*"]).to_numpy()
    seen = {}
    real_fit = fo.rl.fit

    def spy(pk, sk, T, y, **kw):
        seen["polymers"] = set(pk)
        return real_fit(pk, sk, T, y, **kw)

    monkeypatch.setattr(fo.rl, "fit", spy)
    fd = fo.relabel(keep)
    # the refit saw the experimental rows of the training polymers only
    assert seen["polymers"] == {"*C1*", "*C2*", "*C9*"}
    (info,) = fo.fits.values()
    assert info["n_polymers"] == 2                # *C9*'s rows have no profile: left out of the fit
    y = fd.table["chi_oracle"].to_numpy()
    is_or = d.table["chi_oracle"].notna().to_numpy()
    assert np.isfinite(y[is_or]).all() and np.isnan(y[~is_or]).all()
    assert len(fd.tasks["chi_oracle"]) == int(is_or.sum())
    # a fit that also sees *C0*'s measurements gives other labels: the fold's fit did not see them
    y_all = fo.relabel(np.ones(len(d.table), bool)).table["chi_oracle"].to_numpy()
    assert not np.allclose(y[is_or], y_all[is_or], atol=1e-3)
    assert len(fo.fits) == 2
    # a second instance reads the cached fit (no refit) and gives the same labels
    fo2 = FoldOracle(d, store=profile_store, fit_cache=tmp_path)
    monkeypatch.setattr(fo2.rl, "fit", lambda *a, **k: pytest.fail("refit despite the cache"))
    assert np.allclose(fo2.relabel(keep).table["chi_oracle"].to_numpy(), y, equal_nan=True)
    assert len(list(tmp_path.glob("fit-*.params.json"))) == 2


def test_fit_key_depends_on_rows_not_order():
    a = fit_key(["P1", "P2"], ["S", "S"], [300.0, 310.0])
    assert a == fit_key(["P2", "P1"], ["S", "S"], [310.0, 300.0])
    assert a != fit_key(["P1"], ["S"], [300.0])


def test_store_without_profiles_is_a_clear_error(tmp_path, profile_store):
    from chiscreen.qc.store import ProfileStore

    d = _data(profile_store)
    with pytest.raises(InvalidInputError, match="holds no profile.*oracle_campaign"):
        FoldOracle(d, store=ProfileStore(tmp_path / "empty"), fit_cache=tmp_path)
    with pytest.raises(InvalidInputError, match="profiles for only 9 of the 12"):
        FoldOracle(_data(profile_store, oracle_without_profiles=True), store=profile_store, fit_cache=tmp_path)
    with pytest.raises(InvalidInputError, match="chi_oracle rows"):
        FoldOracle(d.subset_rows(d.table["chi_oracle"].isna().to_numpy()), store=profile_store)


def test_grouped_evaluation_refits_once_per_fold(profile_store, tmp_path):
    from chiscreen.model.evaluate import evaluate_grouped

    d = _data(profile_store)
    fo = FoldOracle(d, store=profile_store, fit_cache=tmp_path)
    cfg = TrainConfig(seed=0, n_members=2, threads=1, device="cpu", model=ModelConfig(d=3, hidden_widths=[8]),
                      calibration=CalibrationConfig(by="none"),
                      optim=OptimConfig(lr=1e-2, max_steps=20, eval_every=10, patience=50),
                      data=DataConfig(tasks=["chi_exp", "chi_oracle"]))
    pred = evaluate_grouped(cfg, d, by="polymer", n_splits=2, seed=0, oracle=fo, log=lambda m: None)
    assert len(fo.fits) == 2 and np.isfinite(pred["pred"]).all()
    assert sorted(pred["exp_row"]) == list(range(24))
