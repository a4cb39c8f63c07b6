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
