"""Artifacts written before the model-layer refactor keep loading and predicting the same numbers."""
import json
from pathlib import Path

import numpy as np

from chiscreen.model import load_ensemble

DATA = Path(__file__).resolve().parents[2] / "data"


def test_frozen_v1_artifact_predicts_the_same_numbers():
    ens = load_ensemble(DATA / "model_v1_tiny")
    exp = np.load(DATA / "model_v1_tiny_expected.npz")
    got = ens.predict_arrays(exp["Xp"], exp["Xs"], exp["T_K"])
    for k in ("logit", "A_comp", "B_comp", "A_exp", "B_exp", "chi_exp", "chi_comp", "p_soluble"):
        np.testing.assert_allclose(got[k], exp[k], rtol=1e-6, atol=1e-7, err_msg=k)
    assert ens.std_scale == {"chi_exp": 1.3, "chi_comp": 0.9}


def test_shipped_model_predicts_the_recorded_numbers():
    from chiscreen.model.predict import predict_pairs

    ref = json.loads((DATA / "default_model_expected.json").read_text())
    ens = load_ensemble()
    cfg = json.loads((Path(ens.source) / "config.json").read_text())
    assert cfg["artifact_hash"] == ref["artifact_hash"], (
        "the shipped model was retrained: regenerate tests/data/default_model_expected*.json/npz")
    arrs = np.load(DATA / "default_model_expected_arrays.npz")
    # descriptors of the shipped model's widths are stored with its outputs (make_default_model_expected.py)
    got = ens.predict_arrays(arrs["Xp"], arrs["Xs"], arrs["T_K"])
    for k in set(arrs.files) - {"Xp", "Xs", "T_K"}:
        np.testing.assert_allclose(got[k], arrs[k], rtol=1e-6, atol=1e-7, err_msg=k)
    p = ref["pairs"]
    df = predict_pairs(ens, p["polymer_smiles"], p["solvent_smiles"], p["temperature_K"])
    for c, v in p.items():
        if c in ("polymer_smiles", "solvent_smiles", "verdict"):
            assert list(df[c]) == v, c
        else:
            np.testing.assert_allclose(df[c].to_numpy(dtype=float), np.asarray(v, dtype=float), rtol=1e-6, err_msg=c)
