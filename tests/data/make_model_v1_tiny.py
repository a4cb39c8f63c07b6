"""Made once with chiscreen at b2489f9 (artifact format_version 1), before the task registry."""
import json, numpy as np, pandas as pd, torch
from chiscreen.model import TrainConfig, load_ensemble
from chiscreen.model.config import CalibrationConfig, DataConfig, ModelConfig, OptimConfig
from chiscreen.model.data import TaskRows, TrainingData
from chiscreen.model.train import train_ensemble
F = 217
rng = np.random.default_rng(0)
n_p, n_s = 8, 6
Xp = rng.normal(size=(n_p, F)).astype(np.float32); Xs = rng.normal(size=(n_s, F)).astype(np.float32)
rows=[]; k=0
for p in range(n_p):
    for s in range(n_s):
        for T in (280.0, 330.0):
            rows.append((p, s, T, 0.05*np.sum((Xp[p,:3]-Xs[s,:3])**2) + 40.0/T)); k+=1
r = np.array(rows); pi, si = r[:,0].astype(int), r[:,1].astype(int)
g = np.array([f"{a}_{b}" for a,b in zip(pi,si)])
chi = TaskRows(pi, si, r[:,2], r[:,3], g, np.arange(len(r)))
comp = TaskRows(pi, si, r[:,2], r[:,3]*0.8+0.1, g, np.arange(len(r)))
sol = TaskRows(pi[::2], si[::2], np.full(len(pi[::2]), 298.15), (r[::2,3] < np.median(r[:,3])).astype(float), g[::2], np.arange(len(r))[::2])
table = pd.DataFrame({"polymer_key":[f"P{i}" for i in pi], "solvent_key":[f"S{i}" for i in si], "temperature_K": r[:,2], "chi": r[:,3], "chi_computed": r[:,3]*0.8+0.1, "soluble": np.nan})
data = TrainingData(table, [f"P{i}" for i in range(n_p)], [f"S{i}" for i in range(n_s)], Xp, Xs, {"soluble": sol, "chi_comp": comp, "chi_exp": chi}, "rdkit2d", "1", "cyclic:3", [f"f{i}" for i in range(F)])
cfg = TrainConfig(seed=0, n_members=2, device="cpu", model=ModelConfig(d=3, activation="silu", hidden_widths=[6]), calibration=CalibrationConfig(by="none"), optim=OptimConfig(max_steps=60, eval_every=20, patience=100))
ens = train_ensemble(cfg, data, log=print).ensemble
ens.std_scale = {"chi_exp": 1.3, "chi_comp": 0.9}; ens.invalidate_hash()
ens.save("tests/data/model_v1_tiny", metrics={"note": "frozen format_version 1 artifact, made at b2489f9"})
got = load_ensemble("tests/data/model_v1_tiny")
X = np.random.default_rng(1).normal(size=(5, F)).astype(np.float32); X[0, 4] = np.nan
Xs2 = np.random.default_rng(2).normal(size=(5, F)).astype(np.float32)
T = np.array([250.0, 298.15, 320.0, 350.0, 400.0])
P = got.predict_arrays(X, Xs2, T)
np.savez("tests/data/model_v1_tiny_expected.npz", Xp=X, Xs=Xs2, T_K=T, **{k: v for k, v in P.items()})
print(got.artifact_hash, {k: v.shape for k,v in P.items()})
# shipped model: raw-descriptor predictions and a full predict_pairs on real SMILES
d = load_ensemble()
Pd = d.predict_arrays(X, Xs2, T)
from chiscreen.model.predict import predict_pairs
df = predict_pairs(d, ["*CC(*)c1ccccc1", "*CC(*)(C)C(=O)OC", "*CC*"], ["Cc1ccccc1", "CC(C)=O", "CCCCCC"], [298.15, 320.0, 350.0])
cols = ["chi_mean","chi_std","A_mean","A_std","B_mean","B_std","chi_comp_mean","chi_comp_std","p_soluble","p_soluble_std","chi_c","verdict"]
json.dump({"artifact_hash": d.artifact_hash, "pairs": df[["polymer_smiles","solvent_smiles","temperature_K"]+cols].to_dict(orient="list")}, open("tests/data/default_model_expected.json","w"), indent=1)
np.savez("tests/data/default_model_expected_arrays.npz", **{k: v for k, v in Pd.items()})
print(d.artifact_hash); print(df[cols])
