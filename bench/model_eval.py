"""Benchmarks of the chi model: variants x seed sets on the official splits, leave-polymer-out
and the solubility hold-out; representation costs. Writes one JSON per run under --out.

    python bench/model_eval.py --variant default --seeds 0 1 --eval official polymer --out bench/results
    python bench/model_eval.py --variant exp_only --seeds 0 1 --eval official polymer
    python bench/model_eval.py --representation-cost --out bench/results

Variants are config overrides (dotted keys) on configs/train-default.yaml, listed in VARIANTS;
``--set key=value`` adds more (value parsed as YAML).

Oracle data and physics variants (issue 12; docs/model.md "Oracle data and physics variants"):

    python bench/model_eval.py --variant oracle --oracle-table chiscreen/assets/oracle_labels/chi_oracle.parquet \
        --members 5 --seeds 0 1 --eval polymer --set calibration.by=none --tag oracle5
    python bench/model_eval.py ... --physics input      # (a) oracle chi of the pair as a head input
    python bench/model_eval.py ... --physics delta      # (b) learn chi_exp - calibrated oracle chi
    python bench/model_eval.py --variant oracle_backbone ...   # (c) backbone descriptors
    python bench/model_eval.py ... --oracle-lenient     # oracle rows of held-out polymers kept
    python bench/model_eval.py --eval oracle_baseline   # raw and fitted oracle on the LPO rows
    python bench/model_eval.py --config configs/train-oracle.yaml --members 5 --seeds 0 1 --eval polymer \
        --set calibration.by=none --oracle-store /work/cache/qc-store --tag v2   # a config with chi_oracle: strict too

With an oracle table or a physics variant every held-out evaluation (polymer, official,
solubility_cv) follows the strict protocol of issue 12: every row of a held-out polymer (pair,
for the official splits) leaves training, and the oracle's parameter set (the free parameters of
chiscreen.qc.fit.RECIPE, xtbfit-2's since session 4) is refitted on the experimental chi of the training
rows only, after which every chi_oracle label (and every oracle input) is recomputed from the
stored profiles (--oracle-store). The shipped parameter set, fitted on all 46 polymers, is never
used for a held-out figure. The last printed line is one JSON object with the figures.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chiscreen.config import from_dict, load_config, to_dict  # noqa: E402
from chiscreen.model.config import TrainConfig  # noqa: E402
from chiscreen.schema import POLYMER_KEY, SOLVENT_KEY, TEMPERATURE_K  # noqa: E402

VARIANTS = {
    "default": {},
    "exp_only": {"data.tasks": ["chi_exp"]},
    "exp_comp": {"data.tasks": ["chi_exp", "chi_comp"]},
    "all_tasks": {"data.tasks": ["soluble", "chi_comp", "chi_exp"]},
    "cyclic10": {"data.polymer_representation": "cyclic:10"},
    "cyclic3": {"data.polymer_representation": "cyclic:3"},
    "linear3": {"data.polymer_representation": "linear:3:H"},
    # issue 12: oracle data (needs --oracle-table) and backbone descriptors
    "oracle": {"data.tasks": ["soluble", "chi_comp", "chi_exp", "chi_oracle"]},
    "backbone": {"data.featurizer": "rdkit2d_periodic_bb"},
    "oracle_backbone": {"data.tasks": ["soluble", "chi_comp", "chi_exp", "chi_oracle"],
                        "data.featurizer": "rdkit2d_periodic_bb"},
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


# ---------------------------------------------------------------- oracle-aware strict protocol
class OracleProtocol:
    """Per-held-out-set oracle refit, relabelling and the physics variants (module docstring).

    ``fit_for(train_exp_mask)`` fits the recipe on the experimental rows of the table where the
    mask is True (cached on disk by the set of rows); ``prepare`` turns the full training data
    and a keep mask into the fold's training data; ``predict`` gives the test rows' predictions
    (adding the calibrated oracle back for delta-learning).
    """

    def __init__(self, data, store: str, physics: str, cache: Path, lenient: bool = False, log=print):
        from chiscreen.model.evaluate import EXP_SOURCE
        from chiscreen.model.oracle_labels import OracleRelabeler

        self.data, self.physics, self.cache, self.lenient, self.log = data, physics, cache, lenient, log
        self.rl = OracleRelabeler(store)
        t = data.table
        self.is_exp = (t["source"] == EXP_SOURCE).to_numpy()
        self.is_oracle = t["chi_oracle"].notna().to_numpy() if "chi_oracle" in t else np.zeros(len(t), bool)
        self._fits: dict = {}
        self._chi: dict = {}
        cache.mkdir(parents=True, exist_ok=True)

    def fit_for(self, train_exp: np.ndarray):
        from chiscreen.model.fold_oracle import cached_fit, fit_key

        t = self.data.table
        rows = np.flatnonzero(train_exp & self.is_exp)
        pk, sk = t[POLYMER_KEY].to_numpy()[rows], t[SOLVENT_KEY].to_numpy()[rows]
        T = t[TEMPERATURE_K].to_numpy()[rows]
        key = fit_key(pk, sk, T)  # the cache of chiscreen.model.fold_oracle (chiscreen evaluate shares it)
        if key not in self._fits:
            self._fits[key] = cached_fit(self.rl, self.cache, pk, sk, T, t["chi"].to_numpy()[rows], self.log)
        return self._fits[key]

    def chi_all(self, key, params) -> np.ndarray:
        """Fold-fitted oracle chi of every table row (NaN where a profile is missing)."""
        if key not in self._chi:
            t = self.data.table
            self._chi[key] = self.rl.chi(t[POLYMER_KEY].to_numpy(), t[SOLVENT_KEY].to_numpy(),
                                         t[TEMPERATURE_K].to_numpy(), params)
        return self._chi[key]

    def prepare(self, keep: np.ndarray, held_polymers: set, train_exp: np.ndarray, test_pos: np.ndarray):
        """(training data of the fold, full data for predicting its test rows, add-back (n_test,))."""
        from chiscreen.model.oracle_labels import linear_calibration

        data = self.data
        t = data.table
        key, params, info = self.fit_for(train_exp)
        chi = self.chi_all(key, params)
        keep = keep.copy()
        if self.is_oracle.any():
            data = data.with_task_values("chi_oracle", np.where(self.is_oracle, chi, np.nan))
            if self.lenient:   # the "oracle at predict time" scenario: held-out polymers' oracle rows stay
                keep |= self.is_oracle & t[POLYMER_KEY].isin(held_polymers).to_numpy()
        addback = np.zeros(len(test_pos))
        if self.physics in ("delta", "input"):
            tr = np.flatnonzero(keep & self.is_exp)
            a, b = linear_calibration(chi[tr], t["chi"].to_numpy()[tr])
            cal = a + b * chi
            fill = float(np.nanmean(cal[tr]))
            if self.physics == "delta":
                y = t["chi"].to_numpy(dtype=float)
                new = np.where(self.is_exp, y - cal, np.nan)
                # training rows without an oracle value leave the task; test rows use the mean offset
                new[test_pos] = y[test_pos] - np.where(np.isfinite(cal[test_pos]), cal[test_pos], fill)
                data = data.with_task_values("chi_exp", new)
                addback = np.where(np.isfinite(cal[test_pos]), cal[test_pos], fill)
            else:
                mu, sd = float(np.nanmean(cal[tr])), float(np.nanstd(cal[tr]) or 1.0)
                has = np.isfinite(cal) & self.is_exp
                x = np.zeros((len(t), 2), dtype=np.float32)
                x[has, 0] = (cal[has] - mu) / sd
                x[self.is_exp & ~has, 1] = 1.0
                data = data.with_pair_inputs(x, ["chi_oracle_calibrated_z", "chi_oracle_missing"])
        return data.subset_rows(keep), data, addback, info

    def train_predict(self, cfg, keep, held_polymers, train_exp, test_pos, task="chi_exp"):
        from chiscreen.model.oracle_labels import predict_task_rows_x
        from chiscreen.model.train import train_ensemble

        sub, full, addback, info = self.prepare(keep, held_polymers, train_exp, test_pos)
        res = train_ensemble(cfg, sub, log=lambda m: None, progress=False)
        pred = predict_task_rows_x(res.ensemble, full, test_pos, task)
        if task == "chi_exp":
            pred["pred"] = pred["pred"].to_numpy() + addback
            pred["y"] = self.data.table["chi"].to_numpy()[test_pos]
        return pred, res.seconds, info


def oracle_lpo(cfg, prot: OracleProtocol, seed: int = 0, n_splits: int = 5, strict: bool = True):
    """Leave-polymer-out as evaluate_grouped (same folds), through the oracle protocol."""
    from chiscreen.data.splits import grouped_kfold
    from chiscreen.model.evaluate import _exp_rows, regression_metrics

    data = prot.data
    ex = _exp_rows(data)
    t = data.table
    exdf = t.loc[ex["pos"]].reset_index(drop=True)
    pk = t[POLYMER_KEY].to_numpy()
    outs, fits = [], []
    for k, (_, te) in enumerate(grouped_kfold(exdf, by="polymer", n_splits=n_splits, seed=seed)):
        te_pos = ex["pos"].to_numpy()[te]
        held = set(pk[te_pos])
        in_held = np.isin(pk, list(held))
        keep = ~in_held if strict else ~(in_held & prot.is_exp)
        pred, secs, info = prot.train_predict(cfg, keep, held, ~in_held, te_pos)
        pred["fold"] = k
        pred["exp_row"] = t.loc[te_pos, "source_row"].to_numpy()
        pred["group"] = pk[te_pos]
        pred["solvent"] = t[SOLVENT_KEY].to_numpy()[te_pos]
        pred["seconds"] = secs
        m = regression_metrics(pred["y"], pred["pred"])
        prot.log(f"  LPO fold {k}: R2 {m['r2']:.3f} RMSE {m['rmse']:.3f} (n={m['n']}, {len(held)} polymers, {secs:.0f} s)")
        outs.append(pred)
        fits.append(info)
    return pd.concat(outs, ignore_index=True), fits


def oracle_official(cfg, prot: OracleProtocol):
    """The five official splits through the oracle protocol (strict: every auxiliary row of a
    test pair leaves training; the oracle refit uses the training split's experimental rows)."""
    from chiscreen.data import load_official_splits
    from chiscreen.model.evaluate import _exp_rows, regression_metrics

    data = prot.data
    t = data.table
    ex = _exp_rows(data)
    row_of = dict(zip(ex["exp_row"], ex["pos"]))
    pair_all = (t[POLYMER_KEY] + "_" + t[SOLVENT_KEY]).to_numpy()
    outs = []
    for k, (tr, te) in enumerate(load_official_splits()):
        te_pos = np.array([row_of[r] for r in te if r in row_of])
        keep = ~prot.is_exp.copy()
        keep[[row_of[r] for r in tr if r in row_of]] = True
        keep &= ~(np.isin(pair_all, list(set(pair_all[te_pos]))) & ~prot.is_exp)
        train_exp = keep & prot.is_exp
        pred, secs, _ = prot.train_predict(cfg, keep, set(), train_exp, te_pos)
        pred["split"] = k
        pred["exp_row"] = t.loc[te_pos, "source_row"].to_numpy()
        pred["seconds"] = secs
        m = regression_metrics(pred["y"], pred["pred"])
        prot.log(f"  official split {k}: R2 {m['r2']:.3f} RMSE {m['rmse']:.3f} (n={m['n']}, {secs:.0f} s)")
        outs.append(pred)
    return pd.concat(outs, ignore_index=True)


def oracle_solubility_cv(cfg, prot: OracleProtocol, seed: int = 0, n_splits: int = 5) -> dict:
    """Polymer-grouped K-fold of the solubility labels (as evaluate.solubility_cv, same folds),
    every row of the held-out polymers out of training and out of the oracle refit."""
    from sklearn.metrics import accuracy_score, roc_auc_score

    from chiscreen.data.splits import grouped_kfold

    data = prot.data
    r = data.tasks["soluble"]
    lab = pd.DataFrame({POLYMER_KEY: np.array(data.polymer_keys)[r.pi], SOLVENT_KEY: np.array(data.solvent_keys)[r.si]})
    pk = data.table[POLYMER_KEY].to_numpy()
    preds, per = [], []
    for k, (_, te) in enumerate(grouped_kfold(lab, by="polymer", n_splits=n_splits, seed=seed)):
        held = set(lab[POLYMER_KEY].iloc[te])
        keep = ~np.isin(pk, list(held))
        p, secs, _ = prot.train_predict(cfg, keep, held, keep, r.row[te], task="soluble")
        y = p["y"].to_numpy().astype(int)
        auc = float(roc_auc_score(y, p["pred"])) if len(set(y)) == 2 else float("nan")
        per.append({"fold": k, "n": int(len(te)), "auc": auc, "accuracy": float(accuracy_score(y, p["pred"] >= 0.5))})
        prot.log(f"  solubility fold {k}: AUC {auc:.3f} (n={len(te)}, {len(held)} polymers, {secs:.0f} s)")
        preds.append(p)
    p = pd.concat(preds, ignore_index=True)
    y = p["y"].to_numpy().astype(int)
    return {"pooled_auc": float(roc_auc_score(y, p["pred"])), "pooled_accuracy": float(accuracy_score(y, p["pred"] >= 0.5)),
            "mean_fold_auc": float(np.nanmean([f["auc"] for f in per])),
            "majority_baseline_accuracy": float(max(y.mean(), 1 - y.mean())), "per_fold": per, "n": int(len(y))}


def oracle_baseline(prot: OracleProtocol, seed: int = 0, n_splits: int = 5) -> dict:
    """Raw (sac2010) and fitted (recipe refitted without the fold's polymers) oracle chi against
    experimental chi on the leave-polymer-out test rows (same folds as the model)."""
    from chiscreen.data.splits import grouped_kfold
    from chiscreen.model.evaluate import _exp_rows, regression_metrics
    from chiscreen.model.oracle_labels import linear_calibration
    from chiscreen.qc.params import SAC2010

    data = prot.data
    t = data.table
    ex = _exp_rows(data)
    exdf = t.loc[ex["pos"]].reset_index(drop=True)
    pk = t[POLYMER_KEY].to_numpy()
    y = t["chi"].to_numpy(dtype=float)
    raw = prot.rl.chi(pk, t[SOLVENT_KEY].to_numpy(), t[TEMPERATURE_K].to_numpy(), SAC2010)
    rows = []
    for k, (_, te) in enumerate(grouped_kfold(exdf, by="polymer", n_splits=n_splits, seed=seed)):
        te_pos = ex["pos"].to_numpy()[te]
        in_held = np.isin(pk, list(set(pk[te_pos])))
        key, params, info = prot.fit_for(~in_held)
        chi = prot.chi_all(key, params)
        tr = np.flatnonzero(~in_held & prot.is_exp)
        a, b = linear_calibration(chi[tr], y[tr])
        rows.append(pd.DataFrame({"fold": k, "pos": te_pos, "y": y[te_pos], "raw": raw[te_pos],
                                  "fitted": chi[te_pos], "fitted_linear": a + b * chi[te_pos]}))
    d = pd.concat(rows, ignore_index=True)
    ok = d[["raw", "fitted"]].notna().all(axis=1)
    out = {"n_rows": int(len(d)), "n_with_oracle": int(ok.sum())}
    for c in ("raw", "fitted", "fitted_linear"):
        out[c] = regression_metrics(d.loc[ok, "y"], d.loc[ok, c])
        out[c]["fold_r2"] = [regression_metrics(g.loc[ok[g.index], "y"], g.loc[ok[g.index], c])["r2"]
                             for _, g in d.groupby("fold")]
    return out


def make_store_table(store: str, path: Path, temps=(298.15, 348.15)) -> pd.DataFrame:
    """A chi_oracle label table from every polymer and solvent stored in ``store`` (default
    profile method), every pair at ``temps`` (K), shipped parameter set: what one can train on
    before a campaign table exists. Columns of chiscreen.qc.results.label_rows + provenance."""
    from chiscreen.model.oracle_labels import OracleRelabeler
    from chiscreen.qc.params import get_params

    rl = OracleRelabeler(store)
    root = rl.store.root / rl.spec.engine / rl.method_version
    keys = {}
    for kind in ("polymer", "solvent"):
        keys[kind] = []
        for f in sorted((root / kind).glob("*.npz")):
            with np.load(f, allow_pickle=False) as z:
                keys[kind].append(json.loads(str(z["meta_json"]))["canonical"])
    P, S = keys["polymer"], keys["solvent"]
    rows = [(p, s_, T) for p in P for s_ in S for T in temps]
    params = get_params(None)
    chi = rl.chi([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], params)
    df = pd.DataFrame({"polymer_smiles": [r[0] for r in rows], "solvent_smiles": [r[1] for r in rows],
                       "temperature_K": [r[2] for r in rows], "chi_oracle": chi, "chi_oracle_spread": 0.0,
                       "source": f"qc-store {rl.method_version} x {params.version}", "source_row": np.arange(len(rows)),
                       "profile_method": rl.method_version, "param_set": params.version, "polymer_origin": "store"})
    df = df[np.isfinite(df["chi_oracle"])].reset_index(drop=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    df.to_parquet(path, index=False)
    print(f"{len(df)} chi_oracle rows ({len(P)} polymers x {len(S)} solvents x {len(temps)} T) written to {path}")
    return df


def lpo_figures(p: pd.DataFrame) -> dict:
    from chiscreen.model.evaluate import regression_metrics

    pooled = regression_metrics(p["y"], p["pred"])
    folds = [regression_metrics(g["y"], g["pred"])["r2"] for _, g in p.groupby("fold")]
    return {"r2": pooled["r2"], "rmse": pooled["rmse"], "mae": pooled["mae"], "n": pooled["n"],
            "fold_r2": folds, "fold_min_r2": float(min(folds))}


def lpo_table(out: Path) -> dict:
    """Strict/lenient leave-polymer-out figures of every run in ``out`` (pooled R2, RMSE, fold R2,
    fold RMSE and fold minimum per seed set, and their means), from the run JSON
    (``NAME-sN-...polymer....json``, committed) or, where only that exists, the per-row
    ``NAME-sN-polymer.csv``; each run with what it was (config file, physics, lenient, oracle
    tables, command); plus any oracle baseline JSON: the issue-12 table. Printed as text; returned
    (and written to lpo_table.json)."""
    import re

    runs: dict = {}
    meta: dict = {}
    for f in sorted(out.glob("*-s*-*.json")):
        m = re.match(r"(?P<name>.+)-s(?P<seed>\d+)-(?P<evals>[a-z_-]+)\.json$", f.name)
        if not m or "polymer" not in m["evals"].split("-"):
            continue
        d = json.loads(f.read_text())
        pol = d.get("polymer") or {}
        if "pooled" not in pol:
            continue
        folds = [s["r2"] for s in pol["per_split"]]
        runs.setdefault(m["name"], {})[int(m["seed"])] = {
            **{k: pol["pooled"][k] for k in ("r2", "rmse", "mae", "n")}, "fold_r2": folds,
            "fold_rmse": [s["rmse"] for s in pol["per_split"]], "fold_min_r2": float(min(folds))}
        tables = d.get("oracle_tables") or d.get("config", {}).get("data", {}).get("extra_tables", [])
        if m["name"] in meta and meta[m["name"]]["oracle_tables"] != tables:
            raise SystemExit(f"{f.name}: run name {m['name']!r} already holds a seed set on other oracle tables "
                             f"({meta[m['name']]['oracle_tables']} vs {tables}): rename one")
        meta.setdefault(m["name"], {}).update({
            "config_file": Path(d.get("config_file", "configs/train-default.yaml")).name,
            "physics": d.get("physics", "none"), "oracle_lenient": bool(d.get("oracle_lenient", False)),
            "strict": bool(d.get("strict", True)), "featurizer": d.get("config", {}).get("data", {}).get("featurizer"),
            "oracle_tables": tables,
            "oracle_rows": d.get("rows", {}).get("chi_oracle"), "members": d.get("config", {}).get("n_members")})
        if d.get("argv"):
            meta[m["name"]].setdefault("commands", {})[m["seed"]] = "python bench/model_eval.py " + " ".join(d["argv"])
    for f in sorted(out.glob("*-s*-polymer.csv")):
        m = re.match(r"(?P<name>.+)-s(?P<seed>\d+)-polymer\.csv$", f.name)
        if m and int(m["seed"]) not in runs.get(m["name"], {}):
            runs.setdefault(m["name"], {})[int(m["seed"])] = lpo_figures(pd.read_csv(f))
    table = {}
    for name, seeds in sorted(runs.items()):
        table[name] = {**meta.get(name, {}), "seeds": seeds,
                       **{f"mean_{k}": float(np.mean([v[k] for v in seeds.values()])) for k in ("r2", "rmse", "fold_min_r2")}}
        print(f"{name:40s} " + "  ".join(f"s{s}: R2 {v['r2']:.3f} RMSE {v['rmse']:.3f} fold min {v['fold_min_r2']:.3f}"
                                         for s, v in sorted(seeds.items())))
    for f in sorted(out.glob("*-oracle_baseline.json")):
        d = json.loads(f.read_text())
        table[f.stem] = {**d["oracle_baseline"], **({"command": "python bench/model_eval.py " + " ".join(d["argv"])}
                                                     if d.get("argv") else {})}
        b = d["oracle_baseline"]
        print(f"{f.stem}: " + "  ".join(f"{k} R2 {b[k]['r2']:.3f} RMSE {b[k]['rmse']:.3f}" for k in ("raw", "fitted", "fitted_linear")))
    (out / "lpo_table.json").write_text(json.dumps(table, indent=1, default=float))
    return table


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
    ap.add_argument("--eval", nargs="+", default=["official", "polymer"],
                    choices=["official", "polymer", "solubility", "solubility_cv", "oracle_baseline"])
    ap.add_argument("--lenient", action="store_true", help="keep auxiliary rows of held-out units (not strict)")
    ap.add_argument("--oracle-table", action="append", default=[],
                    help="chi_oracle label table (Parquet/CSV, columns of chiscreen.qc.results.label_rows); "
                         "its labels are recomputed per held-out set from --oracle-store")
    ap.add_argument("--oracle-store", default=None,
                    help="profile store for the oracle refits (default: $CHISCREEN_CACHE/oracle)")
    ap.add_argument("--physics", choices=["none", "input", "delta"], default="none",
                    help="(a) input: calibrated oracle chi of the pair as a head input for chi_exp; "
                         "(b) delta: learn chi_exp minus calibrated oracle chi (both need an oracle "
                         "calculation per new molecule at predict time: opt-in)")
    ap.add_argument("--oracle-fit-cache", default=str(ROOT / "bench" / "results" / "oracle_fits"),
                    help="folder of the per-held-out-set oracle refits (keyed by their training rows)")
    ap.add_argument("--oracle-lenient", action="store_true",
                    help="keep the chi_oracle rows of held-out polymers (the 'oracle at predict time' scenario)")
    ap.add_argument("--tag", default="")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--representation-cost", action="store_true")
    ap.add_argument("--make-store-table", metavar="FILE",
                    help="write a chi_oracle label table of every stored polymer x solvent (2 T) and exit")
    ap.add_argument("--summarize", action="store_true", help="print tables from the CSVs already in --out")
    ap.add_argument("--lpo-table", action="store_true",
                    help="issue-12 table: LPO figures of every *-polymer.csv in --out (writes lpo_table.json)")
    a = ap.parse_args(argv)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    if a.summarize:
        print(summarize_dir(out))
        return 0
    if a.lpo_table:
        print(json.dumps(lpo_table(out), default=float))
        return 0
    if a.representation_cost:
        representation_cost(out)
        return 0
    if a.make_store_table:
        make_store_table(a.oracle_store, Path(a.make_store_table))
        return 0
    from chiscreen.model.data import load_training_data
    from chiscreen.model.evaluate import evaluate_grouped, evaluate_official, solubility_holdout, summarize, write_json

    cfg0 = make_config(Path(a.config), a.variant, a.set, a.members)
    # a config that already trains chi_oracle (configs/train-oracle.yaml) goes through the strict
    # oracle protocol too: its shipped labels (fitted on all 46 polymers) never reach a held-out figure
    config_oracle = "chi_oracle" in cfg0.data.tasks
    oracle_mode = bool(a.oracle_table) or config_oracle or a.physics != "none" or "oracle_baseline" in a.eval
    if config_oracle and not (a.oracle_table or cfg0.data.extra_tables):
        ap.error(f"--variant {a.variant} trains chi_oracle: give --oracle-table")
    # run name: the variant for train-default.yaml (as before), else the config's stem (+ the variant)
    stem = Path(a.config).stem
    prefix = a.variant if stem == "train-default" else (stem if a.variant == "default" else f"{stem}_{a.variant}")
    summary = {"variant": a.variant, "config_file": a.config, "tag": a.tag, "physics": a.physics,
               "oracle_tables": a.oracle_table, "oracle_lenient": a.oracle_lenient, "members": a.members,
               "overrides": a.set, "argv": sys.argv[1:], "seeds": {}}
    t_start = time.perf_counter()
    prot = None
    for seed in a.seeds:
        t_seed, c_seed = time.perf_counter(), time.process_time()
        cfg = make_config(Path(a.config), a.variant, a.set, a.members)
        cfg.seed = seed
        if a.oracle_table:
            cfg.data.extra_tables = [*cfg.data.extra_tables, *[t for t in a.oracle_table if t not in cfg.data.extra_tables]]
        data = load_training_data(cfg.data, progress=False)
        name = f"{prefix}{('-' + a.tag) if a.tag else ''}-s{seed}"
        res = {"variant": a.variant, "config_file": a.config, "argv": sys.argv[1:], "overrides": a.set, "seed": seed,
               "strict": not a.lenient, "config": to_dict(cfg),
               "physics": a.physics, "oracle_tables": list(cfg.data.extra_tables), "oracle_lenient": a.oracle_lenient,
               "rows": data.counts()}
        if oracle_mode:
            if prot is None or prot.data.hash() != data.hash():
                prot = OracleProtocol(data, a.oracle_store, a.physics, Path(a.oracle_fit_cache),
                                      lenient=a.oracle_lenient)
            figs = {}
            if "oracle_baseline" in a.eval:
                res["oracle_baseline"] = figs["oracle_baseline"] = oracle_baseline(prot)
                print(name, "oracle baseline", json.dumps(res["oracle_baseline"], default=float), flush=True)
            if "polymer" in a.eval:
                p, fits = oracle_lpo(cfg, prot, strict=not a.lenient)
                p.to_csv(out / f"{name}-polymer.csv", index=False)
                res["polymer"] = summarize(p, "fold")
                res["polymer_oracle_fits"] = fits
                figs["polymer"] = lpo_figures(p)
                print(name, "LPO", figs["polymer"], flush=True)
            if "official" in a.eval:
                p = oracle_official(cfg, prot)
                p.to_csv(out / f"{name}-official.csv", index=False)
                res["official"] = summarize(p, "split")
                figs["official_mean_r2"] = res["official"]["mean"]["r2"]
                figs["official_mean_rmse"] = res["official"]["mean"]["rmse"]
                print(name, "official mean", res["official"]["mean"], flush=True)
            if "solubility_cv" in a.eval:
                res["solubility_cv"] = oracle_solubility_cv(cfg, prot, seed=seed)
                figs["solubility_cv_auc"] = res["solubility_cv"]["pooled_auc"]
                print(name, "solubility CV", {k: v for k, v in res["solubility_cv"].items() if k != "per_fold"}, flush=True)
            import os

            res["wall_s"], res["cpu_s"] = time.perf_counter() - t_seed, time.process_time() - c_seed
            res["loadavg_end"] = list(os.getloadavg())
            summary["seeds"][seed] = figs
            write_json(res, out / f"{name}-{'-'.join(a.eval)}.json")
            continue
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
        summary["seeds"][seed] = {
            **({"polymer": lpo_figures(pd.read_csv(out / f"{name}-polymer.csv"))} if "polymer" in a.eval else {}),
            **({"official_mean_r2": res["official"]["mean"]["r2"]} if "official" in a.eval else {}),
            **({"solubility_cv_auc": res["solubility_cv"]["pooled_auc"]} if "solubility_cv" in a.eval else {})}
    pol = [v["polymer"] for v in summary["seeds"].values() if "polymer" in v]
    if pol:
        summary["polymer_mean"] = {k: float(np.mean([p[k] for p in pol])) for k in ("r2", "rmse", "fold_min_r2")}
    summary["seconds"] = time.perf_counter() - t_start
    print(json.dumps(summary, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
