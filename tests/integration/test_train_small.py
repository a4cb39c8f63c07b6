"""Tiny overfit runs (seconds): synthetic descriptors with a known chi structure, and the real
featurize -> train -> save -> load -> predict path on a few molecules."""
import numpy as np
import pandas as pd
import pytest
import torch

from chiscreen.model import TrainConfig, artifact_hash, load_ensemble, save_artifact
from chiscreen.model.config import CalibrationConfig, DataConfig, ModelConfig, OptimConfig
from chiscreen.model.data import TaskRows, TrainingData
from chiscreen.model.train import train_ensemble


def _synthetic(seed=0, n_p=12, n_s=10, F=6):
    rng = np.random.default_rng(seed)
    Xp = rng.normal(size=(n_p, F)).astype(np.float32)
    Xs = rng.normal(size=(n_s, F)).astype(np.float32)
    Xp[0, 2] = np.nan                                   # NaN must be imputed
    rows, k = [], 0
    for p in range(n_p):
        for s in range(n_s):
            for T in (280.0, 330.0):
                a = 0.1 * np.nansum((Xp[p, :3] - Xs[s, :3]) ** 2)
                rows.append((p, s, T, a + 40.0 / T, k))
                k += 1
    r = np.array(rows)
    pi, si = r[:, 0].astype(int), r[:, 1].astype(int)
    groups = np.array([f"{a}_{b}" for a, b in zip(pi, si)])
    chi = TaskRows(pi, si, r[:, 2], r[:, 3], groups, np.arange(len(r)))
    sol = TaskRows(pi[::2], si[::2], np.full(len(pi[::2]), 298.15), (r[::2, 3] < np.median(r[:, 3])).astype(float),
                   groups[::2], np.arange(len(r))[::2])
    table = pd.DataFrame({"polymer_key": [f"P{i}" for i in pi], "solvent_key": [f"S{i}" for i in si],
                          "temperature_K": r[:, 2], "chi": r[:, 3], "chi_computed": np.nan, "soluble": np.nan})
    return TrainingData(table, [f"P{i}" for i in range(n_p)], [f"S{i}" for i in range(n_s)], Xp, Xs,
                        {"chi_exp": chi, "soluble": sol}, "rdkit2d", "1", "cyclic:3", [f"f{i}" for i in range(F)])


def _cfg(seed=0, steps=400):
    return TrainConfig(seed=seed, n_members=3, threads=1, device="cpu",
                       model=ModelConfig(d=4, activation="silu", hidden_widths=[32, 32, 32]), calibration=CalibrationConfig(by="none"),
                       optim=OptimConfig(lr=1e-2, max_steps=steps, eval_every=50, patience=100, lr_step=1000,
                                         batch_sizes={"chi_exp": 32, "soluble": 32}),
                       data=DataConfig(tasks=["chi_exp", "soluble"]))


def test_overfits_and_is_deterministic(tmp_path):
    data = _synthetic()
    res = train_ensemble(_cfg(), data, log=lambda m: None)
    ens = res.ensemble
    r = data.tasks["chi_exp"]
    P = ens.predict_arrays(data.Xp[r.pi], data.Xs[r.si], r.T)["chi_exp"].mean(0)
    base = np.mean((r.y - r.y.mean()) ** 2)
    assert np.mean((P - r.y) ** 2) < 0.2 * base           # learned most of the variance
    assert res.history[-1]["val_loss"] < res.history[0]["val_loss"]
    again = train_ensemble(_cfg(), data, log=lambda m: None).ensemble
    assert artifact_hash(again) == artifact_hash(ens)
    other = train_ensemble(_cfg(seed=1), data, log=lambda m: None).ensemble
    assert artifact_hash(other) != artifact_hash(ens)
    save_artifact(ens, tmp_path / "m")
    got = load_ensemble(tmp_path / "m", check_featurizer=False)
    torch.testing.assert_close(got.encode_polymers(data.Xp), ens.encode_polymers(data.Xp))
    assert artifact_hash(got) == artifact_hash(ens)


def test_head_params_give_physical_chi():
    data = _synthetic()
    ens = train_ensemble(_cfg(steps=100), data, log=lambda m: None).ensemble
    r = data.tasks["chi_exp"]
    Up = ens.encode_polymers(data.Xp)[:, r.pi[:5]]
    Us = ens.encode_solvents(data.Xs)[:, r.si[:5]]
    W, b = ens.head_params()
    d = ens.d
    z = (Up[..., :d] - Us[..., :d]) ** 2 - Up[..., d:] ** 2 - Us[..., d:] ** 2
    Y = torch.einsum("end,ekd->enk", z, W) + b[:, None, :]
    k = ens.outputs
    chi = (Y[..., k.index("A_exp")] + Y[..., k.index("B_exp")] / torch.tensor(r.T[:5], dtype=torch.float32)).numpy()
    ref = ens.predict_arrays(data.Xp[r.pi[:5]], data.Xs[r.si[:5]], r.T[:5])["chi_exp"]
    np.testing.assert_allclose(chi, ref, rtol=1e-4, atol=1e-5)


def test_featurize_train_save_predict(tmp_path, monkeypatch):
    """The real path on a handful of molecules (guarded featurization into a temporary cache)."""
    monkeypatch.setenv("CHISCREEN_CACHE", str(tmp_path / "cache"))
    from chiscreen.model.predict import predict_pairs
    from chiscreen.model.build import train_and_save

    polys = ["*CC(*)c1ccccc1", "*CC(*)(C)C(=O)OC", "*CC*", "*CC(*)OC(C)=O", "*CC(*)C#N"]
    solvs = ["Cc1ccccc1", "CC(C)=O", "CCCCCC", "O", "ClC(Cl)Cl", "CO"]
    rng = np.random.default_rng(0)
    rows = [{"polymer_smiles": p, "solvent_smiles": s, "temperature_C": t, "chi": rng.normal(0.6, 0.3),
             "soluble": int(rng.random() < 0.5)} for p in polys for s in solvs for t in (25, 60)]
    pd.DataFrame(rows).to_csv(tmp_path / "labels.csv", index=False)
    cfg = _cfg(steps=100)
    cfg.data = DataConfig(tasks=["chi_exp", "soluble"], experimental="none", computed="none", solubility="none",
                          extra_tables=[str(tmp_path / "labels.csv")])
    cfg.n_members = 2
    res = train_and_save(cfg, tmp_path / "model", progress=False, log=lambda m: None)
    ens = load_ensemble(tmp_path / "model")
    assert artifact_hash(ens) == artifact_hash(res.ensemble) and ens.n_members == 2
    df = predict_pairs(ens, ["*CC(*)c1ccccc1", "not a smiles", "*CC(*)c1ccccc1"], ["CC(C)=O", "CCO", "CCO"], [298.15, 298.15, 100.0])
    assert list(df["status"]) == ["ok", "invalid", "invalid"]
    assert np.isfinite(df.loc[0, "chi_mean"]) and df.loc[0, "chi_c"] == 0.5
    assert "outside" in df.loc[2, "reason"]


def test_training_fails_fast_on_bad_row(tmp_path):
    from chiscreen.errors import InvalidInputError
    from chiscreen.model.data import build_label_table

    pd.DataFrame({"polymer_smiles": ["*CC(*)c1ccccc1", "*CC"], "solvent_smiles": ["C", "C"],
                  "temperature_K": [300, 300], "chi": [0.3, 0.4]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(InvalidInputError, match="row 1"):
        build_label_table(DataConfig(tasks=["chi_exp"], experimental="none", computed="none", solubility="none",
                                     extra_tables=[str(tmp_path / "bad.csv")]))


def _labels(polys, solvs, oracle=False):
    rows = []
    for i, p in enumerate(polys):
        for j, s in enumerate(solvs):
            for t in (25, 60):
                chi = 0.2 + 0.15 * i - 0.08 * j + 30.0 / (t + 273.15)
                row = {"polymer_smiles": p, "solvent_smiles": s, "temperature_C": t, "chi": chi}
                if oracle:
                    row["chi_oracle"] = 0.8 * chi + 0.1
                rows.append(row)
    return pd.DataFrame(rows)


def test_retrain_warm_start_in_memory_labels_kept_scalers(tmp_path, monkeypatch, caplog):
    """Warm start from a saved artifact on in-memory labels with the scalers kept starts lower
    than a cold start; a new task (chi_oracle, two new head outputs) is added on the way."""
    import logging

    monkeypatch.setenv("CHISCREEN_CACHE", str(tmp_path / "cache"))
    from chiscreen.model.build import train_and_save

    polys = ["*CC(*)c1ccccc1", "*CC(*)(C)C(=O)OC", "*CC*", "*CC(*)OC(C)=O", "*CC(*)C#N"]
    solvs = ["Cc1ccccc1", "CC(C)=O", "CCCCCC", "O", "ClC(Cl)Cl", "CO"]
    cfg = _cfg(steps=300)
    cfg.n_members = 2
    cfg.data = DataConfig(tasks=["chi_exp"], experimental="none", computed="none", solubility="none")
    first = train_and_save(cfg, tmp_path / "v1", progress=False, log=lambda m: None, labels=_labels(polys[:4], solvs))
    old = load_ensemble(tmp_path / "v1")
    assert old.tasks == ["soluble", "chi_comp", "chi_exp"]

    new = _labels(polys, solvs, oracle=True)          # one more polymer and a new task
    cfg2 = _cfg(steps=100)
    cfg2.n_members = 2
    cfg2.data = DataConfig(tasks=["chi_exp", "chi_oracle"], experimental="none", computed="none", solubility="none")
    cold = train_ensemble(cfg2, labels=new, progress=False, log=lambda m: None)
    with caplog.at_level(logging.INFO, logger="chiscreen.model"):
        warm = train_ensemble(cfg2, labels=new, init=old, scalers="keep", progress=False, log=lambda m: None)
    assert "new head outputs ['A_oracle', 'B_oracle'] initialised at zero" in caplog.text
    assert warm.ensemble.outputs == ["logit", "A_comp", "B_comp", "A_exp", "B_exp", "A_oracle", "B_oracle"]
    w0, c0 = float(np.mean(warm.initial_val_loss)), float(np.mean(cold.initial_val_loss))
    we, ce = warm.initial_task_loss["chi_exp"], cold.initial_task_loss["chi_exp"]
    print(f"initial validation loss: warm {w0:.4f}, cold {c0:.4f}; chi_exp task: warm {we:.4f}, cold {ce:.4f}; "
          f"chi_oracle (new head): warm {warm.initial_task_loss['chi_oracle']:.4f}, cold {cold.initial_task_loss['chi_oracle']:.4f}")
    assert w0 < c0 and we < 0.5 * ce
    for a, b in ((warm.ensemble.scaler_polymer, old.scaler_polymer), (warm.ensemble.scaler_solvent, old.scaler_solvent)):
        for k, v in a.to_arrays("x").items():
            np.testing.assert_array_equal(v, b.to_arrays("x")[k])
    assert warm.ensemble.target_scaling["chi_exp"] == old.target_scaling["chi_exp"]
    assert artifact_hash(first.ensemble) == artifact_hash(old)


def test_warm_start_copies_shared_weights():
    from chiscreen.model.network import StackedChiNet
    from chiscreen.model.tasks import output_names
    from chiscreen.model.train import warm_start

    data = _synthetic()
    old = train_ensemble(_cfg(steps=50), data, log=lambda m: None).ensemble
    outs = output_names(["soluble", "chi_comp", "chi_exp", "chi_oracle"], False)
    net = StackedChiNet(3, old.scaler_polymer.n_out, old.scaler_solvent.n_out, 4, len(outs), hidden_widths=[32, 32, 32])
    net.reset([5, 6, 7])
    info = warm_start(net, old, outs, same_scalers=True)
    assert info["new_outputs"] == ["A_oracle", "B_oracle"]
    for a, b in zip(net.tower_p.layers, old.net.tower_p.layers):
        torch.testing.assert_close(a.weight, b.weight)
    k = [outs.index(o) for o in old.outputs]
    torch.testing.assert_close(net.head.weight[:, :, k], old.net.head.weight)
    assert (net.head.weight[:, :, -2:] == 0).all() and (net.head.bias[:, :, -2:] == 0).all()


def test_warm_start_with_refitted_scalers_and_other_shapes():
    from chiscreen.errors import InvalidInputError

    data = _synthetic()
    old = train_ensemble(_cfg(steps=50), data, log=lambda m: None).ensemble
    res = train_ensemble(_cfg(steps=50), data, log=lambda m: None, init=old, scalers="refit")   # same kept columns
    assert res.ensemble.scaler_polymer is not old.scaler_polymer
    cfg = _cfg(steps=50)
    cfg.model = ModelConfig(d=4, activation="silu", hidden_widths=[16, 16, 16])
    with pytest.raises(InvalidInputError, match="tower widths"):
        train_ensemble(cfg, data, log=lambda m: None, init=old)
    with pytest.raises(InvalidInputError, match="init model"):
        train_ensemble(_cfg(steps=50), data, log=lambda m: None, scalers="keep")
