"""Ray job entrypoint: the oracle data campaign (profiles per molecule, then chi_oracle labels).

    ray job submit --address http://127.0.0.1:8265 --working-dir . -- \\
        python jobs/oracle_campaign.py --config configs/oracle-campaign.yaml --out /abs/path/oracle-campaign
    python jobs/oracle_campaign.py --config configs/oracle-campaign.yaml --out runs/oracle-campaign   # local Ray

    # relabel a campaign's stored profiles with another COSMO-SAC parameter set (no xtb; seconds)
    python jobs/oracle_campaign.py relabel --out runs/oracle-campaign --param-set xtbfit-2 --output FILE

    # data-choice arms: N new enumerated polymers by diversity / the AL loop (UCB) / random
    python jobs/oracle_campaign.py arms --config configs/oracle-campaign-arms.yaml --out runs/oracle-arms

Inside ``ray job submit`` the profiles run on the job's cluster (``chiscreen.runtime.connect_ray``:
address "auto"); run directly, an embedded local Ray with ``run.num_cpus`` CPUs is started and stopped.
A killed run resumes where it stopped when started again with the same ``--out`` (``--take-over``
for the lock a killed run left). Exit code 2 with a one-line message on bad input.
"""
from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before torch loads: see chiscreen.screen


def _note_relative(out: str, what: str = "--out") -> None:
    if os.environ.get("RAY_JOB_ID") and out and not os.path.isabs(out):
        print(f"jobs/oracle_campaign.py: note: {what} {out!r} is relative, so it lands in this job's copy of the "
              f"working dir ({os.getcwd()}); pass an absolute path to keep results", file=sys.stderr, flush=True)


def _campaign_parser(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--config", required=True, help="campaign YAML (configs/oracle-campaign.yaml)")
    ap.add_argument("--out", required=True, help="output folder (resumed when it holds a campaign)")
    ap.add_argument("--param-set", help="COSMO-SAC parameter set of the labels (overrides the config's params)")
    ap.add_argument("--store", help="profile store folder (overrides the config's store)")
    ap.add_argument("--backend", choices=["ray", "process"], help="override run.backend")
    ap.add_argument("--address", help="Ray address (default: 'auto' inside a Ray job, else a local Ray)")
    ap.add_argument("--enum-cache", help="Parquet file caching the full polymer enumeration (shared between runs)")
    ap.add_argument("--max-wall-s", type=float, help="wall-time budget of the profile step (override run.max_wall_s): "
                    "what is left is reported as not run and the table is written from what is stored")
    ap.add_argument("--overwrite", action="store_true", help="start the folder afresh (removes only campaign files)")
    ap.add_argument("--take-over", action="store_true", help="take over the stale lock of a killed run")
    ap.add_argument("--no-progress", action="store_true")


def _load(args):
    from chiscreen.qc.campaign import load_campaign_config

    cfg = load_campaign_config(args.config)
    if getattr(args, "store", None):
        cfg.store = args.store
    if getattr(args, "backend", None):
        cfg.run.backend = args.backend
    if getattr(args, "address", None):
        cfg.run.address = args.address
    if getattr(args, "max_wall_s", None) is not None:
        cfg.run.max_wall_s = args.max_wall_s
    if getattr(args, "no_progress", False):
        cfg.run.progress = False
    return cfg


def cmd_run(args, command: str) -> int:
    from chiscreen.qc.campaign import run_campaign

    cfg = _load(args)
    _note_relative(args.out)
    try:
        res = run_campaign(cfg, args.out, overwrite=args.overwrite, take_over=args.take_over,
                           progress=cfg.run.progress, param_set=args.param_set, enum_cache=args.enum_cache,
                           command=command)
    finally:
        if cfg.run.backend == "ray":
            from chiscreen.runtime import shutdown_ray

            shutdown_ray()
    m = res.manifest
    print(f"oracle campaign: {res.table}: {m['rows']} rows, {m['pairs']} pairs, "
          f"{m['molecules']['profiled_this_run']} profiles computed, {m['molecules']['failed']} failed, "
          f"{m['molecules']['not_run']} not run, "
          f"{m['wall_s']['total_this_run']:.0f} s; manifest {os.path.join(res.out, 'manifest.json')}")
    return 0


def cmd_relabel(args, command: str) -> int:
    from chiscreen.qc.campaign import relabel

    path, table = relabel(args.out, param_set=args.param_set, output=args.output, store=args.store, command=command)
    print(f"oracle campaign relabel: wrote {path} ({len(table)} rows, parameter set "
          f"{table['param_set'].iloc[0] if len(table) else args.param_set})")
    return 0


def al_pick(candidates: list[str], n: int, solvents: list[str], temperatures_K: list[float], model: str | None = None,
            beta: float = 2.0, chunk: int = 200) -> "pd.DataFrame":
    """The AL arm: rank candidate polymers by the AL loop's best acquisition on the model's posterior.

    The acquisition is UCB (``chiscreen.al.acquisition.ucb_scores``: -mean + beta * calibrated std, beta 2),
    the best strategy of the AL retrospective (lowest final held-out RMSE, docs/closing notes). Each
    candidate polymer's pairs are polymer x ``solvents`` x ``temperatures_K`` (the rows its arm would
    label); a polymer's score is the MEAN of UCB over those rows; the top ``n`` (ties: candidate order)
    are picked. The posterior is :meth:`chiscreen.al.pool.CandidatePool.posterior` of task chi_oracle,
    which for a model without a chi_oracle head (the shipped one) is its chi_exp head
    (``chiscreen.al.adapters.model_task``). Returns polymer, score, mean_chi, mean_std, rows (sorted)."""
    import numpy as np
    import pandas as pd

    from chiscreen.al.acquisition import SelectContext, ucb_scores
    from chiscreen.al.pool import CandidatePool
    from chiscreen.model import load_ensemble

    ens = load_ensemble(model)
    out = []
    for a in range(0, len(candidates), chunk):
        part = candidates[a:a + chunk]
        pool = CandidatePool.from_product(part, solvents, temperatures_K)
        pool.featurize(featurizer=ens.featurizer, representation=ens.polymer_representation, progress=False)
        post = pool.posterior(ens, task="chi_oracle")
        ucb = ucb_scores(post, SelectContext(beta=beta))
        df = pd.DataFrame({"pi": pool.pi, "ucb": ucb, "mean": post.mean, "std": post.std})
        g = df.groupby("pi").agg(score=("ucb", "mean"), mean_chi=("mean", "mean"), mean_std=("std", "mean"),
                                 rows=("ucb", "size"))
        g["polymer"] = [pool.polymers[i] for i in g.index]
        g["order"] = a + g.index.to_numpy()
        out.append(g.reset_index(drop=True))
        print(f"oracle arms: AL posterior {min(a + chunk, len(candidates))}/{len(candidates)} polymers",
              file=sys.stderr, flush=True)
    res = pd.concat(out, ignore_index=True).sort_values(["score", "order"], ascending=[False, True], kind="stable")
    res["task_head"] = "chi_oracle" if "chi_oracle" in ens.tasks else "chi_exp"
    return res.reset_index(drop=True)


def cmd_arms(args, command: str) -> int:
    import numpy as np
    import pandas as pd

    from chiscreen.errors import InvalidInputError
    from chiscreen.qc.campaign import (arm_candidates, diverse_pick, random_pick, reference_molecules, run_arms,
                                       solvent_set, write_table, catalog_molecules)

    cfg = _load(args)
    _note_relative(args.out)
    arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    bad = set(arms) - {"diversity", "al", "random"}
    if bad:
        raise InvalidInputError(f"--arms: unknown arm(s) {sorted(bad)}; expected diversity, al, random")
    os.makedirs(args.out, exist_ok=True)
    sel_path = os.path.join(args.out, "arms.parquet")
    if os.path.isfile(sel_path):  # resume: the arms never change once chosen
        sel = pd.read_parquet(sel_path)
        print(f"oracle arms: resuming with the arms of {sel_path}", file=sys.stderr, flush=True)
    else:
        exclude = list(reference_molecules()[0])
        if cfg.polymers.catalog:
            exclude += [k for k, _ in catalog_molecules(cfg.polymers.catalog, "polymer")]
        if args.campaign:
            mp = os.path.join(args.campaign, "molecules.parquet")
            if not os.path.isfile(mp):
                raise InvalidInputError(f"--campaign {args.campaign}: no molecules.parquet (not a campaign folder)")
            m = pd.read_parquet(mp)
            exclude += m.loc[m["kind"] == "polymer", "smiles"].tolist()
        exclude = list(dict.fromkeys(exclude))
        cand = arm_candidates(cfg, exclude, args.enum_cache)
        units = cand["canonical"].tolist()
        print(f"oracle arms: {len(units)} candidate enumerated polymers (<= {cfg.polymers.max_atoms} atoms/unit, "
              f"not among {len(exclude)} reference/catalog/campaign polymers); {args.n} per arm",
              file=sys.stderr, flush=True)
        rows = []
        if "diversity" in arms:
            for r, p in enumerate(diverse_pick(units, args.n, exclude, cfg.polymers.featurizer,
                                               cfg.polymers.representation, cfg.polymers.seed)):
                rows.append(("diversity", r, p, np.nan))
        if "random" in arms:
            for r, p in enumerate(random_pick(units, args.n, args.seed)):
                rows.append(("random", r, p, np.nan))
        if "al" in arms:
            solv = solvent_set(cfg)["smiles"].tolist()
            ranked = al_pick(units, args.n, solv, list(cfg.temperatures_K), args.model)
            write_table(ranked, os.path.join(args.out, "al_scores.parquet"))
            for r, (p, sc) in enumerate(zip(ranked["polymer"][:args.n], ranked["score"][:args.n])):
                rows.append(("al", r, p, float(sc)))
        sel = pd.DataFrame(rows, columns=["arm", "rank", "polymer", "score"])
        names = dict(zip(cand["canonical"], cand["name"]))
        sel["name"] = sel["polymer"].map(names)
        sel["rule"] = sel["polymer"].map(dict(zip(cand["canonical"], cand["rule"])))
        sel["atoms"] = sel["polymer"].map(dict(zip(cand["canonical"], cand["atoms"])))
        write_table(sel, sel_path, {"command": command, "n": args.n, "seed": args.seed,
                                    "candidates": len(units), "excluded": len(exclude)})
    overlap = {f"{a}&{b}": len(set(sel.polymer[sel.arm == a]) & set(sel.polymer[sel.arm == b]))
               for i, a in enumerate(arms) for b in arms[i + 1:]}
    print(f"oracle arms: chosen -> {sel_path}; overlaps {overlap}", file=sys.stderr, flush=True)
    if args.select_only:
        return 0
    n_have = min(int((sel["arm"] == a).sum()) for a in arms)
    if args.n > n_have:
        raise InvalidInputError(f"{sel_path} holds {n_have} polymers per arm; --n {args.n} asks for more "
                                "(choose anew in another --out)")
    # the first n of each arm's order (k-center, UCB rank and the random draw are all prefix-consistent),
    # so a smaller --n on resume gives equal, smaller arms without choosing again
    by_arm = {a: sel.loc[(sel["arm"] == a) & (sel["rank"] < args.n)].sort_values("rank")["polymer"].tolist()
              for a in arms}
    try:
        res = run_arms(cfg, args.out, by_arm, subdir=f"n{args.n}", take_over=args.take_over, param_set=args.param_set, command=command,
                       names=dict(zip(sel["polymer"], sel["name"])))
    finally:
        if cfg.run.backend == "ray":
            from chiscreen.runtime import shutdown_ray

            shutdown_ray()
    for a, r in res.items():
        m = r.manifest
        print(f"oracle arm {a}: {r.table}: {m['rows']} rows, {m['molecules']['with_profile']} molecules with a "
              f"profile, {m['molecules']['failed']} failed")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = "python jobs/oracle_campaign.py " + " ".join(shlex.quote(a) for a in argv)
    sub = argv[0] if argv and argv[0] in ("run", "relabel", "arms") else "run"
    if argv and argv[0] == sub:
        argv = argv[1:]
    ap = argparse.ArgumentParser(prog=f"jobs/oracle_campaign.py {sub}", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    if sub == "relabel":
        ap.add_argument("--out", required=True, help="the campaign folder whose molecules are relabelled")
        ap.add_argument("--param-set", required=True, help="parameter set: shipped name (xtbfit-1, sac2010) or JSON")
        ap.add_argument("--output", help="label table to write (default OUT/relabel/chi_oracle-NAME.parquet)")
        ap.add_argument("--store", help="profile store folder (default: the campaign's)")
    else:
        _campaign_parser(ap)
    if sub == "arms":
        ap.add_argument("--n", type=int, default=40, help="new polymers per arm")
        ap.add_argument("--arms", default="diversity,al,random", help="comma-separated arms")
        ap.add_argument("--campaign", help="campaign folder whose polymers the arms must not repeat")
        ap.add_argument("--seed", type=int, default=0, help="seed of the random arm")
        ap.add_argument("--model", help="model artifact of the AL arm (default: the shipped model)")
        ap.add_argument("--select-only", action="store_true", help="choose and write the arms, profile nothing")
    args = ap.parse_args(argv)

    from chiscreen.errors import ChiscreenError

    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    try:
        return {"run": cmd_run, "relabel": cmd_relabel, "arms": cmd_arms}[sub](args, command)
    except ChiscreenError as exc:
        print(f"jobs/oracle_campaign.py: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
