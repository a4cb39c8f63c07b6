"""``chiscreen evaluate``: official splits or leave-polymer-out cross-validation of a training config.

    chiscreen evaluate --splits official --json results/official.json --out results/official
    chiscreen evaluate --splits polymer  --json results/lpo.json      --out results/lpo

Each fold trains a fresh ensemble with the config (default configs/train-oracle.yaml, the shipped
model's, or the shipped model's own training config outside a checkout) and predicts the held-out experimental chi; COSMO-RS values of
data_COSMO.csv are scored on the same rows. Writes a JSON summary, per-row predictions (CSV) and
parity plots (PNG).
"""
from __future__ import annotations

import time
from pathlib import Path

from chiscreen.cli.validate import positive_int


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="evaluate a training config on the official splits or leave-polymer-out CV")
    p.add_argument("--splits", required=True, choices=["official", "polymer", "solubility"],
                   help="official: the five predefined splits; polymer: GroupKFold(5) by polymer, pooled; "
                        "solubility: polymer-grouped hold-out of the curated solubility labels")
    p.add_argument("--config", default=None, help="training config YAML (default configs/train-oracle.yaml, the shipped model's; else the artifact's)")
    p.add_argument("--json", required=True, help="write the metrics summary here")
    p.add_argument("--out", default=None, help="directory for per-row predictions and parity plots")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--members", type=positive_int, default=None, help="override n_members (fewer = faster)")
    p.add_argument("--folds", type=int, default=5, help="folds for --splits polymer (default 5)")
    p.add_argument("--trust-unsigned", action="store_true",
                   help="with no --config: read the training config of a shipped model that carries no artifact_hash (unverifiable; default: refuse)")
    p.add_argument("--overwrite", action="store_true",
                   help="write --out into a non-empty folder chiscreen does not own (its other files are kept)")
    p.add_argument("--lenient", action="store_true",
                   help="keep auxiliary (computed chi, solubility) rows of held-out pairs/polymers in training")
    p.add_argument("--oracle-labels", choices=["refit", "as-shipped"], default="refit",
                   help="configs with the chi_oracle task: refit (default, strict) recomputes the oracle labels per "
                        "fold with the oracle recipe refitted on the fold's training rows only (needs the stored "
                        "profiles); as-shipped keeps the table's labels, whose parameter set saw every polymer "
                        "(optimistic)")
    p.add_argument("--oracle-store", default=None,
                   help="profile store for the per-fold oracle refit (default $CHISCREEN_CACHE/oracle)")
    p.add_argument("--oracle-fit-cache", default=None,
                   help="folder of cached per-fold oracle refits (default $CHISCREEN_CACHE/oracle-fits)")
    p.set_defaults(func=run)


#: the training config of the shipped model (chiscreen/assets/default_model)
SHIPPED_CONFIG = "train-oracle.yaml"


def _config(path, trust_unsigned: bool = False):
    from chiscreen.config import from_dict, load_config
    from chiscreen.model import TrainConfig
    from chiscreen.paths import project_root

    if path:
        return load_config(path, TrainConfig)
    root = project_root()
    if root is not None and (root / "configs" / SHIPPED_CONFIG).is_file():
        return load_config(root / "configs" / SHIPPED_CONFIG, TrainConfig)
    from chiscreen.model import load_ensemble

    tc = dict(load_ensemble(trust_unsigned=trust_unsigned).train_config)
    return from_dict(TrainConfig, tc)


def run(args) -> int:
    from chiscreen.cli.validate import config_file, output_dir, output_file, training_tables

    if args.config:
        config_file(args.config, "--config")
    cfg = _config(args.config, args.trust_unsigned)   # unknown keys and wrong types raise here
    training_tables(cfg.data, args.config or "training config")
    output_file(args.json, "--json", (".json",))
    if args.out:
        output_dir(args.out, "--out")
    if args.splits == "polymer" and args.folds < 2:
        from chiscreen.errors import InvalidInputError

        raise InvalidInputError(f"--folds {args.folds}: expected at least 2 folds")
    if args.seed is not None:
        cfg.seed = args.seed
    if args.members is not None:
        cfg.n_members = args.members
    owned = None
    if args.out:  # checked and locked before the expensive part
        from chiscreen.runtime import OwnedDir

        owned = OwnedDir(args.out, "evaluate", EVALUATE_FILES, overwrite=args.overwrite).open()
    try:
        return _run(args, cfg, owned)
    finally:
        if owned is not None:
            owned.release()


#: files an evaluation writes into --out
EVALUATE_FILES = ["official_predictions.csv", "polymer_cv_predictions.csv", "parity_*.png"]


def _run(args, cfg, owned) -> int:
    from chiscreen.model.data import load_training_data
    from chiscreen.model.evaluate import (evaluate_grouped, evaluate_official, parity_plot, solubility_holdout,
                                          summarize, write_json)

    t0 = time.perf_counter()
    data = load_training_data(cfg.data, progress=True)
    out = Path(owned.root) if owned is not None else None
    strict = not args.lenient
    oracle = None
    if "chi_oracle" in data.tasks and args.oracle_labels == "refit":
        from chiscreen.model.fold_oracle import FoldOracle

        oracle = FoldOracle(data, store=args.oracle_store, fit_cache=args.oracle_fit_cache, log=print)
        print(f"chi_oracle labels refitted per fold from {oracle.rl.store!r} "
              f"({oracle.n_pairs_with_profiles} of {oracle.n_pairs} oracle pairs have profiles)")
    if args.splits == "solubility":
        res = {"solubility": solubility_holdout(cfg, data, seed=cfg.seed, oracle=oracle)}
    elif args.splits == "official":
        pred = evaluate_official(cfg, data, strict=strict, log=print, oracle=oracle)
        res = summarize(pred, "split")
        _print_table(res, "split")
        if out:
            pred.to_csv(out / "official_predictions.csv", index=False)
            parity_plot(pred, out / "parity_official.png", "official splits (5 test sets pooled)")
            for k in sorted(pred["split"].unique()):
                parity_plot(pred[pred["split"] == k], out / f"parity_official_split{k}.png", f"official split {k}")
    else:
        pred = evaluate_grouped(cfg, data, by="polymer", n_splits=args.folds, seed=cfg.seed, strict=strict, log=print,
                                oracle=oracle)
        res = summarize(pred, "fold")
        p, c = res["pooled"], res["pooled_cosmo_rs"]
        print(f"leave-polymer-out (GroupKFold({args.folds}), pooled): R2 {p['r2']:.3f} RMSE {p['rmse']:.3f} MAE {p['mae']:.3f} "
              f"(n={p['n']}); COSMO-RS on its {c['n']} rows: R2 {c['r2']:.3f} RMSE {c['rmse']:.3f}; "
              f"model on those rows R2 {res['pooled_model_on_cosmo_rows']['r2']:.3f}")
        if out:
            pred.to_csv(out / "polymer_cv_predictions.csv", index=False)
            parity_plot(pred, out / "parity_leave_polymer_out.png", f"leave-polymer-out GroupKFold({args.folds}), pooled")
    res["config"] = {"seed": cfg.seed, "n_members": cfg.n_members, "strict": strict,
                     "tasks": cfg.data.tasks, "representation": cfg.data.polymer_representation,
                     "featurizer": cfg.data.featurizer}
    if "chi_oracle" in data.tasks:
        res["config"]["oracle_labels"] = args.oracle_labels
        if oracle is not None:
            res["oracle_fold_fits"] = oracle.fits
    res["wall_seconds"] = time.perf_counter() - t0
    write_json(res, args.json)
    if owned is not None:
        owned.write_manifest({"splits": args.splits, "json": str(args.json), "config": res["config"]})
    print(f"wrote {args.json}" + (f" and predictions/plots to {out}" if out else ""))
    return 0


def _print_table(res: dict, by: str) -> None:
    print(f"{'split':>5} {'n':>4} {'R2':>6} {'RMSE':>6} {'MAE':>6} | COSMO-RS {'n':>4} {'R2':>6} {'RMSE':>6} {'MAE':>6} | model on COSMO rows R2")
    for p in res["per_split"]:
        c = p["cosmo_rs"]
        print(f"{p[by]:>5} {p['n']:>4} {p['r2']:6.3f} {p['rmse']:6.3f} {p['mae']:6.3f} |          {c['n']:>4} {c['r2']:6.3f} "
              f"{c['rmse']:6.3f} {c['mae']:6.3f} | {p['model_on_cosmo_rows']['r2']:.3f}")
    m, c = res["mean"], res["mean_cosmo_rs"]
    print(f" mean      {m['r2']:6.3f} {m['rmse']:6.3f} {m['mae']:6.3f} |               {c['r2']:6.3f} {c['rmse']:6.3f} {c['mae']:6.3f} | "
          f"{res['mean_model_on_cosmo_rows']['r2']:.3f}")
    u = res.get("uncertainty_raw", {})
    if u:
        print(f"uncertainty (raw ensemble std): coverage 1sd {u['coverage_1sd']:.2f}, 2sd {u['coverage_2sd']:.2f}, "
              f"Spearman(std, |err|) {u['spearman_std_abs_err']:.2f}, 68% scale factor {u['scale_68']:.2f}")
