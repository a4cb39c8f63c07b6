"""Benchmarks of the chi model: variants x seed sets on the official splits, leave-polymer-out
and the solubility hold-out; representation costs. Writes one JSON per run under --out.

    python bench/model_eval.py --variant default --seeds 0 1 --eval official polymer --out bench/results
    python bench/model_eval.py --variant exp_only --seeds 0 1 --eval official polymer
    python bench/model_eval.py --representation-cost --out bench/results

Variants are config overrides (dotted keys) on configs/train-default.yaml, listed in VARIANTS;
``--set key=value`` adds more (value parsed as YAML).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chiscreen.config import from_dict, load_config, to_dict  # noqa: E402
from chiscreen.model.config import TrainConfig  # noqa: E402

VARIANTS = {
    "default": {},
    "exp_only": {"data.tasks": ["chi_exp"]},
    "exp_comp": {"data.tasks": ["chi_exp", "chi_comp"]},
    "all_tasks": {"data.tasks": ["soluble", "chi_comp", "chi_exp"]},
    "cyclic10": {"data.polymer_representation": "cyclic:10"},
    "cyclic3": {"data.polymer_representation": "cyclic:3"},
    "linear3": {"data.polymer_representation": "linear:3:H"},
}


def apply_overrides(d: dict, overrides: dict) -> dict:
    for key, val in overrides.items():
        cur = d
        parts = key.split(".")
        for p in parts[:-1]:
            cur = cur.setdefault(p, {})
        cur[parts[-1]] = val
    return d


def make_config(base: Path, variant: str, sets: list[str], members: int | None) -> TrainConfig:
    d = to_dict(load_config(base, TrainConfig))
    d = apply_overrides(d, VARIANTS[variant])
    for s in sets:
        k, v = s.split("=", 1)
        d = apply_overrides(d, {k: yaml.safe_load(v)})
    if members:
        d["n_members"] = members
    return from_dict(TrainConfig, d)


def representation_cost(out: Path) -> dict:
    """Featurization seconds per polymer (fresh cache) for the reference polymers."""
    import tempfile

    import numpy as np

    from chiscreen.data import load_experimental_chi
    from chiscreen.data.polysol import load_solubility_labels
    from chiscreen.features import featurize

    polys = sorted(set(load_experimental_chi()["polymer_key"]) | set(load_solubility_labels()["polymer_key"]))
    res = {}
    for rep in ("cyclic:3", "linear:3:H", "cyclic:10"):
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            ft = featurize(polys, kind="polymer", representation=rep, cache_root=tmp, n_jobs=1, timeout_s=60, progress=False)
            wall = time.perf_counter() - t
        # per-molecule seconds are not exposed; measure inline on a sample too
        from chiscreen.features.representation import polymer_molecule
        from chiscreen.features import get_featurizer

        fz = get_featurizer("rdkit2d")
        per = []
        for p in polys:
            t = time.perf_counter()
            try:
                fz(polymer_molecule(p, rep))
            except Exception:
                pass
            per.append(time.perf_counter() - t)
        per = np.array(per)
        res[rep] = {"n_polymers": len(polys), "failed": int(sum(s != "ok" for s in ft.status)),
                    "wall_s_guarded_1job": wall, "median_s": float(np.median(per)), "p95_s": float(np.quantile(per, 0.95)),
                    "max_s": float(per.max()), "mean_s": float(per.mean())}
        print(rep, res[rep], flush=True)
    (out / "representation_cost.json").write_text(json.dumps(res, indent=2))
    return res


def summarize_dir(out: Path) -> str:
    """Markdown tables from the per-row prediction CSVs of earlier runs in ``out``."""
    import re

    import pandas as pd

    from chiscreen.model.evaluate import summarize

    rows = []
    for f in sorted(out.glob("*-official.csv")) + sorted(out.glob("*-polymer.csv")):
        m = re.match(r"(?P<name>.+)-s(?P<seed>\d+)-(?P<kind>official|polymer)\.csv$", f.name)
        if not m:
            continue
        by = "split" if m["kind"] == "official" else "fold"
        sm = summarize(pd.read_csv(f), by)
        u, uc = sm["uncertainty_raw"], sm.get("uncertainty_crossfit_scaled", {})
        key = "mean" if m["kind"] == "official" else "pooled"
        rows.append({"run": m["name"], "seed": int(m["seed"]), "eval": m["kind"],
                     "R2": sm[key]["r2"], "RMSE": sm[key]["rmse"], "MAE": sm[key]["mae"],
                     "COSMO_R2": (sm["mean_cosmo_rs"] if key == "mean" else sm["pooled_cosmo_rs"])["r2"],
                     "COSMO_RMSE": (sm["mean_cosmo_rs"] if key == "mean" else sm["pooled_cosmo_rs"])["rmse"],
                     "cov1_raw": u["coverage_1sd"], "cov2_raw": u["coverage_2sd"], "spearman": u["spearman_std_abs_err"],
                     "scale68": u["scale_68"], "cov1_xfit": uc.get("coverage_1sd"), "cov2_xfit": uc.get("coverage_2sd"),
                     "train_s": sm["train_seconds_mean"],
                     "per_split_R2": " ".join(f"{p['r2']:.3f}" for p in sm.get("per_split", [])) if key == "mean" else ""})
    df = pd.DataFrame(rows)
    if df.empty:
        return "no results"
    txt = df.round(3).to_string(index=False)
    agg = df.groupby(["run", "eval"])[["R2", "RMSE", "MAE", "COSMO_R2", "cov1_raw", "cov2_raw", "spearman", "cov1_xfit", "cov2_xfit"]].agg(["mean", "std"])
    agg.columns = [f"{a}_{b}" for a, b in agg.columns]
    return txt + "\n\n" + agg.round(3).to_string()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=str(ROOT / "configs" / "train-default.yaml"))
    ap.add_argument("--variant", default="default", choices=sorted(VARIANTS))
    ap.add_argument("--set", action="append", default=[], help="override, e.g. optim.lr=0.001")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--members", type=int, default=None)
    ap.add_argument("--eval", nargs="+", default=["official", "polymer"], choices=["official", "polymer", "solubility", "solubility_cv"])
    ap.add_argument("--lenient", action="store_true", help="keep auxiliary rows of held-out units (not strict)")
    ap.add_argument("--tag", default="")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--representation-cost", action="store_true")
    ap.add_argument("--summarize", action="store_true", help="print tables from the CSVs already in --out")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    if a.summarize:
        print(summarize_dir(out))
        return 0
    if a.representation_cost:
        representation_cost(out)
        return 0
    from chiscreen.model.data import load_training_data
    from chiscreen.model.evaluate import evaluate_grouped, evaluate_official, solubility_holdout, summarize, write_json

    for seed in a.seeds:
        cfg = make_config(Path(a.config), a.variant, a.set, a.members)
        cfg.seed = seed
        data = load_training_data(cfg.data, progress=False)
        name = f"{a.variant}{('-' + a.tag) if a.tag else ''}-s{seed}"
        res = {"variant": a.variant, "overrides": a.set, "seed": seed, "strict": not a.lenient, "config": to_dict(cfg)}
        if "official" in a.eval:
            p = evaluate_official(cfg, data, strict=not a.lenient)
            p.to_csv(out / f"{name}-official.csv", index=False)
            res["official"] = summarize(p, "split")
            print(name, "official mean", res["official"]["mean"], "cosmo", res["official"]["mean_cosmo_rs"], flush=True)
        if "polymer" in a.eval:
            p = evaluate_grouped(cfg, data, by="polymer", strict=not a.lenient, seed=0)
            p.to_csv(out / f"{name}-polymer.csv", index=False)
            res["polymer"] = summarize(p, "fold")
            print(name, "LPO pooled", res["polymer"]["pooled"], "cosmo", res["polymer"]["pooled_cosmo_rs"], flush=True)
        if "solubility" in a.eval:
            res["solubility"] = solubility_holdout(cfg, data, seed=seed)
        if "solubility_cv" in a.eval:
            from chiscreen.model.evaluate import solubility_cv

            res["solubility_cv"] = solubility_cv(cfg, data, seed=seed)
            print(name, "solubility CV", {k: v for k, v in res["solubility_cv"].items() if k != "per_fold"}, flush=True)
        write_json(res, out / f"{name}-{'-'.join(a.eval)}.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
