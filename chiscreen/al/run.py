"""An active-learning run: all state in one run directory; one resumable cycle at a time.

Layout of ``RUN/``::

    manifest.json            owned-folder manifest (format chiscreen-al-run; chiscreen.runtime.outdir):
                             eval polymers, oracle method version + parameter set, created
    config.yaml              the resolved config
    pool.parquet             candidate rows (polymer_key, solvent_key, temperature_K)
    models/cycle-000/        model artifacts, one per cycle (predict / screen --model RUN/model)
    model -> models/cycle-N  the newest model
    labels/oracle/cycle-N.parquet   the chi_oracle label store (one part per cycle)
    labels/lab/import-*.parquet      lab rows (chiscreen al import)
    cycles/cycle-N/          selection.parquet, oracle.json, metrics.json
    report/metrics.json, report/metrics.png
    state.json               cycles completed

A cycle: select -> oracle -> labels -> retrain -> evaluate -> report. Each step writes its
output atomically and is skipped when that output exists, so a cycle killed at any step
resumes where it stopped; oracle work already done lives in the profile store (one file per
molecule) and is never repeated; the label part of a cycle is written once. Two cycles of one
run never run at once: a cycle holds the run directory as the runtime's owned folder
(:class:`~chiscreen.runtime.outdir.OwnedDir`, exclusive lock ``.chiscreen.lock``); a lock left by a
killed cycle is reported as stale and taken over with ``take_over`` (``--take-over``).

The oracle version of a run (profile ``method_version`` and COSMO-SAC ``param_set``) is fixed at
init: the resolved profile settings and parameter-set name are written into ``config.yaml``, so a
change of chiscreen's oracle defaults never changes a run under it; a cycle whose oracle no longer
matches the manifest refuses unless ``oracle.mix_method_versions`` is set.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import socket
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from chiscreen.al.acquisition import SelectContext, select
from chiscreen.al.adapters import ORACLE_HEAD, RUN_KIND, save_model, start_ray
from chiscreen.al.adapters import run_dir as owned_run_dir
from chiscreen.al.config import ALConfig, load_al_config
from chiscreen.al.cost import CostModel
from chiscreen.al.labels import LabelStore, row_key
from chiscreen.al.pool import CandidatePool
from chiscreen.config import save_config, to_dict
from chiscreen.errors import ChiscreenError, ConfigError, InvalidInputError
from chiscreen.io import atomic_write_text
from chiscreen.runtime.outdir import pid_alive

log = logging.getLogger("chiscreen.al")
FORMAT = "chiscreen-" + RUN_KIND
FORMAT_VERSION = 2          # 2: manifest.json of the runtime's owned folder (1: run.json), param_set recorded
MANIFEST = "manifest.json"


class RunDirError(ChiscreenError):
    """A run directory is missing, foreign or inconsistent."""


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _write_json(path: Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=float))


def _holdout(keys: np.ndarray, fraction: float) -> np.ndarray:
    """Stable pseudo-random hold-out of rows by their key (same answer in every cycle)."""
    if fraction <= 0:
        return np.zeros(len(keys), dtype=bool)
    h = np.array([int(hashlib.sha1(k.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF for k in keys])
    return h < fraction


# ---------------------------------------------------------------------------- pool building
def _read_molecules(source: str, kind: str, names: list[str], limit: int | None) -> list[str]:
    from chiscreen.data import read_table

    if source == "reference":
        from chiscreen.al.training import experimental_rows

        e = experimental_rows()
        keys = list(dict.fromkeys(e["polymer_key" if kind == "polymer" else "solvent_key"]))
        return keys[:limit] if limit else keys
    t = read_table(source)
    col = next((c for c in ("smiles", f"{kind}_smiles") if c in t.columns), None)
    if col is None:
        raise InvalidInputError(f"{source}: no 'smiles' or '{kind}_smiles' column (got {list(t.columns)})")
    if names:
        sel = np.zeros(len(t), dtype=bool)
        for c in ("name", "abbreviation"):
            if c in t.columns:
                sel |= t[c].astype(str).isin(set(names)).to_numpy()
        missing = set(names) - set(t.get("name", pd.Series(dtype=str)).astype(str)) - set(
            t.get("abbreviation", pd.Series(dtype=str)).astype(str))
        if missing:
            raise InvalidInputError(f"{source}: no row named {sorted(missing)}")
        t = t[sel]
    from chiscreen.features.api import canonical_key

    keys = []
    for i, s in enumerate(t[col].astype(str)):
        try:
            keys.append(canonical_key(kind, s))
        except InvalidInputError as exc:
            raise InvalidInputError(f"{source}: row {i}: {exc}") from None
    keys = list(dict.fromkeys(keys))
    return keys[:limit] if limit else keys


def build_pool(cfg: ALConfig, eval_polymers: list[str]) -> CandidatePool:
    pc = cfg.pool
    if pc.screen:
        from chiscreen.data import normalize_pairs, read_table

        t = read_table(pc.screen)
        if "polymer_key" not in t.columns:
            t = normalize_pairs(t, strict=True, source=pc.screen)
        pool = CandidatePool.from_table(t.drop_duplicates(["polymer_key", "solvent_key", "temperature_K"]))
    else:
        polys = _read_molecules(pc.polymers, "polymer", pc.polymer_names, pc.max_polymers)
        solvs = _read_molecules(pc.solvents, "solvent", pc.solvent_names, pc.max_solvents)
        if not cfg.evaluation.include_in_training:
            polys = [p for p in polys if p not in set(eval_polymers)]
        if not polys or not solvs:
            raise InvalidInputError(f"empty pool: {len(polys)} polymers x {len(solvs)} solvents")
        pool = CandidatePool.from_product(polys, solvs, pc.temperatures_K)
    return pool


def _params_of(oc):
    from chiscreen.qc.params import get_params

    return get_params(oc.params)


def resolve_oracle(cfg: ALConfig):
    """Fix the run's oracle in ``cfg`` (in place): every profile setting and the parameter-set
    name written out, so that ``config.yaml`` keeps meaning the same oracle when chiscreen's
    defaults change. Returns the resolved OracleConfig."""
    oc = cfg.oracle.oracle_config()
    cfg.oracle.profile = oc.profile.to_dict()
    if cfg.oracle.params is None:
        cfg.oracle.params = _params_of(oc).name
    return cfg.oracle.oracle_config()


# ---------------------------------------------------------------------------- the run
class ALRun:
    """An existing run directory (validated on open; nothing is written by opening)."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.exists():
            raise RunDirError(f"run directory {self.path} does not exist (create it with `chiscreen al init --config FILE --run {self.path}`)")
        man = self.path / MANIFEST
        if self.path.is_dir() and not man.is_file() and (self.path / "run.json").is_file():
            raise RunDirError(f"{self.path} is an AL run of an earlier chiscreen (run.json, format 1); "
                              "create a new run with `chiscreen al init`")
        if not self.path.is_dir() or not man.is_file():
            raise RunDirError(f"{self.path} is not an AL run directory (no {MANIFEST}; create one with `chiscreen al init`)")
        try:
            self.manifest = json.loads(man.read_text())
        except ValueError as exc:
            raise RunDirError(f"{man}: unreadable manifest ({exc})") from None
        if self.manifest.get("format") != FORMAT:
            raise RunDirError(f"{self.path} is not an AL run directory ({man} has format {self.manifest.get('format')!r})")
        self.cfg = load_al_config(self.path / "config.yaml")
        self.oracle_labels = LabelStore(self.path, "oracle")
        self.lab_labels = LabelStore(self.path, "lab")

    # ------------------------------------------------------------------ creation
    @classmethod
    def init(cls, config: str | os.PathLike | dict, run_dir: str | os.PathLike, progress: bool = True) -> "ALRun":
        """Create a run: pool, evaluation polymers, the initial model (cycle 0) and its metrics.
        Built in a temporary sibling folder ``.NAME.init-PID`` and renamed into place: a killed
        init leaves no run directory (its temp folder is removed by the next init)."""
        from chiscreen.al.training import (evaluate_rows, experimental_rows, featurize_table, pick_eval_polymers,
                                           solubility_rows, train_initial, training_table)

        cfg = load_al_config(config)
        run = Path(run_dir)
        if run.exists() and (not run.is_dir() or any(run.iterdir())):
            raise RunDirError(f"{run} exists and is not empty; choose a new --run folder")
        t0 = time.perf_counter()
        exp = experimental_rows()
        eval_p = pick_eval_polymers(cfg, exp)
        pool = build_pool(cfg, eval_p)
        pool.featurize(progress=progress)
        oc = resolve_oracle(cfg)
        spec, params = oc.profile, _params_of(oc)
        method_version = spec.method_version
        tmp = run.parent / f".{run.name}.init-{os.getpid()}"
        for old in run.parent.glob(f".{run.name}.init-*"):      # left by a killed init
            pid = old.name.rsplit("-", 1)[-1]
            if pid.isdigit() and (int(pid) == os.getpid() or not pid_alive(int(pid))):
                shutil.rmtree(old, ignore_errors=True)
        (tmp / "cycles" / "cycle-000").mkdir(parents=True)
        od = None
        try:
            od = owned_run_dir(tmp).open()   # empty now: claimed as an AL run, locked while it is built
            save_config(cfg, tmp / "config.yaml")
            pt = pool.table()
            pt.to_parquet(tmp / "pool.parquet", index=False)
            _say(f"al init: pool {len(pt)} rows ({len(pool.polymers)} polymers x {len(pool.solvents)} solvents x "
                 f"{len(cfg.pool.temperatures_K)} T; {len(getattr(pool, 'dropped', []))} rows dropped by featurization); "
                 f"evaluation polymers {len(eval_p)} ({'in' if cfg.evaluation.include_in_training else 'excluded from'} training)")
            sol = solubility_rows() if cfg.model.solubility == "polysol" else None
            table = training_table(exp, sol, pd.DataFrame(), pd.DataFrame(), eval_p,
                                   cfg.evaluation.include_in_training, method_version, False, params.version)
            data = featurize_table(table, [t for t in ("soluble", "chi_exp") if t != "soluble" or sol is not None])
            ta = time.perf_counter()
            ens = train_initial(cfg, data)
            train_s = time.perf_counter() - ta
            save_model(ens, tmp / "models" / "cycle-000", metrics={"cycle": 0, "train_seconds": train_s, "rows": data.counts()})
            ev = featurize_table(exp[exp["polymer_key"].isin(set(eval_p))].reset_index(drop=True), ["chi_exp"])
            m = {"cycle": 0, "exp_eval": evaluate_rows(ens, ev, "chi_exp"), "oracle_eval": {"n": 0},
                 "train_seconds": train_s, "train_rows": data.counts(), "retrain": "cold (initial)"}
            _write_json(tmp / "cycles" / "cycle-000" / "metrics.json", m)
            manifest = {"format_version": FORMAT_VERSION, "created": _now(), "name": cfg.name,
                        "host": socket.gethostname(), "eval_polymers": eval_p,
                        "eval_in_training": cfg.evaluation.include_in_training,
                        "method_version": method_version, "engine": spec.engine, "param_set": params.version,
                        "n_conformers": spec.n_conformers, "n_units": spec.n_units,
                        "oracle_head": ORACLE_HEAD, "pool_rows": int(len(pt))}
            _write_json(tmp / "state.json", {"cycles_done": 0, "updated": _now()})
            os.symlink(os.path.join("models", "cycle-000"), tmp / "model")
            od.write_manifest(manifest)
            od.release()
            if run.exists():
                run.rmdir()
            os.rename(tmp, run)
        except BaseException:
            if od is not None:
                od.release()
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        r = cls(run)
        r._report()
        _say(f"al init: wrote {run} in {time.perf_counter() - t0:.1f} s (initial {cfg.model.n_members}-member model, "
             f"experimental RMSE on held-out polymers {m['exp_eval'].get('rmse', float('nan')):.3f})")
        return r

    # ------------------------------------------------------------------ state
    def state(self) -> dict:
        return json.loads((self.path / "state.json").read_text())

    def cycle_dir(self, k: int) -> Path:
        return self.path / "cycles" / f"cycle-{k:03d}"

    def model_dir(self, k: int) -> Path:
        return self.path / "models" / f"cycle-{k:03d}"

    def load_model(self, k: int):
        from chiscreen.model import load_ensemble

        return load_ensemble(self.model_dir(k))

    def pool(self) -> CandidatePool:
        p = CandidatePool.from_table(pd.read_parquet(self.path / "pool.parquet"))
        return p.featurize(progress=False)

    def validate(self) -> None:
        """Check everything a cycle reads (raises before anything is written)."""
        self.oracle_labels.validate()
        self.lab_labels.validate()
        self.check_oracle_version()
        st = self.state()
        if not self.model_dir(st["cycles_done"]).is_dir():
            raise RunDirError(f"{self.path}: model of cycle {st['cycles_done']} missing ({self.model_dir(st['cycles_done'])})")

    def oracle_version(self) -> tuple[str, str]:
        """(profile method_version, parameter set ``name@digest``) of this run's configured oracle."""
        oc = self.cfg.oracle.oracle_config()
        return oc.profile.method_version, _params_of(oc).version

    def check_oracle_version(self) -> None:
        """Refuse a cycle whose oracle differs from the one the run was created with (its rows would
        not be used for training), unless the config allows mixing oracle versions."""
        mv, ps = self.oracle_version()
        want = (self.manifest.get("method_version"), self.manifest.get("param_set", ps))
        if (mv, ps) != want and not self.cfg.oracle.mix_method_versions:
            raise RunDirError(f"{self.path}: the configured oracle ({mv}, {ps}) differs from the run's ({want[0]}, "
                              f"{want[1]}); set oracle.mix_method_versions: true in {self.path / 'config.yaml'} to "
                              "train on both, or start a new run")

    # ------------------------------------------------------------------ a cycle
    def cycle(self, acquisition: str | None = None, budget_s: float | None = None, batch_size: int | None = None,
              stop_after: str | None = None, take_over: bool = False) -> dict:
        """Run (or resume) the next cycle. ``stop_after`` ("select", "oracle", "retrain") stops
        early (tests); ``take_over`` takes over the stale lock of a killed cycle (then resumes it).
        Returns the cycle's metrics. Raises OutputLockedError when another cycle holds the run."""
        cfg = self.cfg
        acq = cfg.acquisition
        # validate overrides before touching anything
        if acquisition is not None or budget_s is not None or batch_size is not None:
            d = to_dict(acq)
            if acquisition is not None:
                d["name"] = acquisition
            if budget_s is not None:
                d["budget_s"] = budget_s
            if batch_size is not None:
                d["batch_size"] = batch_size
            from chiscreen.config import from_dict
            from chiscreen.al.config import AcquisitionConfig

            acq = from_dict(AcquisitionConfig, d, where="acquisition")
        self.validate()
        with owned_run_dir(self.path, take_over=take_over):
            k = self.state()["cycles_done"] + 1
            cdir = self.cycle_dir(k)
            cdir.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            steps = {}
            if not (cdir / "selection.parquet").is_file():
                ts = time.perf_counter()
                self._select(k, acq)
                steps["select_s"] = time.perf_counter() - ts
            if stop_after == "select":
                return {}
            if not self.oracle_labels.has_part(f"cycle-{k:03d}"):
                ts = time.perf_counter()
                self._oracle(k)
                steps["oracle_s"] = time.perf_counter() - ts
            if stop_after == "oracle":
                return {}
            if not (self.model_dir(k) / "config.json").is_file():
                ts = time.perf_counter()
                self._retrain(k)
                steps["retrain_s"] = time.perf_counter() - ts
            if stop_after == "retrain":
                return {}
            if not (cdir / "metrics.json").is_file():
                self._evaluate(k, acq, steps)
            self._link_model(k)
            _write_json(self.path / "state.json", {"cycles_done": k, "updated": _now()})
            self._report()
            m = json.loads((cdir / "metrics.json").read_text())
            _say(f"al cycle {k}: {m['n_selected']} rows selected ({m['acquisition']}), {m['oracle_ok']} ok / "
                 f"{m['oracle_failed']} failed, {m['new_polymers']} new polymer(s), {m['compute_s']:.1f} s oracle compute; "
                 f"RMSE exp {m['exp_eval'].get('rmse', float('nan')):.3f}, oracle held-out "
                 f"{m['oracle_eval'].get('rmse', float('nan')):.3f} (n={m['oracle_eval'].get('n', 0)}); "
                 f"{time.perf_counter() - t0:.1f} s; model {self.model_dir(k)}")
            return m

    # ------------------------------------------------------------------ steps
    def _oracle_obj(self):
        from chiscreen.qc import Oracle, ProfileStore

        oc = self.cfg.oracle.oracle_config()
        return Oracle(oc.profile, ProfileStore(oc.store_path()), params=oc.params), oc

    def _profiled(self, oracle, kind: str, keys: list[str]) -> np.ndarray:
        return np.array([oracle.store.get(oracle.key(kind, k)) is not None for k in keys], dtype=bool)

    def _select(self, k: int, acq) -> None:
        pool = self.pool()
        ens = self.load_model(k - 1)
        post = pool.posterior(ens, task=acq.task)
        keys = pool.row_keys()
        done = set(self.oracle_labels.read()["row_key"])
        exclude = np.isin(keys, list(done)) if done else np.zeros(len(keys), dtype=bool)
        oracle, _ = self._oracle_obj()
        have_p = self._profiled(oracle, "polymer", pool.polymers)
        have_s = self._profiled(oracle, "solvent", pool.solvents)
        cost = CostModel(pool.pi, pool.si, have_p, have_s, self.cfg.cost)
        labs = self.oracle_labels.read()
        best = float(pd.to_numeric(labs["chi"], errors="coerce").min()) if len(labs) else None
        ctx = SelectContext(exclude=exclude, polymer_of=pool.pi, solvent_of=pool.si, max_per_polymer=acq.max_per_polymer,
                            max_per_solvent=acq.max_per_solvent, seed=self.cfg.seed * 1000 + k, beta=acq.beta,
                            objective=acq.objective, delta=acq.delta, shortlist=acq.shortlist,
                            best_f=best if best is not None and np.isfinite(best) else None,
                            cost=cost, budget_s=acq.budget_s, min_new_polymers=acq.min_new_polymers)
        sel = select(acq.name, post, acq.batch_size, ctx)
        if len(sel.rows) == 0:
            raise InvalidInputError(f"cycle {k}: nothing left to select (pool exhausted, or budget {acq.budget_s} s "
                                    f"below the cheapest row {cost.row_cost().min():.3f} s)")
        r = sel.rows
        t = pool.table().iloc[r].reset_index(drop=True)
        t["row"] = r
        t["row_key"] = keys[r]
        t["score"] = sel.scores
        t["pred_mean"], t["pred_std"] = post.mean[r], post.std[r]
        t["new_polymer"] = ~have_p[pool.pi[r]]
        t["new_solvent"] = ~have_s[pool.si[r]]
        t["acquisition"] = acq.name
        t["est_cost_s"] = sel.cost_s
        from chiscreen.io import atomic_path

        with atomic_path(self.cycle_dir(k) / "selection.parquet") as tmp:
            t.to_parquet(tmp, index=False)
        _say(f"al cycle {k}: selected {len(t)} rows with {acq.name} ({int(t.drop_duplicates('polymer_key')['new_polymer'].sum())} "
             f"new polymer(s), {int(t.drop_duplicates('solvent_key')['new_solvent'].sum())} new solvent(s); "
             f"estimated oracle cost {sel.cost_s:.1f} s)")

    def _oracle(self, k: int) -> None:
        from chiscreen.qc import RunOptions

        sel = pd.read_parquet(self.cycle_dir(k) / "selection.parquet")
        oracle, oc = self._oracle_obj()
        opts = replace(oc.run, progress=sys.stderr.isatty())
        if opts.backend == "ray":
            start_ray(num_cpus=self.cfg.oracle.num_cpus)
        t0 = time.perf_counter()
        rows = list(zip(sel["polymer_key"], sel["solvent_key"], sel["temperature_K"].astype(float)))
        n_mol = len(set(sel.loc[sel["new_polymer"], "polymer_key"])) + len(set(sel.loc[sel["new_solvent"], "solvent_key"]))
        _say(f"al cycle {k}: oracle on {len(rows)} rows ({n_mol} molecule profile(s) to compute, backend {opts.backend})")
        res = oracle.chi_rows(rows, RunOptions(**{**to_dict(opts)}), spread=False)
        wall = time.perf_counter() - t0
        # compute seconds of the molecules this cycle paid for (from the stored profiles' timings,
        # so a resumed cycle still counts work done before the kill), charged to their first row
        charged: set = set()
        cost = np.full(len(sel), self.cfg.cost.pair_s)
        for i, r in sel.iterrows():
            for kind, key, new in (("polymer", r["polymer_key"], r["new_polymer"]), ("solvent", r["solvent_key"], r["new_solvent"])):
                if new and (kind, key) not in charged:
                    charged.add((kind, key))
                    rec = oracle.store.get(oracle.key(kind, key))
                    if rec is not None:
                        cost[i] += float(rec.meta.get("t_total", 0.0))
        spec = oc.profile
        out = pd.DataFrame({
            "row_key": sel["row_key"], "polymer_key": sel["polymer_key"], "solvent_key": sel["solvent_key"],
            "temperature_K": sel["temperature_K"].astype(float),
            "chi": [x.chi if x.chi is not None else np.nan for x in res],
            "spread": [x.spread if x.spread is not None else np.nan for x in res],
            "status": ["ok" if x.ok else "failed" for x in res],
            "reason": [x.reason or "" if not x.ok else "" for x in res],
            "cycle": k, "method_version": [x.extra.get("profile_method", spec.method_version) for x in res],
            "param_set": [x.extra.get("param_set", oracle.params.version) for x in res],
            "engine": spec.engine, "n_conformers": spec.n_conformers,
            "profile_seconds": cost - self.cfg.cost.pair_s, "cost_s": cost,
            "holdout": _holdout(sel["row_key"].to_numpy(), self.cfg.evaluation.oracle_holdout_fraction),
            "computed_at": _now()})
        msgs = [f"{x.reason}: {x.message}"[:200] for x in res if not x.ok]
        self.oracle_labels.write_part(f"cycle-{k:03d}", out)
        _write_json(self.cycle_dir(k) / "oracle.json", {"rows": len(out), "ok": int((out["status"] == "ok").sum()),
                                                        "failed": int((out["status"] != "ok").sum()), "wall_s": wall,
                                                        "compute_s": float(cost.sum()), "failures": msgs[:20],
                                                        "method_version": spec.method_version, "engine": spec.engine,
                                                        "param_set": oracle.params.version})

    def _training_data(self, k: int):
        from chiscreen.al.training import (LABEL_OF, experimental_rows, featurize_table, solubility_rows,
                                           training_table)

        cfg = self.cfg
        sol = solubility_rows() if cfg.model.solubility == "polysol" else None
        table = training_table(experimental_rows(), sol, self.oracle_labels.read(), self.lab_labels.read(),
                               self.manifest["eval_polymers"], cfg.evaluation.include_in_training,
                               self.manifest["method_version"], cfg.oracle.mix_method_versions,
                               self.manifest.get("param_set"))
        tasks = ["chi_exp", ORACLE_HEAD] + (["soluble"] if sol is not None or table["soluble"].notna().any() else [])
        tasks = [t for t in tasks if table[LABEL_OF[t]].notna().any()]
        return featurize_table(table, tasks)

    def _retrain(self, k: int) -> None:
        from chiscreen.al.training import finetune, train_initial

        cfg = self.cfg
        data = self._training_data(k)
        t0 = time.perf_counter()
        if cfg.model.retrain == "warm":
            ens = finetune(self.load_model(k - 1), data, cfg.model.finetune_steps, cfg.model.lr, cfg, seed=cfg.model.seed + k)
        else:
            ens = train_initial(cfg, data)
        secs = time.perf_counter() - t0
        tmp = self.path / "models" / f".cycle-{k:03d}.tmp"
        if tmp.exists():
            shutil.rmtree(tmp)
        save_model(ens, tmp, metrics={"cycle": k, "retrain": cfg.model.retrain, "train_seconds": secs, "rows": data.counts()})
        final = self.model_dir(k)
        if final.exists():
            shutil.rmtree(final)
        os.rename(tmp, final)
        _write_json(self.cycle_dir(k) / "retrain.json", {"retrain": cfg.model.retrain, "seconds": secs, "rows": data.counts()})

    def _evaluate(self, k: int, acq, steps: dict) -> None:
        from chiscreen.al.training import evaluate_rows, experimental_rows, featurize_table

        ens = self.load_model(k)
        exp = experimental_rows()
        ev = featurize_table(exp[exp["polymer_key"].isin(set(self.manifest["eval_polymers"]))].reset_index(drop=True), ["chi_exp"])
        labs = self.oracle_labels.read()
        same = labs["method_version"] == self.manifest["method_version"]
        if self.manifest.get("param_set"):
            same &= labs["param_set"] == self.manifest["param_set"]
        hold = labs[(labs["status"] == "ok") & labs["holdout"].astype(bool) & same]
        if len(hold):
            ht = pd.DataFrame({"polymer_smiles": hold["polymer_key"], "solvent_smiles": hold["solvent_key"],
                               "temperature_K": hold["temperature_K"].astype(float), "chi_oracle": hold["chi"].astype(float)})
            from chiscreen.data import normalize_pairs

            ht = normalize_pairs(ht, source="oracle hold-out", numeric_labels=("chi_oracle",))
            om = evaluate_rows(ens, featurize_table(ht, [ORACLE_HEAD]), ORACLE_HEAD)
        else:
            om = {"n": 0}
        sel = pd.read_parquet(self.cycle_dir(k) / "selection.parquet")
        orc = json.loads((self.cycle_dir(k) / "oracle.json").read_text())
        rt = json.loads((self.cycle_dir(k) / "retrain.json").read_text())
        m = {"cycle": k, "acquisition": str(sel["acquisition"].iloc[0]), "n_selected": int(len(sel)),
             "oracle_ok": orc["ok"], "oracle_failed": orc["failed"], "compute_s": orc["compute_s"], "oracle_wall_s": orc["wall_s"],
             "new_polymers": int(sel.drop_duplicates("polymer_key")["new_polymer"].sum()),
             "new_solvents": int(sel.drop_duplicates("solvent_key")["new_solvent"].sum()),
             "exp_eval": evaluate_rows(ens, ev, "chi_exp"), "oracle_eval": om, "retrain": rt["retrain"],
             "train_seconds": rt["seconds"], "train_rows": rt["rows"], "oracle_labels_total": int(len(labs)),
             "steps": steps, "finished": _now()}
        _write_json(self.cycle_dir(k) / "metrics.json", m)

    def _link_model(self, k: int) -> None:
        link = self.path / "model"
        tmp = self.path / f".model.{os.getpid()}.tmp"
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
        os.symlink(os.path.join("models", f"cycle-{k:03d}"), tmp)
        os.replace(tmp, link)

    # ------------------------------------------------------------------ report
    def history(self) -> list[dict]:
        out = []
        for d in sorted((self.path / "cycles").glob("cycle-*")):
            f = d / "metrics.json"
            if f.is_file():
                out.append(json.loads(f.read_text()))
        return out

    def _report(self) -> None:
        from chiscreen.al.summary import write_report

        write_report(self.path / "report", self.history(), self.manifest)
