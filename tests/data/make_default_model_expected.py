"""Record the shipped model's predictions (run from the project root after retraining it on purpose).

    python tests/data/make_default_model_expected.py

Writes default_model_expected.json (artifact hash + predict_pairs on three real pairs) and
default_model_expected_arrays.npz (predict_arrays on stored random descriptors of the model's own
widths, kept in the file as Xp / Xs / T_K), which tests/unit/model/test_frozen_artifacts.py checks.
"""
import json
from pathlib import Path

import numpy as np

from chiscreen.model import load_ensemble
from chiscreen.model.predict import predict_pairs

d = load_ensemble()
cfg = json.loads((Path(d.source) / "config.json").read_text())
npf, nsf = cfg["n_features_polymer"], cfg["n_features_solvent"]
X = np.random.default_rng(1).normal(size=(5, npf)).astype(np.float32)
X[0, 4] = np.nan
Xs = np.random.default_rng(2).normal(size=(5, nsf)).astype(np.float32)
T = np.array([250.0, 298.15, 320.0, 350.0, 400.0])
P = d.predict_arrays(X, Xs, T)
df = predict_pairs(d, ["*CC(*)c1ccccc1", "*CC(*)(C)C(=O)OC", "*CC*"], ["Cc1ccccc1", "CC(C)=O", "CCCCCC"],
                   [298.15, 320.0, 350.0])
cols = ["chi_mean", "chi_std", "A_mean", "A_std", "B_mean", "B_std", "chi_comp_mean", "chi_comp_std", "p_soluble",
        "p_soluble_std", "chi_c", "verdict"]
with open("tests/data/default_model_expected.json", "w") as f:
    json.dump({"artifact_hash": d.artifact_hash,
               "pairs": df[["polymer_smiles", "solvent_smiles", "temperature_K"] + cols].to_dict(orient="list")}, f, indent=1)
np.savez("tests/data/default_model_expected_arrays.npz", Xp=X, Xs=Xs, T_K=T, **{k: v for k, v in P.items()})
print(d.artifact_hash)
print(df[cols])
