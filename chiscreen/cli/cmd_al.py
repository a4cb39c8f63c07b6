"""``chiscreen al``: active-learning runs.

    chiscreen al init   --config configs/al-demo.yaml --run DIR    pool, eval set, initial model
    chiscreen al cycle  --run DIR [--cycles N] [--acquisition NAME] [--budget SECONDS] [--batch N] [--take-over]
    chiscreen al status --run DIR [--json]                          cycles, metrics, oracle calls, compute s
    chiscreen al import --run DIR rows.csv                          lab chi(T) / soluble rows with provenance

The newest model of a run is ``DIR/model`` (``chiscreen predict --model DIR/model``).
"""
from __future__ import annotations

import json


def register(sub) -> None:
    from chiscreen.registry import Registry  # noqa: F401  (keeps the CLI import light)

    p = sub.add_parser("al", help="active learning: choose oracle calculations where the model is unsure, retrain")
    s = p.add_subparsers(dest="al_command", metavar="SUBCOMMAND")
    a = s.add_parser("init", help="create a run directory: candidate pool, evaluation polymers, initial model")
    a.add_argument("--config", required=True, help="AL config YAML (e.g. configs/al-demo.yaml)")
    a.add_argument("--run", required=True, help="run directory to create (must not exist or be empty)")
    a.set_defaults(func=_init)
    c = s.add_parser("cycle", help="run the next cycle(s): select -> oracle -> retrain -> evaluate -> report (resumes)")
    c.add_argument("--run", required=True, help="run directory (from `chiscreen al init`)")
    c.add_argument("--cycles", type=int, default=1, help="cycles to run (default %(default)s)")
    c.add_argument("--acquisition", help="override the config's acquisition function for these cycles")
    c.add_argument("--budget", type=float, help="override the oracle compute budget per cycle, seconds")
    c.add_argument("--batch", type=int, help="override the batch size")
    c.add_argument("--take-over", action="store_true",
                   help="take over the stale lock left by a killed cycle of this run (then resume it)")
    c.set_defaults(func=_cycle)
    t = s.add_parser("status", help="table of the run's cycles")
    t.add_argument("--run", required=True)
    t.add_argument("--json", action="store_true", help="print the metrics of every cycle as JSON")
    t.set_defaults(func=_status)
    i = s.add_parser("import", help="add lab measurements (chi at T, or soluble) with who/method/date")
    i.add_argument("--run", required=True)
    i.add_argument("rows", help="CSV/Parquet: polymer_smiles, solvent_smiles, temperature_K|temperature_C, chi|soluble, who, method, date")
    i.set_defaults(func=_import)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1] if not getattr(args, "al_command", None) else 0)


def _init(args) -> int:
    from chiscreen.al import ALRun

    run = ALRun.init(args.config, args.run)
    print(f"al init: run directory {run.path} (next: chiscreen al cycle --run {run.path})")
    return 0


def _cycle(args) -> int:
    from chiscreen.al import ALRun
    from chiscreen.errors import ConfigError

    if args.cycles < 1:
        raise ConfigError(f"--cycles {args.cycles}: expected >= 1")
    run = ALRun(args.run)
    for _ in range(args.cycles):
        m = run.cycle(acquisition=args.acquisition, budget_s=args.budget, batch_size=args.batch, take_over=args.take_over)
        print(f"al cycle {m['cycle']}: wrote {run.cycle_dir(m['cycle'])}, model {run.model_dir(m['cycle'])} "
              f"(newest: {run.path / 'model'})")
    return 0


def _status(args) -> int:
    from chiscreen.al import ALRun
    from chiscreen.al.summary import status_table

    run = ALRun(args.run)
    hist = run.history()
    if args.json:
        print(json.dumps(hist, indent=2, default=float))
        return 0
    man = run.manifest
    labs = run.oracle_labels.read()
    print(f"run {run.path}: {run.state()['cycles_done']} cycle(s) done; pool {man['pool_rows']} rows; "
          f"{len(labs)} oracle rows ({int((labs['status'] == 'ok').sum()) if len(labs) else 0} ok); "
          f"lab rows {len(run.lab_labels.read())}; oracle {man['method_version']} ({man['engine']}), "
          f"COSMO-SAC parameters {man.get('param_set', '?')}")
    print(f"evaluation polymers ({'in' if man['eval_in_training'] else 'excluded from'} training): {', '.join(man['eval_polymers'])}")
    print(status_table(hist))
    print(f"newest model: {run.path / 'model'}; report: {run.path / 'report' / 'metrics.png'}")
    return 0


def _import(args) -> int:
    from chiscreen.al import ALRun
    from chiscreen.al.importer import import_lab_rows

    run = ALRun(args.run)
    run.validate()
    path, n, new = import_lab_rows(run, args.rows)
    print(f"al import: {n} lab row(s) {'added to' if new else 'already in'} {path}; the next cycle trains on them")
    return 0
