"""jobs/tune.py end to end on a tiny problem: Ray Tune trials (2 per tuning run, 1-member
ensembles, 40 steps) under nested polymer-grouped CV, the written config, the nested estimate,
and a rerun that restores the Tune experiment instead of starting it again.

The label table is synthetic (real SMILES, made-up labels) so the test needs no shared data
and featurizes a dozen molecules into a temporary cache.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

pytest.importorskip("ray.tune")

from chiscreen.config import load_config  # noqa: E402
from chiscreen.model.config import TrainConfig  # noqa: E402
from chiscreen.paths import project_root  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]

POLYS = ["*CC(*)c1ccccc1", "*CC(*)(C)C(=O)OC", "*CC*", "*CC(*)OC(C)=O", "*CC(*)C#N", "*CC(*)Cl",
         "*CC(*)C", "*CC(*)O"]
SOLVS = ["Cc1ccccc1", "CC(C)=O", "CCCCCC", "ClC(Cl)Cl"]


def _setup(tmp: Path) -> Path:
    rng = np.random.default_rng(0)
    rows = [{"polymer_smiles": p, "solvent_smiles": s, "temperature_K": T, "chi": 0.3 + 0.1 * i - 0.05 * j + 20 / T
             + rng.normal(0, 0.02), "soluble": int((i + j) % 2)}
            for i, p in enumerate(POLYS) for j, s in enumerate(SOLVS) for T in (300.0, 340.0)]
    pd.DataFrame(rows).to_csv(tmp / "labels.csv", index=False)
    train = {"seed": 0, "n_members": 3, "threads": 1, "device": "cpu", "calibration": {"by": "none"},
             "model": {"d": 3, "n_hidden": 1, "activation": "silu"},
             "optim": {"lr": 0.01, "max_steps": 40, "eval_every": 20, "patience": 2},
             "data": {"tasks": ["soluble", "chi_exp"], "experimental": "none", "computed": "none", "solubility": "none",
                      "extra_tables": [str(tmp / "labels.csv")], "featurizer": "rdkit2d_periodic",
                      "polymer_representation": "periodic"}}
    (tmp / "train.yaml").write_text(yaml.safe_dump(train))
    tune = {"base": str(tmp / "train.yaml"), "members": 1, "num_samples": 2, "max_concurrent_trials": 1,
            "points": [{"model.d": 3, "optim.lr": 0.01}],
            "search": {"model.d": {"choice": [2, 3, 4]}, "optim.lr": {"loguniform": [0.001, 0.02]}},
            "outer_splits": 4, "outer_folds": [0], "inner_splits": 2, "inner_folds": 2,
            "final": True, "eval_members": 1, "eval_seeds": [0]}
    (tmp / "tune.yaml").write_text(yaml.safe_dump(tune))
    return tmp / "tune.yaml"


def _run(cfg: Path, out: Path, tmp: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "CHISCREEN_CACHE": str(tmp / "cache"), "PYTHONPATH": str(project_root())}
    return subprocess.run([sys.executable, str(project_root() / "jobs" / "tune.py"), "--config", str(cfg), "--out", str(out)],
                          capture_output=True, text=True, env=env, timeout=900)


def test_tiny_nested_tune_run_and_restore(tmp_path, shared_data):  # the outer evaluation reads the reference rows
    cfg = _setup(tmp_path)
    out = tmp_path / "out"
    r = _run(cfg, out, tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    for stage in ("outer0", "final"):
        best = json.loads((out / stage / "best.json").read_text())
        trials = pd.read_csv(out / stage / "trials.csv")
        assert best["trials"] == 2 == len(trials) and best["trials_errored"] == 0
        assert best["trials_all_folds"] >= 1 and np.isfinite(best["metrics"]["r2"])
        assert set(best["params"]) == {"model.d", "optim.lr"}
    # the default point runs first, and the inner folds never hold an outer test polymer
    o0 = json.loads((out / "outer0" / "best.json").read_text())
    held = set(o0["outer_test_polymers"])
    assert held and not held & set().union(*map(set, o0["inner_polymers"]))
    assert len(set().union(*map(set, o0["inner_polymers"]))) == len(POLYS) - len(held)
    first = pd.read_csv(out / "outer0" / "trials.csv").sort_values("trial_id").iloc[0]
    assert first["param:model.d"] == 3 and first["param:optim.lr"] == 0.01
    # the chosen configuration: the base's keys, loadable, n_members of the base
    tuned = load_config(out / "train-tuned.yaml", TrainConfig)
    fin = json.loads((out / "final" / "best.json").read_text())
    assert tuned.model.d == fin["params"]["model.d"] and tuned.n_members == 3
    assert set(yaml.safe_load((out / "train-tuned.yaml").read_text())) == set(yaml.safe_load((tmp_path / "train.yaml").read_text()))
    summ = json.loads((out / "summary.json").read_text())
    nested = pd.read_csv(out / "nested" / "outer0-s0.csv")
    assert set(nested["group"]) == held and np.isfinite(summ["nested"]["s0"]["pooled"]["rmse"])
    assert json.loads(r.stdout.strip().splitlines()[-1])["nested"]["s0"]["pooled"]["n"] == len(nested)

    # resume: a stage's marker removed -> Tune restores that experiment (no new trials); the
    # finished final stage is skipped
    ids = sorted(pd.read_csv(out / "outer0" / "trials.csv")["trial_id"])
    (out / "outer0" / "best.json").unlink()
    r2 = _run(cfg, out, tmp_path)
    assert r2.returncode == 0, r2.stderr[-3000:]
    assert r2.stdout.count("restoring the interrupted experiment") == 1 and "[final] done before" in r2.stdout
    assert sorted(pd.read_csv(out / "outer0" / "trials.csv")["trial_id"]) == ids
    assert json.loads((out / "outer0" / "best.json").read_text())["params"] == o0["params"]
    assert "nested outer fold" not in r2.stdout          # its predictions were kept


def test_bad_tune_config_exits_2(tmp_path):
    (tmp_path / "t.yaml").write_text("num_samples: 2\nsearch: {model.d: {normal: [1, 2]}}\n")
    r = _run(tmp_path / "t.yaml", tmp_path / "out", tmp_path)
    assert r.returncode == 2 and "search.model.d" in r.stderr and "Traceback" not in r.stderr
