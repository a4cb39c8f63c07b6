"""The chi_oracle data path and the physics variants of issue 12 (tiny, seconds): relabelling a
task per fold, oracle chi from a (synthetic) profile store, pair inputs in training and
prediction."""
import numpy as np
import pandas as pd
import pytest
import torch

from chiscreen.errors import InvalidInputError
from chiscreen.model.config import CalibrationConfig, DataConfig, ModelConfig, OptimConfig, TrainConfig
from chiscreen.model.data import TaskRows, TrainingData, label_table_from_frames
from chiscreen.model.oracle_labels import OracleRelabeler, linear_calibration, predict_task_rows_x
from chiscreen.model.train import train_ensemble


def _data(n_p=8, n_s=6, F=5, seed=0):
    rng = np.random.default_rng(seed)
    Xp = rng.normal(size=(n_p, F)).astype(np.float32)
    Xs = rng.normal(size=(n_s, F)).astype(np.float32)
    rows = [(p, s, T) for p in range(n_p) for s in range(n_s) for T in (290.0, 340.0)]
    pi = np.array([r[0] for r in rows])
    si = np.array([r[1] for r in rows])
    T = np.array([r[2] for r in rows])
    chi = 0.1 * ((Xp[pi, :2] - Xs[si, :2]) ** 2).sum(1) + 30.0 / T
    n = len(rows)
    table = pd.DataFrame({"polymer_key": [f"P{i}" for i in np.r_[pi, pi]],
                          "solvent_key": [f"S{i}" for i in np.r_[si, si]],
                          "temperature_K": np.r_[T, T], "chi": np.r_[chi, np.full(n, np.nan)],
                          "chi_oracle": np.r_[np.full(n, np.nan), 0.5 * chi + 0.2],
                          "chi_computed": np.nan, "soluble": np.nan})
    groups = np.array([f"P{a}_S{b}" for a, b in zip(pi, si)])
    tasks = {"chi_exp": TaskRows(pi, si, T, chi, groups, np.arange(n)),
             "chi_oracle": TaskRows(pi, si, T, 0.5 * chi + 0.2, groups, np.arange(n, 2 * n))}
    return TrainingData(table, [f"P{i}" for i in range(n_p)], [f"S{i}" for i in range(n_s)], Xp, Xs, tasks,
                        "rdkit2d", "1", "cyclic:3", [f"f{i}" for i in range(F)])


def _cfg(tasks=("chi_exp", "chi_oracle"), steps=60):
    return TrainConfig(seed=0, n_members=2, threads=1, device="cpu",
                       model=ModelConfig(d=3, hidden_widths=[16]), calibration=CalibrationConfig(by="none"),
                       optim=OptimConfig(lr=1e-2, max_steps=steps, eval_every=20, patience=50),
                       data=DataConfig(tasks=list(tasks)))


def test_with_task_values_relabels_and_drops_missing():
    d = _data()
    n = len(d.table)
    vals = np.where(d.table["chi_oracle"].notna(), 7.0, np.nan)
    vals[np.flatnonzero(np.isfinite(vals))[:5]] = np.nan          # five rows lose their label
    d2 = d.with_task_values("chi_oracle", vals)
    r = d2.tasks["chi_oracle"]
    assert len(r) == len(d.tasks["chi_oracle"]) - 5 and np.all(r.y == 7.0)
    assert np.array_equal(d2.table["chi_oracle"].to_numpy()[r.row], r.y)
    # the other tasks and the molecules are untouched; the data hash follows the labels
    assert np.array_equal(d2.tasks["chi_exp"].y, d.tasks["chi_exp"].y) and d2.Xp is d.Xp
    assert d2.hash() != d.hash()
    assert np.array_equal(np.array(d2.polymer_keys)[r.pi], d2.table["polymer_key"].to_numpy()[r.row])
    with pytest.raises(InvalidInputError, match="values for"):
        d.with_task_values("chi_oracle", np.zeros(n - 1))


def test_pair_inputs_subset_and_validation():
    d = _data()
    x = np.arange(2 * len(d.table), dtype=np.float32).reshape(-1, 2)
    d2 = d.with_pair_inputs(x, ["a", "b"])
    keep = np.zeros(len(d.table), bool)
    keep[::3] = True
    sub = d2.subset_rows(keep)
    assert np.array_equal(sub.pair_x, x[keep]) and sub.pair_x_names == ["a", "b"]
    with pytest.raises(InvalidInputError, match="finite"):
        d.with_pair_inputs(np.full((len(d.table), 1), np.nan))
    with pytest.raises(InvalidInputError, match="shape"):
        d.with_pair_inputs(np.zeros((3, 1)))


def test_training_with_pair_inputs_uses_them_and_default_models_have_none():
    d = _data()
    res0 = train_ensemble(_cfg(), d, progress=False, log=lambda m: None)
    assert not any(k.startswith("pair.") for k in res0.ensemble.net.state_dict())
    # an input equal to the target's main term: the pair layer must learn a non-zero weight
    y = np.where(np.isfinite(d.table["chi"]), d.table["chi"], 0.0)
    x = np.stack([y, np.zeros_like(y)], 1).astype(np.float32)
    dx = d.with_pair_inputs(x, ["chi_oracle_z", "missing"])
    res = train_ensemble(_cfg(), dx, progress=False, log=lambda m: None)
    W = res.ensemble.net.pair.weight.detach()
    assert W.shape == (2, 2, len(res.ensemble.outputs)) and float(W.abs().sum()) > 0
    rows = d.tasks["chi_exp"].row[:10]
    p = predict_task_rows_x(res.ensemble, dx, rows, "chi_exp")
    p_other = predict_task_rows_x(res.ensemble, dx.with_pair_inputs(x * 0, ["chi_oracle_z", "missing"]), rows)
    assert np.isfinite(p["pred"]).all() and not np.allclose(p["pred"], p_other["pred"])
    # for a descriptor-only model the helper equals the ensemble's own posterior
    from chiscreen.model.calibration import predict_task_rows

    a, b = predict_task_rows_x(res0.ensemble, d, rows), predict_task_rows(res0.ensemble, d, rows)
    assert np.allclose(a["pred"], b["pred"], atol=1e-5) and np.allclose(a["std"], b["std"], atol=1e-5)
    with pytest.raises(ValueError, match="pair input"):
        res.ensemble.net.raw_head(torch.zeros(2, 1, 6), torch.zeros(2, 1, 6))


def test_label_table_carries_chi_oracle_rows():
    t = label_table_from_frames(pd.DataFrame({"polymer_smiles": ["*CC(*)c1ccccc1"] * 2, "solvent_smiles": ["CCO", "O"],
                                              "temperature_K": [298.15, 323.15], "chi_oracle": [0.8, 2.5],
                                              "chi_oracle_spread": [0.0, 0.0], "source": "campaign", "source_row": [4, 9]}))
    assert list(t["chi_oracle"]) == [0.8, 2.5] and t["chi"].isna().all() and list(t["source_row"]) == [4, 9]


def test_relabeler_chi_from_store_and_refit(profile_store):
    from chiscreen.qc.params import SAC2010

    rl = OracleRelabeler(profile_store)
    pk = ["*C0*", "*C1*", "*C2*", "*C9*"] * 2
    sk = ["S0", "S1", "S2", "S0"] * 2
    T = [298.15] * 4 + [340.0] * 4
    raw = rl.chi(pk, sk, T)
    assert np.isnan(raw[3]) and np.isnan(raw[7]) and np.isfinite(raw[[0, 1, 2, 4, 5, 6]]).all()
    assert rl.available(pk, sk).tolist() == [True, True, True, False] * 2
    # targets made by another parameter set: the refit moves towards them
    target = SAC2010.with_values(combinatorial="fh", es_scale=1.4, hb_scale=2.0)
    y = rl.chi(pk, sk, T, target)
    fit = rl.fit(pk, sk, T, np.nan_to_num(y))
    assert fit.n_rows == 6 and fit.n_polymers == 3
    base_mae = np.nanmean(np.abs(rl.chi(pk, sk, T, SAC2010.with_values(combinatorial="fh")) - y))
    assert fit.train_mae < base_mae


def test_relabeler_applies_the_water_split_of_the_parameter_set(profile_store):
    """Parameter sets with a water split (xtbfit-2) need each molecule's water-type hydroxyl
    candidates: the water self-HB scale must change chi with water and nothing else."""
    from chiscreen.qc.params import SAC2010

    rl = OracleRelabeler(profile_store)
    pk, sk, T = ["*C1*", "*C2*", "*C1*"], ["O", "O", "S2"], [298.15, 298.15, 298.15]
    a = rl.chi(pk, sk, T, SAC2010.with_values(combinatorial="fh", water_self_scale=1.0))
    b = rl.chi(pk, sk, T, SAC2010.with_values(combinatorial="fh", water_self_scale=0.5))
    assert np.isfinite(a).all() and np.all(np.abs(a[:2] - b[:2]) > 1e-3) and a[2] == pytest.approx(b[2], abs=1e-12)
    assert np.any(rl.water("solvent", "O") > 0) and not np.any(rl.water("solvent", "S2"))


def test_linear_calibration():
    x = np.array([0.0, 1.0, 2.0, np.nan])
    assert linear_calibration(x, 1.0 + 2.0 * np.nan_to_num(x)) == pytest.approx((1.0, 2.0))
    assert linear_calibration(np.ones(3), np.array([1.0, 2.0, 3.0])) == (2.0, 0.0)
