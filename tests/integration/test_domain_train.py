"""`chiscreen train` (train_and_save) writes the applicability-domain statistics and the AD std
calibration; the mixed calibration folds hold out whole polymers plus pairs of the others."""
import json

import numpy as np
import pandas as pd
import pytest

from chiscreen.model import load_ensemble
from chiscreen.model.config import CalibrationConfig, DataConfig, ModelConfig, OptimConfig, TrainConfig

POLYS = ["*CC(*)c1ccccc1", "*CC(*)(C)C(=O)OC", "*CC*", "*CC(*)OC(C)=O", "*CC(*)C#N", "*CC(*)Cl"]
SOLVS = ["Cc1ccccc1", "CC(C)=O", "CCCCCC", "O", "ClC(Cl)Cl", "CO"]


def _labels():
    rng = np.random.default_rng(0)
    return pd.DataFrame([{"polymer_smiles": p, "solvent_smiles": s, "temperature_C": t,
                          "chi": 0.2 + 0.1 * i - 0.05 * j + 30.0 / (t + 273.15) + rng.normal(0, 0.05)}
                         for i, p in enumerate(POLYS) for j, s in enumerate(SOLVS) for t in (25, 60)])


def _cfg():
    return TrainConfig(seed=0, n_members=2, threads=1, device="cpu",
                       model=ModelConfig(d=4, activation="silu", hidden_widths=[16, 16]),
                       calibration=CalibrationConfig(by="mixed", n_splits=5, use_folds=1, domain=True),
                       optim=OptimConfig(lr=1e-2, max_steps=60, eval_every=20, patience=100),
                       data=DataConfig(tasks=["chi_exp"], experimental="none", computed="none", solubility="none"))


def test_mixed_folds_hold_out_polymers_and_pairs(tmp_path, monkeypatch):
    monkeypatch.setenv("CHISCREEN_CACHE", str(tmp_path / "cache"))
    from chiscreen.model.calibration import calibration_folds
    from chiscreen.model.data import training_data_from_table

    data = training_data_from_table(_labels(), _cfg().data, progress=False)
    t = data.table
    for held in calibration_folds(data, "mixed", 5, 0):
        polys = set(t.loc[held, "polymer_key"])
        whole = {p for p in polys if held[(t["polymer_key"] == p).to_numpy()].all()}
        assert 1 <= len(whole) < len(polys)                 # some whole polymers, some single pairs of others
        pairs = t["polymer_key"] + "_" + t["solvent_key"]
        for pr in set(pairs[held]):                          # a held pair is held at every temperature
            assert held[(pairs == pr).to_numpy()].all()


@pytest.mark.slow
def test_train_and_save_writes_domain_stats_and_inflation(tmp_path, monkeypatch):
    monkeypatch.setenv("CHISCREEN_CACHE", str(tmp_path / "cache"))
    from chiscreen.model.build import train_and_save
    from chiscreen.model.predict import predict_pairs

    res = train_and_save(_cfg(), tmp_path / "model", progress=False, log=lambda m: None, labels=_labels())
    cfg = json.loads((tmp_path / "model" / "config.json").read_text())
    assert cfg["format_version"] == 3 and cfg["domain"]["n_polymers"] == len(POLYS)
    inf = cfg["domain"]["inflation"]["chi_exp"]
    assert set(inf) == {"slope", "cap", "k95"} and inf["slope"] >= 0 and inf["k95"] > 0
    assert cfg["std_scale"]["chi_exp"] == res.calibration["std_scale"]["chi_exp"]
    ens = load_ensemble(tmp_path / "model")
    df = predict_pairs(ens, [POLYS[0], "*CC(*)C(F)(F)C(F)(F)F"], [SOLVS[0], "CCCCCCCCO"], 298.15)
    assert df["ad_score"].iat[0] < 1e-3 and df["ad_score"].iat[1] > 0.1
    assert np.isfinite(df[["chi_lo95", "chi_hi95"]].to_numpy()).all()
    assert (df["chi_lo95"] < df["chi_mean"]).all() and (df["chi_hi95"] > df["chi_mean"]).all()
