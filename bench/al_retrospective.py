"""Retrospective active-learning benchmark on a pool whose oracle values are known.

Two commands:

    python bench/al_retrospective.py prepare [--store DIR] [--solvents 40] [--max-new 0]
        Builds the pool (reference + catalog polymers x solvents x 2 T) from molecules whose
        default-method profiles are in the store (computing at most --max-new missing ones) and
        computes oracle chi for every row once; cached as Parquet (not part of the timing).
    python bench/al_retrospective.py run [--strategies random,greedy,max_std,ucb,cost_aware]
        [--repeats 3] [--cycles 10] [--batch 50] [--init 50] [--steps 150]
        Every strategy gets the same initial random batch, budget and seeds per repeat; a
        5-member ensemble (trained once per repeat on experimental chi + solubility) is
        fine-tuned for a fixed number of steps per cycle (no std recalibration). Held-out
        polymers (20 %) are never queried; RMSE is on all their rows (oracle chi).

Prints and plots (a) held-out RMSE vs oracle calls and vs oracle compute-seconds (measured
per-molecule profile wall times from the store, each molecule paid once per simulated run, +
1 ms per pair), (b) recall of the top-1 % lowest-chi queryable rows vs fraction of the pool
queried; checks the issue's goals. Last line: one JSON object.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from dataclasses import replace

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEMPS = (298.15, 348.15)


def _cache_dir() -> Path:
    from chiscreen.paths import cache_dir

    return cache_dir("al-bench")


# ---------------------------------------------------------------------------- prepare
def prepare(args) -> Path:
    from chiscreen.al.training import experimental_rows
    from chiscreen.data import read_table
    from chiscreen.features.api import canonical_key
    from chiscreen.qc import Oracle, ProfileSpec, ProfileStore, RunOptions

    spec = ProfileSpec()
    from chiscreen.paths import cache_dir

    oracle = Oracle(spec, ProfileStore(args.store or cache_dir("oracle")))
    exp = experimental_rows()
    polys = list(dict.fromkeys(list(exp["polymer_key"]) + [canonical_key("polymer", s) for s in read_table(ROOT / "catalogs/polymers.csv")["smiles"]]))
    solvs = list(dict.fromkeys(list(exp["solvent_key"]) + [canonical_key("solvent", s) for s in read_table(ROOT / "catalogs/solvents.csv")["smiles"]]))
    have = lambda kind, k: oracle.store.get(oracle.key(kind, k)) is not None  # noqa: E731
    hp = [p for p in polys if have("polymer", p)]
    missing = [p for p in polys if not have("polymer", p)][: args.max_new]
    if missing:
        print(f"computing {len(missing)} missing polymer profile(s)", file=sys.stderr)
        oracle.ensure_profiles([("polymer", p) for p in missing], RunOptions(backend="process", workers=1, timeout_s=600))
        hp += [p for p in missing if have("polymer", p)]
    hs = [s for s in solvs if have("solvent", s)][: args.solvents]
    t0 = time.perf_counter()
    chi, _, out = oracle.chi_grid(hp, hs, list(TEMPS))
    rows = []
    for i, p in enumerate(hp):
        for j, s in enumerate(hs):
            for k, t in enumerate(TEMPS):
                rows.append((p, s, t, chi[i, j, k]))
    df = pd.DataFrame(rows, columns=["polymer_key", "solvent_key", "temperature_K", "chi"])
    df = df[np.isfinite(df["chi"])].reset_index(drop=True)
    cost = {("polymer", p): float(out[("polymer", p)].record.meta.get("t_total", 5.0)) for p in hp}
    cost.update({("solvent", s): float(out[("solvent", s)].record.meta.get("t_total", 0.05)) for s in hs})
    df["polymer_cost_s"] = df["polymer_key"].map(lambda k: cost[("polymer", k)])
    df["solvent_cost_s"] = df["solvent_key"].map(lambda k: cost[("solvent", k)])
    h = hashlib.sha1(json.dumps([hp, hs, TEMPS, spec.method_version]).encode()).hexdigest()[:10]
    path = _cache_dir() / f"pool-{h}.parquet"
    df.to_parquet(path, index=False)
    (_cache_dir() / "latest.txt").write_text(str(path))
    print(f"pool: {len(hp)} polymers x {len(hs)} solvents x {len(TEMPS)} T = {len(df)} rows with oracle chi "
          f"(chi grid {time.perf_counter() - t0:.1f} s; method {spec.method_version}); wrote {path}")
    return path


# ---------------------------------------------------------------------------- run
def _base_data(pool_df: pd.DataFrame):
    """One TrainingData over reference + pool molecules; experimental chi and solubility tasks
    fixed; oracle rows are added per cycle as a task on the same molecule tables."""
    from chiscreen.al.training import experimental_rows, featurize_table, solubility_rows, training_table

    exp, sol = experimental_rows(), solubility_rows()
    table = training_table(exp, sol, pd.DataFrame(), pd.DataFrame(), [], True, "", False)
    # append one dummy-label-free row per pool molecule so that they are featurized with the rest
    extra = pd.DataFrame({"polymer_smiles": pool_df["polymer_key"], "solvent_smiles": pool_df["solvent_key"],
                          "temperature_K": pool_df["temperature_K"], "chi_oracle": pool_df["chi"]})
    from chiscreen.data import normalize_pairs

    extra = normalize_pairs(extra.drop_duplicates(["polymer_smiles", "solvent_smiles"]), source="pool",
                            numeric_labels=("chi_oracle",))
    full = pd.concat([table, extra.drop(columns=["status", "reason"])], ignore_index=True)
    data = featurize_table(full, ["chi_exp", "soluble", "chi_oracle"])
    data.tasks.pop("chi_oracle", None)      # oracle rows are added per cycle (what was queried)
    return data


def run(args) -> dict:
    import torch

    from chiscreen.al.acquisition import SelectContext, select
    from chiscreen.al.config import ALConfig, ALModelConfig
    from chiscreen.al.cost import CostConfig, CostModel
    from chiscreen.al.pool import CandidatePool
    from chiscreen.al.training import finetune, train_initial
    from chiscreen.model.data import TaskRows

    torch.set_num_threads(1)
    path = Path(args.pool) if args.pool else Path((_cache_dir() / "latest.txt").read_text().strip())
    pool_df = pd.read_parquet(path)
    if args.max_rows and len(pool_df) > args.max_rows:
        keep_p = pool_df["polymer_key"].drop_duplicates().sample(frac=1, random_state=0)
        n_s = pool_df["solvent_key"].nunique()
        keep_p = keep_p.iloc[: max(4, args.max_rows // (n_s * len(TEMPS)))]
        pool_df = pool_df[pool_df["polymer_key"].isin(set(keep_p))].reset_index(drop=True)
    t_all = time.perf_counter()
    data = _base_data(pool_df)
    pidx = {k: i for i, k in enumerate(data.polymer_keys)}
    sidx = {k: i for i, k in enumerate(data.solvent_keys)}
    pool_df = pool_df[pool_df["polymer_key"].isin(pidx) & pool_df["solvent_key"].isin(sidx)].reset_index(drop=True)
    pool = CandidatePool.from_table(pool_df)
    pool.Xp = data.Xp[[pidx[k] for k in pool.polymers]]
    pool.Xs = data.Xs[[sidx[k] for k in pool.solvents]]
    gp = np.array([pidx[k] for k in pool.polymers])[pool.pi]        # data molecule index per pool row
    gs = np.array([sidx[k] for k in pool.solvents])[pool.si]
    y = pool_df["chi"].to_numpy(float)
    cost_p = pool_df.groupby("polymer_key")["polymer_cost_s"].first().reindex(pool.polymers).to_numpy()
    cost_s = pool_df.groupby("solvent_key")["solvent_cost_s"].first().reindex(pool.solvents).to_numpy()
    N, P = len(pool), len(pool.polymers)
    print(f"pool {N} rows ({P} polymers x {len(pool.solvents)} solvents x {len(TEMPS)} T) from {path.name}; "
          f"featurized in {time.perf_counter() - t_all:.1f} s", file=sys.stderr)
    strategies = args.strategies.split(",")
    mcfg = ALConfig(model=ALModelConfig(n_members=5, init_steps=args.init_steps, seed=0,
                                        weights={"chi_oracle": 0.6, "chi_exp": 0.3, "soluble": 0.1}))
    cc = CostConfig(polymer_s=float(np.median(cost_p)), solvent_s=float(np.median(cost_s)), pair_s=0.001)
    results = {s: [] for s in strategies}
    for rep in range(args.repeats):
        rng = np.random.default_rng(100 + rep)
        held_p = rng.choice(P, size=max(1, int(round(0.2 * P))), replace=False)
        held = np.isin(pool.pi, held_p)
        queryable = np.flatnonzero(~held)
        top = queryable[np.argsort(y[queryable])[: max(1, int(round(0.01 * len(queryable))))]]
        init = rng.choice(queryable, size=min(args.init, len(queryable)), replace=False)
        mcfg.model.seed = rep
        t0 = time.perf_counter()
        ens0 = train_initial(mcfg, data)
        print(f"repeat {rep}: initial model {time.perf_counter() - t0:.1f} s; {held.sum()} held-out rows "
              f"({len(held_p)} polymers), top-1% = {len(top)} rows", file=sys.stderr)
        for strat in strategies:
            ts = time.perf_counter()
            queried = np.zeros(N, dtype=bool)
            have_p = np.zeros(P, dtype=bool)
            have_s = np.zeros(len(pool.solvents), dtype=bool)
            spent = 0.0
            curve = []

            def query(rows):
                nonlocal spent
                for r in rows:
                    if not have_p[pool.pi[r]]:
                        spent += cost_p[pool.pi[r]]
                        have_p[pool.pi[r]] = True
                    if not have_s[pool.si[r]]:
                        spent += cost_s[pool.si[r]]
                        have_s[pool.si[r]] = True
                    spent += 0.001
                queried[rows] = True

            query(init)
            ens = ens0
            for cyc in range(args.cycles + 1):
                q = np.flatnonzero(queried)
                d = replace(data, tasks={**data.tasks, "chi_oracle": TaskRows(
                    gp[q], gs[q], pool.T[q], y[q], np.array([f"{a}_{b}" for a, b in zip(gp[q], gs[q])]), q)})
                ens = finetune(ens, d, args.steps, 1e-3, mcfg, seed=1000 * rep + cyc)
                post = pool.posterior(ens, "chi_oracle")
                rmse = float(np.sqrt(np.mean((post.mean[held] - y[held]) ** 2)))
                curve.append({"cycle": cyc, "calls": int(queried.sum()), "compute_s": spent, "rmse": rmse,
                              "frac_queried": float(queried[~held].mean()), "recall_top1": float(queried[top].mean())})
                if cyc == args.cycles:
                    break
                ctx = SelectContext(exclude=queried | held, polymer_of=pool.pi, solvent_of=pool.si,
                                    max_per_polymer=args.cap, max_per_solvent=args.cap, seed=1000 * rep + cyc,
                                    beta=2.0, cost=CostModel(pool.pi, pool.si, have_p, have_s, cc))
                sel = select(strat, post, args.batch, ctx)
                query(sel.rows)
            results[strat].append(curve)
            print(f"  {strat:10s} rep {rep}: RMSE {curve[0]['rmse']:.3f} -> {curve[-1]['rmse']:.3f}, calls {curve[-1]['calls']}, "
                  f"compute {curve[-1]['compute_s']:.0f} s, top-1% recall {curve[-1]['recall_top1']:.2f} "
                  f"({time.perf_counter() - ts:.0f} s)", file=sys.stderr)
    total = time.perf_counter() - t_all
    return summarize(results, args, N, P, len(pool.solvents), total)


def _first_reach(curve, key, target):
    for c in curve:
        if c["rmse"] <= target:
            return c[key]
    return None


def summarize(results, args, N, P, S, total) -> dict:
    mean_curve = {s: {k: np.mean([[c[k] for c in rep] for rep in reps], 0).tolist()
                      for k in ("calls", "compute_s", "rmse", "frac_queried", "recall_top1")} for s, reps in results.items()}
    out = {"pool_rows": N, "polymers": P, "solvents": S, "repeats": args.repeats, "cycles": args.cycles,
           "batch": args.batch, "init": args.init, "steps_per_cycle": args.steps, "seconds": round(total, 1),
           "curves": mean_curve}
    if "random" in mean_curve:
        target = mean_curve["random"]["rmse"][-1]
        rc, rs = mean_curve["random"]["calls"][-1], mean_curve["random"]["compute_s"][-1]
        reach = {}
        for s, c in mean_curve.items():
            pts = [{"rmse": r, "calls": a, "compute_s": b} for r, a, b in zip(c["rmse"], c["calls"], c["compute_s"])]
            calls, secs = _first_reach(pts, "calls", target), _first_reach(pts, "compute_s", target)
            reach[s] = {"calls_frac_of_random": None if calls is None else calls / rc,
                        "compute_frac_of_random": None if secs is None else secs / rs}
        out["random_final_rmse"] = target
        out["reach_random_final_rmse"] = reach
        best = min((v["calls_frac_of_random"] for k, v in reach.items() if k != "random" and v["calls_frac_of_random"] is not None), default=None)
        out["goal_best_calls_le_50pct"] = best is not None and best <= 0.5
        ca = reach.get("cost_aware", {}).get("compute_frac_of_random")
        out["goal_cost_aware_compute_le_50pct"] = ca is not None and ca <= 0.5
    rec = {s: c["recall_top1"][-1] for s, c in mean_curve.items()}
    fq = {s: c["frac_queried"][-1] for s, c in mean_curve.items()}
    out["final_recall_top1"] = rec
    out["final_frac_queried"] = fq
    # first fraction of the pool queried at which >= 90 % of the top-1 % rows are found
    first90 = {s: next((f for f, r in zip(c["frac_queried"], c["recall_top1"]) if r >= 0.9), None)
               for s, c in mean_curve.items()}
    out["frac_queried_at_recall_90pct"] = first90
    out["goal_recall_90pct_within_10pct"] = any(f is not None and f <= 0.10 for f in first90.values())
    return out


def plot(out: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    for s, c in out["curves"].items():
        ax[0].plot(c["calls"], c["rmse"], ".-", label=s)
        ax[1].plot(c["compute_s"], c["rmse"], ".-", label=s)
        ax[2].plot(c["frac_queried"], c["recall_top1"], ".-", label=s)
    ax[0].set_xlabel("oracle calls")
    ax[1].set_xlabel("oracle compute, s")
    ax[1].set_xscale("log")
    for a in ax[:2]:
        a.set_ylabel("RMSE, held-out polymers (oracle chi)")
    ax[2].set_xlabel("fraction of pool queried")
    ax[2].set_ylabel("recall of top-1% lowest chi")
    ax[0].legend(fontsize=8)
    fig.suptitle(f"AL retrospective: {out['pool_rows']} rows, {out['repeats']} repeats, {out['cycles']} cycles x {out['batch']}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--store", default=None, help="oracle profile store (default: $CHISCREEN_CACHE/oracle)")
    p.add_argument("--solvents", type=int, default=40)
    p.add_argument("--max-new", type=int, default=0, help="compute at most this many missing polymer profiles")
    r = sub.add_parser("run")
    r.add_argument("--pool", help="prepared pool Parquet (default: the latest `prepare` output)")
    r.add_argument("--strategies", default="random,greedy,max_std,ucb,cost_aware")
    r.add_argument("--repeats", type=int, default=3)
    r.add_argument("--cycles", type=int, default=10)
    r.add_argument("--batch", type=int, default=50)
    r.add_argument("--init", type=int, default=50)
    r.add_argument("--steps", type=int, default=150, help="fine-tune steps per cycle")
    r.add_argument("--init-steps", type=int, default=800)
    r.add_argument("--cap", type=int, default=10, help="max rows per polymer / solvent in a batch")
    r.add_argument("--max-rows", type=int, default=0, help="subsample polymers to about this many rows (0: all)")
    r.add_argument("--plot", default="al_retrospective.png")
    args = ap.parse_args(argv)
    if args.cmd == "prepare":
        prepare(args)
        return 0
    out = run(args)
    plot(out, Path(args.plot))
    Path(args.plot).with_suffix(".json").write_text(json.dumps(out, indent=1, default=float))
    for s, c in out["curves"].items():
        print(f"{s:10s} final RMSE {c['rmse'][-1]:.3f} after {c['calls'][-1]:.0f} calls / {c['compute_s'][-1]:.0f} s; "
              f"top-1% recall {c['recall_top1'][-1]:.2f} at {100 * c['frac_queried'][-1]:.1f}% queried")
    if "reach_random_final_rmse" in out:
        for s, v in out["reach_random_final_rmse"].items():
            fc = "never" if v["calls_frac_of_random"] is None else f"{100 * v['calls_frac_of_random']:.0f}%"
            fs = "never" if v["compute_frac_of_random"] is None else f"{100 * v['compute_frac_of_random']:.0f}%"
            print(f"{s:10s} reaches random's final RMSE {out['random_final_rmse']:.3f} with {fc} of random's calls, {fs} of its compute")
    print(f"plot: {args.plot} (curves: {Path(args.plot).with_suffix('.json')}); total {out['seconds']} s")
    compact = {k: v for k, v in out.items() if k != "curves"}
    print(json.dumps(compact, default=float))
    return 0


if __name__ == "__main__":
    sys.exit(main())
