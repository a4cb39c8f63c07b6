"""Tasks as data: a new task is one TaskSpec plus rows carrying its label column."""
import numpy as np
import pandas as pd
import pytest
import torch

import chiscreen.model.tasks as tasks
from chiscreen.errors import ArtifactError, ConfigError
from chiscreen.model import TrainConfig, artifact_hash, load_ensemble, save_artifact
from chiscreen.model.config import CalibrationConfig, DataConfig, LossConfig, ModelConfig, OptimConfig
from chiscreen.model.data import TaskRows, TrainingData, label_table_from_frames
from chiscreen.model.predict import result_columns, result_values
from chiscreen.model.train import train_ensemble
from chiscreen.screen.scoring import BlockScorer

TOY = tasks.TaskSpec(name="toy", label="chi_toy", kind="chi", outputs=("A_toy", "B_toy"), c_output="C_toy",
                     weight=0.5, batch_size=16, head="toy", result_prefix="chi_toy", default=False)


@pytest.fixture()
def toy():
    tasks.register_task(TOY)
    yield TOY
    tasks.TASKS.unregister("toy")


def _data(n_p=10, n_s=8, F=5, seed=0):
    rng = np.random.default_rng(seed)
    Xp = rng.normal(size=(n_p, F)).astype(np.float32)
    Xs = rng.normal(size=(n_s, F)).astype(np.float32)
    rows = [(p, s, T) for p in range(n_p) for s in range(n_s) for T in (280.0, 340.0)]
    pi, si, T = (np.array(c) for c in zip(*rows))
    exp = 0.1 * ((Xp[pi, :2] - Xs[si, :2]) ** 2).sum(1) + 30.0 / T
    toy_y = 0.5 - 0.2 * ((Xp[pi, 2:4] - Xs[si, 2:4]) ** 2).sum(1) + 60.0 / T      # a different chi
    g = np.array([f"{a}_{b}" for a, b in zip(pi, si)])
    idx = np.arange(len(rows))
    table = pd.DataFrame({"polymer_key": [f"P{i}" for i in pi], "solvent_key": [f"S{i}" for i in si],
                          "temperature_K": T, "chi": exp, "chi_toy": toy_y})
    return TrainingData(table, [f"P{i}" for i in range(n_p)], [f"S{i}" for i in range(n_s)], Xp, Xs,
                        {"chi_exp": TaskRows(pi, si, T, exp, g, idx), "toy": TaskRows(pi, si, T, toy_y, g, idx)},
                        "rdkit2d", "1", "cyclic:3", [f"f{i}" for i in range(F)])


def _cfg():
    return TrainConfig(seed=0, n_members=2, device="cpu", calibration=CalibrationConfig(by="none"),
                       model=ModelConfig(d=4, hidden_widths=[24, 24]),
                       optim=OptimConfig(lr=1e-2, max_steps=300, eval_every=50, patience=100, lr_step=1000),
                       data=DataConfig(tasks=["chi_exp", "toy"]))


def test_reference_tasks_derive_the_v1_layout():
    assert tasks.default_tasks() == ["soluble", "chi_comp", "chi_exp"]
    assert tasks.output_names(tasks.V1_TASKS, False) == ["logit", "A_comp", "B_comp", "A_exp", "B_exp"]
    assert tasks.output_names(tasks.V1_TASKS, True)[-2:] == ["C_comp", "C_exp"]
    assert tasks.head_names() == ["comp", "exp", "oracle"]
    assert result_columns()[:4] == ["chi_mean", "chi_std", "A_mean", "A_std"]
    # chi_oracle is registered but off: not trained by default, not in a default model's head
    assert not tasks.get_task("chi_oracle").default and "chi_oracle" not in DataConfig().tasks
    assert tasks.model_tasks(["chi_exp"]) == list(tasks.V1_TASKS)


def test_config_validates_against_the_registry(toy):
    with pytest.raises(ConfigError, match="unknown task"):
        LossConfig(weights={"nope": 1.0})
    with pytest.raises(ConfigError, match="data.tasks"):
        DataConfig(tasks=["nope"])
    lc = LossConfig(a1=0.2, a2=0.5, weights={"toy": 0.7})
    assert lc.task_weights(["soluble", "chi_comp", "chi_exp", "toy"]) == {
        "soluble": 0.2, "chi_comp": 0.4, "chi_exp": 0.4, "toy": 0.7}
    assert LossConfig().task_weights(["toy"]) == {"toy": 0.5}               # the TaskSpec default
    assert OptimConfig().batch_size("toy") == 16 and OptimConfig().batch_size("soluble") == 64
    with pytest.raises(ConfigError, match="already belong"):
        tasks.register_task(tasks.TaskSpec(name="toy2", label="x", kind="chi", outputs=("A_toy", "B_x")))


def test_toy_task_trains_predicts_screens_and_saves(toy, tmp_path):
    data = _data()
    res = train_ensemble(_cfg(), data, log=lambda m: None)
    ens = res.ensemble
    assert ens.tasks == ["soluble", "chi_comp", "chi_exp", "toy"]
    assert ens.outputs == ["logit", "A_comp", "B_comp", "A_exp", "B_exp", "A_toy", "B_toy"]
    assert set(ens.std_scale) == {"chi_comp", "chi_exp", "toy"} and "toy" in ens.target_scaling
    r = data.tasks["toy"]
    post = ens.posterior(data.Xp[r.pi], data.Xs[r.si], r.T)
    pred = post.mean_of("toy")
    assert np.mean((pred - r.y) ** 2) < 0.3 * np.var(r.y)                    # the toy head learned its chi
    # predict columns follow the registry
    cols = result_columns(ens.tasks)
    assert "chi_toy_mean" in cols and "chi_toy_std" in cols
    np.testing.assert_allclose(result_values(post, ens.tasks)["chi_toy_mean"], pred)
    # the screen head of the toy task equals the posterior
    Up, Us = ens.encode_polymers(data.Xp), ens.encode_solvents(data.Xs)
    ens.std_scale["toy"] = 1.5
    sc = BlockScorer.for_ensemble(ens, Us, [300.0], head="toy").score(Up)
    P, S = len(data.Xp), len(data.Xs)
    pi, si = np.repeat(np.arange(P), S), np.tile(np.arange(S), P)
    pool = ens.posterior_pool(Up, Us, pi, si, 300.0)
    np.testing.assert_allclose(sc.chi[:, 0].numpy().ravel(), pool.mean_of("toy"), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(sc.chi_std[:, 0].numpy().ravel(), pool.calibrated_std_of("toy"), rtol=1e-4, atol=5e-5)  # float32 sums
    # the artifact stores the task list (format 2) and loads it back
    save_artifact(ens, tmp_path / "m")
    got = load_ensemble(tmp_path / "m", check_featurizer=False)
    assert got.tasks == ens.tasks and artifact_hash(got) == artifact_hash(ens)
    torch.testing.assert_close(got.encode_polymers(data.Xp), Up)
    tasks.TASKS.unregister("toy")
    with pytest.raises(ArtifactError, match="toy"):
        load_ensemble(tmp_path / "m", check_featurizer=False)
    tasks.register_task(TOY)


def test_label_tables_carry_the_toy_label(toy):
    df = pd.DataFrame({"polymer_smiles": ["*CC(*)c1ccccc1", "*CC*"], "solvent_smiles": ["Cc1ccccc1", "CCCCCC"],
                       "temperature_K": [300.0, 320.0], "chi_toy": [0.4, "0.9"]})
    t = label_table_from_frames(df)
    assert list(t["chi_toy"]) == [0.4, 0.9] and t["chi"].isna().all()


def test_shipped_and_example_train_configs_keep_loading():
    from pathlib import Path

    from chiscreen.config import load_config
    from chiscreen.model import default_model_dir

    root = Path(__file__).resolve().parents[3]
    paths = [default_model_dir() / "train-config.yaml", *sorted((root / "configs").glob("train-*.yaml"))]
    assert len(paths) >= 3
    for p in paths:
        cfg = load_config(p, TrainConfig)
        w = cfg.loss.task_weights(cfg.data.tasks)
        if cfg.loss.weights:  # explicit per-task weights (e.g. the tuning result) are taken as written
            assert w == {t: pytest.approx(float(cfg.loss.weights[t])) for t in cfg.data.tasks}, p
            continue
        # the old a1/a2 form keeps its formula: a1 = 0.2, a2 = 0.5 -> 0.2 / 0.4 / 0.4
        assert w == {"soluble": 0.2, "chi_comp": 0.4, "chi_exp": 0.4}, p
        assert {t: cfg.optim.batch_size(t) for t in cfg.data.tasks} == {"soluble": 64, "chi_comp": 32, "chi_exp": 32}


def test_old_config_with_unknown_loss_key_fails_clearly(tmp_path):
    from chiscreen.config import load_config

    (tmp_path / "c.yaml").write_text("loss: {a1: 0.2, a3: 0.1}\n")
    with pytest.raises(ConfigError, match="a3"):
        load_config(tmp_path / "c.yaml", TrainConfig)


def test_screen_heads_come_from_the_registry(toy):
    from chiscreen.screen.job import ScreenConfig

    assert ScreenConfig(head="toy").head == "toy"
    with pytest.raises(ConfigError, match="head"):
        ScreenConfig(head="nope")
