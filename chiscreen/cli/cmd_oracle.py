"""``chiscreen oracle``: chi(T) from GFN2-xTB -> COSMO -> COSMO-SAC (the open oracle).

The single-pair report names the profile method and the COSMO-SAC parameter set; with a fitted
set it also gives the raw chi of the 2010 literature constants and the set's polymer-grouped CV
error against experiment as the uncertainty.

    chiscreen oracle --polymer '*CC(*)c1ccccc1' --solvent 'Cc1ccccc1' --temp 25C [--json]
    chiscreen oracle batch pairs.csv --out runs/oracle [--temps 25C,60C] [--backend ray]
    chiscreen oracle batch pairs.csv --output chi.csv ...        # one table instead of a folder

PAIRS_FILE (CSV or Parquet) has columns ``polymer_smiles`` (repeat unit with two '*') and
``solvent_smiles``, and ``temperature_K`` (or ``temperature_C``) unless ``--temps`` gives a list
(units required) applied to every pair; the old spellings ``polymer`` / ``solvent`` / ``temp`` (strings with unit
like "25C", bare numbers Kelvin) are read with a note. ``run.timeout_s`` (or ``--timeout``) limits every molecule in single and batch mode
alike. ``--out DIR`` writes a folder
(chi.parquet, summary.json, manifest.json; chiscreen's output-folder rules: locked while written,
``--overwrite`` removes only what chiscreen wrote); ``--output FILE`` (.csv or .parquet) writes one
table. Either way one row per (pair, T) in the columns of :mod:`chiscreen.schema`
(polymer_smiles, solvent_smiles, temperature_K, chi, spread, status, reason, ...;
:func:`chiscreen.qc.results.label_rows` turns it into training label rows); Parquet tables carry
the oracle's method version and chiscreen's versions in their metadata. The old
``--out FILE.csv`` still writes that file, with a deprecation note.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from chiscreen.cli.validate import positive_float, positive_int, worker_count
from chiscreen.errors import InvalidInputError, MissingColumnError

_SPEC_FLAGS = {"engine": "engine", "conformers": "n_conformers", "combine": "combine",
               "seed": "seed"}


def register(sub) -> None:
    p = sub.add_parser(
        "oracle", help="chi(T) from GFN2-xTB -> COSMO-SAC (open quantum-chemistry oracle)",
        description="Flory-Huggins chi of a polymer/solvent pair from GFN2-xTB sigma profiles "
                    "and COSMO-SAC 2010. Profiles are cached in a store, so a second call for "
                    "the same molecules takes milliseconds. Subcommand 'batch' runs a file of pairs.")
    _common(p)
    p.add_argument("--polymer", help="polymer repeat unit SMILES with two '*'")
    p.add_argument("--solvent", help="solvent SMILES")
    p.add_argument("--temp", help="temperature with its unit, e.g. 25C, -10C or 298.15K")
    p.add_argument("--timeout", type=positive_float,
                   help="seconds per molecule (default: run.timeout_s of the config)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_single)
    osub = p.add_subparsers(dest="oracle_command", metavar="SUBCOMMAND")
    b = osub.add_parser("batch", help="chi for a file of pairs x temperatures",
                        description="chi for every row of PAIRS_FILE (columns polymer_smiles, solvent_smiles, "
                                    "temperature_K) or every pair x --temps; failures are rows with a reason.")
    _common(b)
    b.add_argument("pairs_file", metavar="PAIRS_FILE", help="CSV or Parquet with polymer_smiles, solvent_smiles[, temperature_K]")
    b.add_argument("--out", help="results folder (chi.parquet, summary.json, manifest.json)")
    b.add_argument("--output", help="one output table instead of a folder (.csv or .parquet)")
    b.add_argument("--overwrite", action="store_true",
                   help="replace earlier results in --out (only files chiscreen wrote are removed)")
    b.add_argument("--take-over", action="store_true", help="take over the stale lock of an interrupted run")
    b.add_argument("--temps", help="comma-separated temperatures with units for every pair, e.g. 25C,-10C,333.15K")
    b.add_argument("--backend", choices=("ray", "process", "serial"),
                   help="where profiles run (default ray: a local Ray runtime is started)")
    b.add_argument("--workers", type=worker_count, help="parallel workers (Ray tasks in flight / processes)")
    b.add_argument("--timeout", type=positive_float, help="seconds per molecule and attempt")
    b.add_argument("--no-progress", action="store_true", help="no progress bar")
    b.set_defaults(func=run_batch)


def _common(p) -> None:
    p.add_argument("--config", help="oracle YAML config (see configs/oracle-default.yaml)")
    p.add_argument("--store", help="profile store folder (default $CHISCREEN_CACHE/oracle)")
    from chiscreen.qc.engines import DEFAULT_ENGINE, ENGINES

    p.add_argument("--engine", choices=ENGINES.keys(),
                   help=f"xtb engine (default {DEFAULT_ENGINE}; tblite adds atomic dipoles)")
    p.add_argument("--conformers", type=positive_int, help="conformers per molecule")
    p.add_argument("--combine", choices=("mean", "boltzmann", "lowest"), help="conformer combination")
    p.add_argument("--seed", type=int, help="RDKit embedding seed")
    p.add_argument("--calibration", help="calibration JSON: also report calibrated chi")
    p.add_argument("--params", help="COSMO-SAC parameter set: a shipped name (sac2010 = the 2010 "
                                    "literature constants, xtbfit-1 = fitted to experimental chi, "
                                    "xtbfit-2 = the same plus the water split, the default) or a "
                                    "parameter-set JSON")


def _oracle(args, batch: bool):
    """Build the Oracle and RunOptions from --config plus command-line overrides."""
    import dataclasses

    from chiscreen.qc import Calibration, Oracle, ProfileSpec, ProfileStore
    from chiscreen.qc.config import load_oracle_config

    if args.config:
        from chiscreen.cli.validate import config_file

        config_file(args.config, "--config")
    cfg = load_oracle_config(args.config)
    over = {field: getattr(args, flag) for flag, field in _SPEC_FLAGS.items()
            if getattr(args, flag, None) is not None}
    spec = ProfileSpec.from_dict({**cfg.profile.to_dict(), **over})
    run = cfg.run
    if batch:
        run_over = {k: v for k, v in (("backend", args.backend), ("workers", args.workers),
                                      ("timeout_s", args.timeout)) if v is not None}
        if args.backend is None and args.config is None:
            run_over["backend"] = "ray"  # batch default: Ray tasks (started here, the entrypoint)
        if args.no_progress:
            run_over["progress"] = False
        run = dataclasses.replace(run, **run_over)
    else:
        # one pair: the time limit applies here too, which needs a worker process that can be
        # stopped (C code in this process cannot be interrupted); no limit -> in-process
        timeout = args.timeout if args.timeout is not None else run.timeout_s
        run = dataclasses.replace(run, backend="process" if timeout is not None else "serial",
                                  workers=1, timeout_s=timeout, progress=False)
    store = ProfileStore(Path(args.store).expanduser() if args.store else cfg.store_path())
    cal_path = args.calibration or cfg.calibration
    cal = Calibration.load(cal_path) if cal_path else None
    params = getattr(args, "params", None) or cfg.params
    return Oracle(spec, store, cal, params=params), run


def run_single(args) -> int:
    from chiscreen.chem import RepeatUnit, Solvent
    from chiscreen.units import parse_cli_temperature

    missing = [f"--{n}" for n in ("polymer", "solvent", "temp") if not getattr(args, n)]
    if missing:
        raise InvalidInputError(f"chiscreen oracle needs {', '.join(missing)} (or use 'oracle batch')")
    t = parse_cli_temperature(args.temp, "--temp")
    RepeatUnit.from_smiles(args.polymer)  # bad input raises here: exit code 2
    Solvent.from_smiles(args.solvent)
    oracle, run = _oracle(args, batch=False)
    res = oracle.chi(args.polymer, args.solvent, t, options=run)
    info = {**res.to_dict(), "t_celsius": round(t - 273.15, 4), "engine": oracle.spec.engine,
            "method_version": oracle.spec.method_version,
            "n_conformers": oracle.spec.n_conformers, "store": str(oracle.store.root)}
    par = oracle.params
    cv = par.provenance.get("cv", {}) if par.provenance else {}
    if res.ok and par.name != "sac2010":
        from chiscreen.qc import Oracle

        raw = Oracle(oracle.spec, oracle.store, params="sac2010").chi(args.polymer, args.solvent, t)
        info["chi_raw_sac2010"] = raw.chi
        if cv:
            info["cv_mae"], info["cv_rmse"] = cv.get("mae"), cv.get("rmse")
            info["cv_note"] = (f"{cv.get('folds')}-fold {cv.get('grouping')}-grouped CV error of "
                               f"{par.name} against experimental chi")
    if args.json:
        print(json.dumps(info))
    elif res.ok:
        line = (f"chi = {res.chi:.4f} +- {res.spread:.4f} (conformer spread) at {t:.2f} K "
                f"({t - 273.15:.2f} C)")
        if res.chi_calibrated is not None:
            line += f"; calibrated {res.chi_calibrated:.4f}"
        print(line)
        if "chi_raw_sac2010" in info:
            unc = (f"; expected error vs experiment +- {cv['mae']:.2f} (MAE, RMSE "
                   f"{cv['rmse']:.2f}, {cv['folds']}-fold polymer-grouped CV)"
                   if cv.get("mae") is not None else "")
            print(f"  parameter set {par.version}{unc}; raw (2010 literature constants) chi = "
                  f"{info['chi_raw_sac2010']:.4f}")
        else:
            print(f"  parameter set {par.version} (no fit to experiment: no error estimate)")
        print(f"  polymer {res.polymer}  solvent {res.solvent}  engine {oracle.spec.engine}  "
              f"profiles {oracle.spec.method_version}")
    else:
        print(f"chiscreen oracle: no chi: {res.reason}: {res.message}", file=sys.stderr)
    return 0 if res.ok else 1


def _read_table(path: Path):
    from chiscreen.cli.validate import TABLE_SUFFIXES, input_file
    from chiscreen.data import read_table

    input_file(path, "PAIRS_FILE", TABLE_SUFFIXES)
    df = read_table(path)
    if len(df) == 0:
        raise InvalidInputError(f"pairs file {path}: the table has no rows")
    return df


def run_batch(args) -> int:
    import pandas as pd

    from chiscreen.cli.validate import output_dir, output_file
    from chiscreen.schema import POLYMER_SMILES, SOLVENT_SMILES, TEMPERATURE_C, TEMPERATURE_K, rename_old
    from chiscreen.units import parse_cli_temperatures, parse_temperature

    path = Path(args.pairs_file)
    # everything the user gave is checked before Ray starts or a molecule is computed
    target = _batch_target(args)
    if target[0] == "file":
        output_file(target[1], "--output" if args.output else "--out")
    else:
        output_dir(target[1], "--out")
    temps = parse_cli_temperatures(args.temps, "--temps") if args.temps else None
    df = rename_old(_read_table(path), source=str(path))  # old polymer / solvent / temp: a note
    for col in (POLYMER_SMILES, SOLVENT_SMILES):
        if col not in df.columns:
            raise MissingColumnError(f"{path} lacks column {col!r}; columns are {list(df.columns)}")
    if temps is not None:
        rows = [(p, s, t) for p, s in zip(df[POLYMER_SMILES], df[SOLVENT_SMILES]) for t in temps]
    elif TEMPERATURE_K in df.columns or TEMPERATURE_C in df.columns:
        col = TEMPERATURE_K if TEMPERATURE_K in df.columns else TEMPERATURE_C
        rows = []
        for i, (p, s, t) in enumerate(zip(df[POLYMER_SMILES], df[SOLVENT_SMILES], df[col])):
            try:
                rows.append((p, s, parse_temperature(f"{t}C" if col == TEMPERATURE_C else t)))
            except InvalidInputError as exc:
                raise InvalidInputError(f"{path} row {i}: {exc}") from None
    else:
        raise MissingColumnError(f"{path} has no {TEMPERATURE_K} (or temperature_C, or old 'temp') column and no "
                                 "--temps was given")
    oracle, run = _oracle(args, batch=True)
    owned = None
    if target[0] == "dir":
        from chiscreen.runtime import OwnedDir

        owned = OwnedDir(target[1], "oracle-batch", BATCH_FILES, overwrite=args.overwrite,
                         take_over=args.take_over).open()  # checked and locked before the expensive part
        if owned.state == "owned":
            if not args.overwrite:
                owned.release()
                raise InvalidInputError(f"{owned} holds the results of an earlier oracle batch; choose another "
                                        "--out, or pass --overwrite to replace them (other files are kept)")
            owned.clear()
    try:
        if run.backend == "ray":
            from chiscreen.qc.parallel import init_ray

            init_ray(num_cpus=run.workers)
        results = oracle.chi_rows([(str(p), str(s), t) for p, s, t in rows], run)
        table = pd.DataFrame([{"polymer_input": p, "solvent_input": s, **r.to_dict()}
                              for (p, s, _), r in zip(rows, results)])
        table["t_celsius"] = table[TEMPERATURE_K] - 273.15
        table["engine"] = oracle.spec.engine
        table["method_version"] = oracle.spec.method_version
        n_ok = int((table.status == "ok").sum())
        if owned is not None:
            out = Path(owned.root) / "chi.parquet"
            _write_table(table, out, oracle)
            from chiscreen.io import atomic_write_text

            failed = {str(k): int(v) for k, v in table[table.status != "ok"].reason.value_counts().items()}
            atomic_write_text(Path(owned.root) / "summary.json", json.dumps(
                {"rows": len(table), "ok": n_ok, "failed": failed, "pairs_file": str(path),
                 "engine": oracle.spec.engine, "method_version": oracle.spec.method_version}, indent=2) + "\n")
            owned.write_manifest({"pairs_file": str(path), "rows": len(table), "engine": oracle.spec.engine,
                                  "method_version": oracle.spec.method_version})
        else:
            out = target[1]
            _write_table(table, out, oracle)
    finally:
        if owned is not None:
            owned.release()
    print(f"chiscreen oracle batch: {n_ok}/{len(table)} rows with chi written to {out}",
          file=sys.stderr)
    for reason, n in table[table.status != "ok"].reason.value_counts().items():
        print(f"  {n} rows failed: {reason}", file=sys.stderr)
    return 0


BATCH_FILES = ["manifest.json", "chi.parquet", "summary.json"]
_TABLE_SUFFIXES = (".csv", ".parquet", ".pq")


def _batch_target(args) -> tuple[str, Path]:
    """("dir", folder) for ``--out DIR``, ("file", path) for ``--output FILE`` or the deprecated
    ``--out FILE.csv``. Checked before any computation."""
    if bool(args.out) == bool(args.output):
        raise InvalidInputError("oracle batch needs exactly one of --out DIR (a results folder) or "
                                "--output FILE (one .csv or .parquet table)")
    if args.out:
        out = Path(args.out)
        if out.suffix.lower() in _TABLE_SUFFIXES and not out.is_dir():
            print(f"chiscreen oracle batch: note: '--out {args.out}' naming a table is deprecated and will "
                  f"stop working; use '--output {args.out}' (--out now names a folder)", file=sys.stderr)
            return _file_target(out)
        return "dir", out
    return _file_target(Path(args.output))


def _file_target(out: Path) -> tuple[str, Path]:
    if out.is_dir():
        raise InvalidInputError(f"--output {out} is a folder; give a file name, or use --out {out} for a folder")
    if out.suffix.lower() not in _TABLE_SUFFIXES:
        raise InvalidInputError(f"--output {out}: expected a .csv or .parquet file name (use --out DIR for a folder)")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        raise InvalidInputError(f"--output {out}: cannot write under {parent}")
    return "file", out


def _write_table(table, out: Path, oracle) -> None:
    import pyarrow as pa

    from chiscreen.io import atomic_path
    from chiscreen.runtime import table_metadata, with_metadata

    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        if out.suffix.lower() in (".parquet", ".pq"):
            meta = table_metadata(None, writer="oracle-batch", engine=oracle.spec.engine,
                                  method_version=oracle.spec.method_version)
            import pyarrow.parquet as pq

            pq.write_table(with_metadata(pa.Table.from_pandas(table, preserve_index=False), meta), tmp)
        else:
            table.to_csv(tmp, index=False)
