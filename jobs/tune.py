"""Hyperparameter search with Ray Tune under nested, polymer-grouped cross-validation.

    nice -n 10 python jobs/tune.py --config configs/tune.yaml --out runs/tune
    python jobs/submit.py --address http://127.0.0.1:8265 -- \\
        python jobs/tune.py --config configs/tune.yaml --out /abs/path/runs/tune

What it runs (settings in configs/tune.yaml, objective in chiscreen/model/tuning.py):

1. ``final``: the search on all polymers; its choice is written to OUT/train-tuned.yaml
   (the base config's keys, n_members of the base).
2. For every outer fold k of GroupKFold(5) by polymer (the folds of ``bench/model_eval.py
   --eval polymer``): a Tune experiment ``outer{k}`` whose trials see only the outer-training
   rows (every row of the fold's polymers removed, all tasks) and score each sampled
   configuration on inner polymer-grouped folds of those polymers (ASHA stops weak trials after
   the first inner fold). Its best finished trial is fold k's choice.
3. Nested evaluation: fold k's choice trained (``eval_members``, each of ``eval_seeds``) on
   fold k's training rows and tested on its polymers -> OUT/nested/outer{k}-s{seed}.csv, and the
   pooled strict leave-polymer-out R2 / RMSE of the *tuning procedure* in OUT/summary.json.

Resumable: a finished stage leaves OUT/<stage>/best.json and is skipped; an interrupted Tune
experiment (OUT/tune/<stage>) is restored with ``Tuner.restore`` (finished trials kept,
unfinished and errored ones rerun); nested-evaluation CSVs that exist are kept. All trials of a
stage: OUT/<stage>/trials.csv. Ray is started (or joined, inside ``ray job submit``) through
chiscreen.runtime.connect_ray and shut down at the end.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

for _k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):   # trials: one thread each
    os.environ.setdefault(_k, "1")
os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")   # no TensorBoard/CSV loggers per trial
os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
os.environ.setdefault("RAY_TRAIN_V2_ENABLED", "0")
# Ray's raylet adds 15 to its workers' niceness; the job is run under ``nice -n 10`` (the house
# rule for heavy jobs), and at niceness 19 the trials starve behind the other nice-10 jobs
os.environ.setdefault("RAY_worker_niceness", "0")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# trial workers import this tree's chiscreen (connect_ray forwards PYTHONPATH to them)
_pp = os.environ.get("PYTHONPATH", "")
if str(ROOT) not in _pp.split(os.pathsep):
    os.environ["PYTHONPATH"] = str(ROOT) + (os.pathsep + _pp if _pp else "")


def _space(spec: dict):
    from ray import tune

    kind, args = next(iter(spec.items()))
    if kind == "choice":
        return tune.choice(list(args))
    if kind == "uniform":
        return tune.uniform(float(args[0]), float(args[1]))
    if kind == "loguniform":
        return tune.loguniform(float(args[0]), float(args[1]))
    return tune.randint(int(args[0]), int(args[1]))


def _trainable(params: dict, data=None, base=None, sets=None, members=2, folds=None) -> None:
    """One Tune trial: the config ``params`` scored on the stage's inner folds (reports after each)."""
    from ray import tune

    from chiscreen.model.tuning import apply_params, score_config

    cfg = apply_params(base, params, members=members, sets=sets)
    cfg.device = "cpu"
    score_config(cfg, data, folds, on_fold=lambda m: tune.report(m))


def _say_callback(stage: str, metric: str):
    """A Tune callback: one line per finished or errored trial (Tune's own table is off)."""
    from ray.tune import Callback

    class Say(Callback):
        def on_trial_complete(self, iteration, trials, trial, **info):
            r = trial.last_result or {}
            print(f"[{stage}] {trial.trial_id}: {metric} {r.get(metric, float('nan')):.3f} after "
                  f"{r.get('folds_done', 0)} inner fold(s), {r.get('seconds', 0):.0f} s  {_short(trial.config)}", flush=True)

        def on_trial_error(self, iteration, trials, trial, **info):
            print(f"[{stage}] {trial.trial_id}: ERROR (see {trial.local_path})", flush=True)

    return Say()


def _short(params: dict) -> str:
    return " ".join(f"{k.split('.')[-1]}={v:.3g}" if isinstance(v, float) else f"{k.split('.')[-1]}={v}"
                    for k, v in params.items())


def _write_json(path: Path, obj) -> None:
    from chiscreen.io import atomic_write_text

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(obj, indent=2, default=float))


def run_stage(stage: str, tcfg, base: dict, data, folds: list[set], out: Path, held_out: set | None = None) -> dict:
    """One Tune experiment (new or restored); returns and stores its best finished trial."""
    from ray import tune
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler
    from ray.tune.search import BasicVariantGenerator

    from chiscreen.model.tuning import choose_best

    done_file = out / stage / "best.json"
    if done_file.exists():
        best = json.loads(done_file.read_text())
        print(f"[{stage}] done before: {tcfg.metric} {best['metrics'][tcfg.metric]:.3f} ({done_file})", flush=True)
        return best
    storage = (out / "tune").resolve()
    exp = storage / stage
    trainable = tune.with_resources(
        tune.with_parameters(_trainable, data=data, base=base, sets=dict(tcfg.set), members=tcfg.members, folds=folds),
        {"cpu": 1})
    t0 = time.perf_counter()
    if tune.Tuner.can_restore(str(exp)):
        print(f"[{stage}] restoring the interrupted experiment {exp}", flush=True)
        tuner = tune.Tuner.restore(str(exp), trainable, resume_unfinished=True, restart_errored=True)
    else:
        sched = (ASHAScheduler(time_attr="folds_done", max_t=len(folds), grace_period=tcfg.scheduler.grace_period,
                               reduction_factor=tcfg.scheduler.reduction_factor)
                 if tcfg.scheduler.kind == "asha" and len(folds) > 1 else FIFOScheduler())
        tuner = tune.Tuner(
            trainable,
            param_space={k: _space(v) for k, v in tcfg.search.items()},
            tune_config=tune.TuneConfig(
                metric=tcfg.metric, mode=tcfg.mode, num_samples=tcfg.num_samples, scheduler=sched,
                search_alg=BasicVariantGenerator(points_to_evaluate=[dict(p) for p in tcfg.points] or None,
                                                 random_state=tcfg.search_seed),
                max_concurrent_trials=tcfg.max_concurrent_trials),
            run_config=tune.RunConfig(name=stage, storage_path=str(storage), verbose=0,
                                      callbacks=[_say_callback(stage, tcfg.metric)],
                                      failure_config=tune.FailureConfig(max_failures=1)),
        )
    grid = tuner.fit()
    rows = []
    for r in grid:
        m = r.metrics or {}
        rows.append({"trial_id": m.get("trial_id"), **{f"param:{k}": v for k, v in (r.config or {}).items()},
                     **{k: m.get(k) for k in ("r2", "rmse", "fold_r2", "min_fold_r2", "folds_done", "seconds")},
                     "error": repr(r.error)[:200] if r.error else ""})
    import pandas as pd

    df = pd.DataFrame(rows)
    (out / stage).mkdir(parents=True, exist_ok=True)
    df.to_csv(out / stage / "trials.csv", index=False)
    df["folds_done"] = df["folds_done"].fillna(0)
    b = choose_best(df, tcfg.metric, len(folds))
    params = {k[len("param:"):]: (v.item() if hasattr(v, "item") else v) for k, v in b.items() if k.startswith("param:")}
    best = {"stage": stage, "params": params,
            "metrics": {k: float(b[k]) for k in ("r2", "rmse", "min_fold_r2", "seconds")},
            "trials": int(len(df)), "trials_all_folds": int((df["folds_done"] >= len(folds)).sum()),
            "trials_errored": int((df["error"] != "").sum()), "inner_folds": len(folds),
            "inner_polymers": [sorted(f) for f in folds], "outer_test_polymers": sorted(held_out or ()),
            "wall_s": time.perf_counter() - t0}
    _write_json(done_file, best)
    print(f"[{stage}] best of {best['trials']} trials ({best['trials_all_folds']} on all {len(folds)} inner folds): "
          f"{tcfg.metric} {best['metrics'][tcfg.metric]:.3f}  {_short(params)}  ({best['wall_s']:.0f} s)", flush=True)
    return best


def _eval_fold(tcfg, base: dict, data, outer: list[set], k: int, seed: int, params: dict, ndir: Path) -> Path:
    """Nested evaluation of outer fold k, one seed set: OUT/nested/outer{k}-s{seed}.csv (kept if there)."""
    from chiscreen.model.evaluate import regression_metrics
    from chiscreen.model.tuning import apply_params, nested_predictions

    f = ndir / f"outer{k}-s{seed}.csv"
    if f.exists():
        return f
    cfg = apply_params(base, params, members=tcfg.eval_members, sets=dict(tcfg.set))
    p = nested_predictions(cfg, data, outer[k], k, seed)
    tmp = f.with_name(f".{f.name}.{os.getpid()}.tmp")
    p.to_csv(tmp, index=False)
    os.replace(tmp, f)
    m = regression_metrics(p["y"], p["pred"])
    print(f"nested outer fold {k} seed {seed}: R2 {m['r2']:.3f} RMSE {m['rmse']:.3f} (n={m['n']}, "
          f"{p['seconds'].iloc[0]:.0f} s)", flush=True)
    return f


def _eval_only(tcfg, base: dict, data, outer: list[set], ks: list[int], out: Path) -> int:
    """``--eval-only``: the nested evaluation of every outer fold whose choice is there, beside a
    running tuning job (which then finds the CSVs and skips them); waits for missing choices."""
    ndir = out / "nested"
    ndir.mkdir(parents=True, exist_ok=True)
    todo = [(seed, k) for seed in tcfg.eval_seeds for k in ks]
    while todo:
        ready = [(s, k) for s, k in todo if (out / f"outer{k}" / "best.json").exists()]
        if not ready:
            print(f"jobs/tune.py --eval-only: waiting for {out}/outer{todo[0][1]}/best.json", flush=True)
            time.sleep(30)
            continue
        seed, k = ready[0]
        params = json.loads((out / f"outer{k}" / "best.json").read_text())["params"]
        _eval_fold(tcfg, base, data, outer, k, seed, params, ndir)
        todo.remove((seed, k))
    print(f"jobs/tune.py --eval-only: every nested fold is in {ndir}", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="jobs/tune.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "configs" / "tune.yaml"))
    ap.add_argument("--out", required=True, help="output folder (rerun with the same folder to resume)")
    ap.add_argument("--address", default=None, help="Ray address (default: the job's cluster, else a local Ray)")
    ap.add_argument("--eval-only", action="store_true",
                    help="no tuning: run the nested evaluation of the outer folds whose choice is in --out "
                         "(beside a running tuning job; waits for the others)")
    a = ap.parse_args(argv)

    from chiscreen.errors import ChiscreenError

    try:
        return _run(a)
    except ChiscreenError as exc:
        print(f"jobs/tune.py: error: {exc}", file=sys.stderr)
        return 2


def _run(a) -> int:
    import pandas as pd

    from chiscreen.config import load_config, to_dict
    from chiscreen.model.config import TrainConfig
    from chiscreen.model.data import load_training_data
    from chiscreen.model.evaluate import summarize
    from chiscreen.model.tuning import (apply_params, load_tuning_config, outer_train_mask,
                                        polymer_folds, resolve_base, tuned_config_yaml)
    from chiscreen.runtime import connect_ray, shutdown_ray

    tcfg = load_tuning_config(a.config)
    base_path = resolve_base(tcfg, a.config, ROOT)
    base = to_dict(load_config(base_path, TrainConfig))
    apply_params(base, dict(tcfg.points[0]) if tcfg.points else {}, members=tcfg.members, sets=dict(tcfg.set))  # validate early
    out = Path(a.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if os.environ.get("RAY_JOB_ID") and not Path(a.out).is_absolute():
        print(f"jobs/tune.py: note: --out {a.out!r} is relative: it lands in the job's copy of the working dir", file=sys.stderr)
    (out / "tune-config.json").write_text(json.dumps(to_dict(tcfg), indent=2))

    data_cfg = apply_params(base, {}, sets=dict(tcfg.set)).data
    data = load_training_data(data_cfg, progress=False)
    outer = polymer_folds(data, tcfg.outer_splits, tcfg.outer_seed)
    ks = tcfg.outer_folds if tcfg.outer_folds is not None else list(range(tcfg.outer_splits))
    print(f"jobs/tune.py: {len(data.polymer_keys)} polymers, rows {data.counts()}; outer folds {ks} of "
          f"{tcfg.outer_splits}; {tcfg.num_samples} configurations x <= {tcfg.inner_folds} inner folds per run, "
          f"{tcfg.members} members per trial", flush=True)

    if a.eval_only:
        return _eval_only(tcfg, base, data, outer, ks, out)
    t0 = time.perf_counter()
    connect_ray(address=a.address, num_cpus=tcfg.max_concurrent_trials)
    try:
        final = None
        if tcfg.final:   # first: the shipped choice is known (and can be benchmarked) early
            inner = polymer_folds(data, tcfg.inner_splits, tcfg.inner_seed)[: tcfg.inner_folds]
            final = run_stage("final", tcfg, base, data, inner, out)
            header = (f"# Tuned training config (jobs/tune.py --config {Path(a.config).name}; Ray Tune, nested CV).\n"
                      f"# Chosen on all polymers: inner {tcfg.metric} {final['metrics'][tcfg.metric]:.3f} over "
                      f"{final['trials']} trials; params {json.dumps(final['params'])}\n"
                      f"# Reproduce:  chiscreen train --config configs/train-tuned.yaml --out DIR")
            (out / "train-tuned.yaml").write_text(tuned_config_yaml(base_path, final["params"], sets=dict(tcfg.set), header=header))
            print(f"jobs/tune.py: wrote {out / 'train-tuned.yaml'}", flush=True)
        chosen = {}
        for k in ks:
            sub = data.subset_rows(outer_train_mask(data, outer[k]))
            inner = polymer_folds(sub, tcfg.inner_splits, tcfg.inner_seed)[: tcfg.inner_folds]
            assert not any(f & outer[k] for f in inner)
            chosen[k] = run_stage(f"outer{k}", tcfg, base, sub, inner, out, held_out=outer[k])
    finally:
        shutdown_ray()

    # nested evaluation (no Ray: one training at a time in this process, nice'd with it)
    ndir = out / "nested"
    ndir.mkdir(exist_ok=True)
    summ = {"tune_config": str(a.config), "base": str(base_path), "outer_folds": ks, "stages": {}, "nested": {}}
    for k in ks:
        summ["stages"][f"outer{k}"] = {x: chosen[k][x] for x in ("params", "metrics", "trials", "trials_all_folds", "wall_s")}
    if final:
        summ["stages"]["final"] = {x: final[x] for x in ("params", "metrics", "trials", "trials_all_folds", "wall_s")}
    for seed in tcfg.eval_seeds:
        preds = []
        for k in ks:
            f = _eval_fold(tcfg, base, data, outer, k, seed, chosen[k]["params"], ndir)
            preds.append(pd.read_csv(f))
        p = pd.concat(preds, ignore_index=True)
        p.to_csv(ndir / f"nested-s{seed}-polymer.csv", index=False)
        s = summarize(p, "fold")
        summ["nested"][f"s{seed}"] = {"pooled": s["pooled"], "per_fold_r2": [x["r2"] for x in s["per_split"]],
                                      "min_fold_r2": float(min(x["r2"] for x in s["per_split"])),
                                      "pooled_cosmo_rs": s["pooled_cosmo_rs"]}
    if summ["nested"]:
        summ["nested"]["mean_r2"] = float(sum(v["pooled"]["r2"] for v in summ["nested"].values()) / len(tcfg.eval_seeds))
        summ["nested"]["mean_rmse"] = float(sum(v["pooled"]["rmse"] for k2, v in summ["nested"].items() if k2.startswith("s")) / len(tcfg.eval_seeds))
    summ["wall_s"] = time.perf_counter() - t0
    _write_json(out / "summary.json", summ)
    print(f"jobs/tune.py: wrote {out / 'summary.json'}" + (f"; nested-CV strict LPO R2 {summ['nested'].get('mean_r2', float('nan')):.3f}" if summ["nested"] else ""), flush=True)
    print(json.dumps({k: summ[k] for k in ("nested", "wall_s")}, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
