"""``chiscreen screen``: run or resume a sharded polymer x solvent x temperature screen."""
from __future__ import annotations

import argparse
import logging
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "screen",
        help="screen every polymer x solvent x temperature of two catalogs (Ray or in-process)",
        description="Score every polymer x solvent x temperature of two catalogs with the ensemble, keep what "
                    "the query asks for, write one Parquet file per shard (resumable) under --out.",
    )
    add_arguments(p)
    p.set_defaults(func=run)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``chiscreen screen``; ``jobs/screen.py`` takes exactly the same."""
    p.add_argument("--config", required=True, help="screen config YAML (e.g. configs/screen-demo.yaml)")
    p.add_argument("--out", help="results folder or filesystem URI (overrides the config's out)")
    p.add_argument("--engine", choices=["ray", "plain"], help="override engine.kind")
    p.add_argument("--model", help="model artifact directory (overrides the config's model)")
    p.add_argument("--ray-address", "--address", dest="ray_address",
                   help="Ray cluster address (default: the current Ray job's cluster, else an embedded local Ray)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an output folder that holds a different screen, or write into a non-empty folder "
                        "chiscreen does not own (only files a screen writes are removed; others are kept)")
    p.add_argument("--take-over", action="store_true",
                   help="take over the stale lock of an interrupted run of this folder (a killed process)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.add_argument("--trust-unsigned", action="store_true",
                   help="load a model artifact that carries no artifact_hash (unverifiable; default: refuse)")


def load_job(args: argparse.Namespace):
    """The ScreenConfig of ``--config`` with the command-line overrides applied."""
    from chiscreen.config import load_config
    from chiscreen.screen.job import ScreenConfig

    from chiscreen.cli.validate import config_file

    config_file(args.config, "--config")
    cfg = load_config(args.config, ScreenConfig)
    if args.engine:
        cfg.engine.kind = args.engine
    if args.model:
        cfg.model = args.model
    if args.ray_address:
        cfg.ray_address = args.ray_address
    return cfg


def run(args: argparse.Namespace) -> int:
    from chiscreen.model import load_ensemble
    from chiscreen.report.text import format_result
    from chiscreen.screen.job import run_screen

    cfg = load_job(args)
    precheck(cfg, args.out, source=args.config)
    # a corrupt or unsigned artifact fails here, before Ray or featurization
    ens = load_ensemble(cfg.model, trust_unsigned=getattr(args, "trust_unsigned", False))
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    res = run_screen(cfg, out=args.out, overwrite=args.overwrite, progress=not args.no_progress,
                     take_over=args.take_over, ensemble=ens, trust_unsigned=args.trust_unsigned)
    print(format_result(res))
    return 0


def _check_dataset(path, what: str) -> None:
    """A Parquet file or folder of part files: readable, with rows, and a built catalog or a
    'smiles' column (read from the schema and the row counts only)."""
    from chiscreen.catalogs.catalog import CORE_COLUMNS, _parquet_dataset
    from chiscreen.errors import ConfigError, MissingColumnError

    from chiscreen.errors import InvalidInputError

    d = _parquet_dataset(path)  # InvalidInputError naming the file
    try:
        n = d.count_rows()
    except Exception as exc:  # a corrupt part file
        raise InvalidInputError(f"{what}: cannot read {path}: {' '.join(str(exc).split())[:300]}") from None
    if n == 0:
        raise ConfigError(f"{what}: {path} has no rows")
    names = list(d.schema.names)
    if not all(c in names for c in CORE_COLUMNS) and "smiles" not in names:
        raise MissingColumnError(f"{what}: {path} has no 'smiles' column (got {names})")


def precheck(cfg, out: str | None, source: str = "config") -> None:
    """What a screen needs, checked before the model loads or Ray starts: the output location,
    the temperatures, and every polymer a selective query names (looked up in the polymer
    catalog, which costs a second; the screen itself would find a typo only at its very end)."""
    from chiscreen.cli.validate import output_dir
    from chiscreen.errors import ConfigError, InvalidInputError
    from chiscreen.units import parse_temperatures

    output_dir(out or cfg.out, "--out" if out else f"{source}: out")
    try:
        parse_temperatures(cfg.temperatures)
    except InvalidInputError as exc:
        raise ConfigError(f"{source}: temperatures: {exc}") from None
    from chiscreen.errors import MissingColumnError
    from chiscreen.catalogs.catalog import is_catalog, read_source, resolve_path

    for kind, loc in (("polymers", cfg.polymers), ("solvents", cfg.solvents)):
        if "://" in str(loc):
            continue
        path = resolve_path(loc)
        if path.is_dir() or (path.is_file() and path.suffix.lower() in (".parquet", ".pq")):
            _check_dataset(path, f"{source}: {kind}")  # a Parquet dataset: schema and row count, not its rows
            continue
        if not path.is_file():
            raise ConfigError(f"{source}: {kind}: {loc} does not exist")
        if path.stat().st_size == 0:
            raise ConfigError(f"{source}: {kind}: {path} is empty")
        try:
            df = read_source(path)   # encoding, separator, empty table: named errors
        except UnicodeDecodeError:  # a .smi / .txt SMILES list
            from chiscreen.data.tables import not_utf8_error

            raise not_utf8_error(path, header=False) from None
        if len(df) == 0:
            raise ConfigError(f"{source}: {kind}: {path} has no rows")
        if not is_catalog(df) and "smiles" not in df.columns:
            raise MissingColumnError(f"{source}: {kind}: {path} has no 'smiles' column (got {list(df.columns)})")
    selective = list(getattr(cfg.query, "selective", None) or [])
    if not selective:
        return
    from chiscreen.catalogs.catalog import open_catalog
    from chiscreen.screen.featurize import PolymerRows

    pol = PolymerRows(open_catalog(cfg.polymers, "polymer")[0])  # batch by batch, never one frame
    for sq in selective:
        try:
            if sq.temperatures:
                parse_temperatures(sq.temperatures)
            pol.lookup(list(sq.dissolve) + list(sq.exclude), "polymer")
        except InvalidInputError as exc:
            raise ConfigError(f"{source}: query.selective {sq.name!r}: {exc}") from None
