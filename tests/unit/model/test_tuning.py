"""The ray-free tuning objective (chiscreen.model.tuning): parameters -> config, polymer folds,
the strict protocol (no row of a held-out polymer in training), scoring a tiny config."""
import numpy as np
import pandas as pd
import pytest
import yaml

from chiscreen.config import load_config
from chiscreen.errors import ConfigError, InvalidInputError
from chiscreen.model.config import CalibrationConfig, DataConfig, ModelConfig, OptimConfig, TrainConfig
from chiscreen.model.data import TaskRows, TrainingData
import chiscreen.model.tuning as tuning


def _synthetic(n_p=12, n_s=8, F=5, seed=0):
    """A label table over n_p polymers x n_s solvents: chi_exp at two temperatures, chi_comp and
    soluble on the same pairs (so the strict protocol has auxiliary rows to remove)."""
    rng = np.random.default_rng(seed)
    Xp = rng.normal(size=(n_p, F)).astype(np.float32)
    Xs = rng.normal(size=(n_s, F)).astype(np.float32)
    recs = []
    for p in range(n_p):
        for s in range(n_s):
            a = 0.2 * float(((Xp[p, :3] - Xs[s, :3]) ** 2).sum())
            for T in (290.0, 340.0):
                recs.append((p, s, T, "chi", a + 30.0 / T))
            recs.append((p, s, 300.0, "chi_computed", a + 0.1))
            recs.append((p, s, 298.15, "soluble", float(a < 0.6)))
    df = pd.DataFrame(recs, columns=["pi", "si", "T", "kind", "y"])
    table = pd.DataFrame({"polymer_key": [f"P{i}" for i in df.pi], "solvent_key": [f"S{i}" for i in df.si],
                          "temperature_K": df["T"], "source_row": np.arange(len(df))})
    for col in ("chi", "chi_computed", "soluble"):
        table[col] = np.where(df["kind"] == col, df["y"], np.nan)
    table["source"] = np.where(df["kind"] == "chi", "mtl_chi/data_Chi.csv", "other")
    groups = (table["polymer_key"] + "_" + table["solvent_key"]).to_numpy()
    tasks = {}
    for task, col in (("chi_exp", "chi"), ("chi_comp", "chi_computed"), ("soluble", "soluble")):
        rows = np.flatnonzero(table[col].notna().to_numpy())
        tasks[task] = TaskRows(df.pi.to_numpy()[rows], df.si.to_numpy()[rows], df["T"].to_numpy()[rows],
                               table[col].to_numpy()[rows], groups[rows], rows)
    return TrainingData(table, [f"P{i}" for i in range(n_p)], [f"S{i}" for i in range(n_s)], Xp, Xs, tasks,
                        "rdkit2d", "1", "cyclic:3", [f"f{i}" for i in range(F)])


def _cfg(steps=60):
    return TrainConfig(seed=0, n_members=1, threads=1, device="cpu", calibration=CalibrationConfig(by="none"),
                       model=ModelConfig(d=3, n_hidden=1, activation="silu"),
                       optim=OptimConfig(lr=1e-2, max_steps=steps, eval_every=20, patience=3, lr_step=1000,
                                         batch_sizes={"chi_exp": 16, "chi_comp": 16, "soluble": 16}),
                       data=DataConfig(tasks=["soluble", "chi_comp", "chi_exp"]))


def test_params_map_onto_the_training_config():
    cfg = tuning.apply_params(_cfg(), {"model.d": 7, "model.n_hidden": 2, "width": 64, "optim.max_steps": 900,
                                       "loss.weights.soluble": 0.1, "optim.lr": np.float64(3e-3)}, members=2)
    assert cfg.model.d == 7 and cfg.model.hidden_widths == [64, 64] and cfg.n_members == 2
    assert cfg.optim.max_steps == 900 and cfg.optim.lr_step == 450 and cfg.optim.lr == 3e-3
    assert cfg.loss.task_weights(["soluble", "chi_comp", "chi_exp"]) == {"soluble": 0.1, "chi_comp": 0.4, "chi_exp": 0.4}
    assert tuning.apply_params(_cfg(), {"width": "linear"}).model.hidden_widths is None
    with pytest.raises(ConfigError, match="activation"):
        tuning.apply_params(_cfg(), {"model.activation": "gelu_x"})
    with pytest.raises(ConfigError, match="modle"):
        tuning.apply_params(_cfg(), {"modle.d": 3})


def test_tuning_config_rejects_bad_keys_and_spaces(tmp_path):
    ok = {"search": {"model.d": {"choice": [8, 16]}, "optim.lr": {"loguniform": [1e-4, 1e-2]},
                     "loss.weights.chi_comp": {"uniform": [0.1, 0.5]}, "width": {"choice": ["linear", 32]}},
          "points": [{"model.d": 8}], "num_samples": 3}
    t = load_config(ok, tuning.TuningConfig)
    assert t.mode == "max" and t.members == 2
    for bad, msg in ((dict(ok, colour=1), "colour"),
                     ({"search": {"model.d": {"normal": [0, 1]}}}, "search.model.d"),
                     ({"search": {"optim.lr": {"loguniform": [0, 1e-2]}}}, "low must be > 0"),
                     ({"search": {"model.depth": {"choice": [1]}}}, "model.depth"),
                     ({"search": {"model.d": {"choice": [4]}}, "points": [{"optim.lr": 1e-3}]}, "points"),
                     ({"inner_folds": 4, "inner_splits": 3}, "inner_folds"),
                     ({"metric": "auc"}, "metric")):
        with pytest.raises(ConfigError, match=msg):
            load_config(bad, tuning.TuningConfig)


def test_the_shipped_tune_config_loads():
    from chiscreen.paths import project_root

    t = tuning.load_tuning_config(project_root() / "configs" / "tune.yaml")
    base = load_config(tuning.resolve_base(t, project_root() / "configs" / "tune.yaml"), TrainConfig)
    for p in t.points:                     # the default point reproduces the base's resolved weights
        cfg = tuning.apply_params(base, p, sets=t.set)
        assert cfg.loss.task_weights(cfg.data.tasks) == base.loss.task_weights(base.data.tasks)
        assert cfg.optim.lr_step == base.optim.lr_step and cfg.model == base.model


def test_polymer_folds_partition_and_strict_mask():
    data = _synthetic()
    folds = tuning.polymer_folds(data, 3, seed=0)
    assert sum(len(f) for f in folds) == 12 and set().union(*folds) == set(data.polymer_keys)
    assert all(not (a & b) for i, a in enumerate(folds) for b in folds[i + 1:])
    keep = tuning.outer_train_mask(data, folds[0])
    sub = data.subset_rows(keep)
    assert not set(sub.table["polymer_key"]) & folds[0]
    for t, r in sub.tasks.items():          # every task lost the held-out polymers' rows
        assert not {data.polymer_keys[i] for i in r.pi} & folds[0], t
    # inner folds of the outer-training rows never contain an outer test polymer
    inner = tuning.polymer_folds(sub, 2, seed=1)
    assert set().union(*inner) == set(data.polymer_keys) - folds[0]
    rows = tuning.heldout_rows(data, folds[0])
    assert set(data.table["polymer_key"].iloc[rows]) == folds[0] and data.table["chi"].iloc[rows].notna().all()


def test_outer_folds_are_those_of_the_leave_polymer_out_evaluation():
    from chiscreen.data.splits import grouped_kfold
    from chiscreen.model.evaluate import _exp_rows

    data = _synthetic(n_p=15)
    ex = _exp_rows(data)                 # what evaluate_grouped (bench --eval polymer) splits
    exdf = data.table.loc[ex["pos"]].reset_index(drop=True)
    ref = [set(exdf["polymer_key"].iloc[te]) for _, te in grouped_kfold(exdf, by="polymer", n_splits=5, seed=0)]
    assert tuning.polymer_folds(data, 5, seed=0) == ref


def test_score_config_trains_without_the_held_out_polymers(monkeypatch):
    import chiscreen.model.train as train

    data = _synthetic()
    folds = tuning.polymer_folds(data, 3, seed=0)
    seen = []
    real = train.train_ensemble

    def spy(cfg, d, **kw):
        seen.append(set(d.table["polymer_key"]))
        return real(cfg, d, **kw)

    monkeypatch.setattr(train, "train_ensemble", spy)
    reports = []
    res = tuning.score_config(_cfg(), data, folds[:2], on_fold=reports.append)
    assert [r["folds_done"] for r in reports] == [1, 2] and res["folds_done"] == 2
    assert len(seen) == 2 and all(not (s & f) for s, f in zip(seen, folds))
    assert np.isfinite(res["r2"]) and res["rmse"] > 0 and len(res["per_fold"]) == 2
    assert res["min_fold_r2"] == min(f["r2"] for f in res["per_fold"])
    # pooled metrics are those of the concatenated held-out predictions
    assert reports[0]["r2"] == pytest.approx(res["per_fold"][0]["r2"])
    # deterministic for a config: scoring again gives the same numbers
    again = tuning.score_config(_cfg(), data, folds[:1])
    assert again["r2"] == pytest.approx(reports[0]["r2"])


def test_nested_predictions_have_the_evaluation_columns():
    data = _synthetic()
    folds = tuning.polymer_folds(data, 3, seed=0)
    p = pd.concat([tuning.nested_predictions(_cfg(), data, f, k, seed=1) for k, f in enumerate(folds)], ignore_index=True)
    # the columns evaluate_grouped writes (summarize / bench --summarize read them)
    assert {"fold", "exp_row", "group", "seconds", "y", "pred", "std", "temperature_K"} <= set(p.columns)
    assert len(p) == len(data.tasks["chi_exp"]) and set(p["fold"]) == {0, 1, 2}
    assert all(set(p.loc[p["fold"] == k, "group"]) == f for k, f in enumerate(folds))
    assert np.isfinite(p["pred"]).all() and (p["seconds"] > 0).all()
    assert sorted(p["exp_row"]) == sorted(data.table["source_row"].iloc[data.tasks["chi_exp"].row])


def test_choose_best_only_among_trials_with_every_fold():
    df = pd.DataFrame({"r2": [0.9, 0.6, 0.7, np.nan], "rmse": [0.1, 0.4, 0.3, np.nan], "folds_done": [1, 2, 2, 2]})
    assert tuning.choose_best(df, "r2", 2).name == 2
    assert tuning.choose_best(df, "rmse", 2).name == 2
    with pytest.raises(InvalidInputError, match="no trial finished"):
        tuning.choose_best(df, "r2", 3)


def test_tuned_yaml_keeps_the_base_keys(tmp_path):
    from chiscreen.paths import project_root

    base = project_root() / "configs" / "train-default.yaml"
    params = {"model.d": 24, "width": 128, "model.n_hidden": 2, "loss.weights.soluble": 0.1,
              "loss.weights.chi_comp": 0.5, "optim.max_steps": 1500}
    text = tuning.tuned_config_yaml(base, params, header="# tuned")
    got, ref = yaml.safe_load(text), yaml.safe_load(base.read_text())
    assert set(got) == set(ref) and set(got["optim"]) == set(ref["optim"]) and set(got["data"]) == set(ref["data"])
    assert set(got["model"]) == set(ref["model"]) | {"hidden_widths"} and got["model"]["hidden_widths"] == [128, 128]
    assert got["loss"] == {"weights": {"soluble": 0.1, "chi_comp": 0.5, "chi_exp": 0.4}}
    (tmp_path / "t.yaml").write_text(text)
    cfg = load_config(tmp_path / "t.yaml", TrainConfig)
    assert cfg.model.d == 24 and cfg.optim.lr_step == 750 and cfg.n_members == 10 and text.startswith("# tuned")
