"""``chiscreen catalog build|enumerate``: polymer and solvent catalogs for screening."""
from __future__ import annotations

import argparse
import json
import sys
import time


def register(subparsers) -> None:
    p = subparsers.add_parser("catalog", help="build or enumerate polymer / solvent catalogs (Parquet)",
                              description="Catalogs are Parquet tables (id, name, smiles, canonical, status, "
                                          "reason, ...) that `chiscreen screen` reads.")
    sub = p.add_subparsers(dest="catalog_command", metavar="ACTION")

    b = sub.add_parser("build", help="validate and canonicalize a CSV / TSV / Parquet table or SMILES list",
                       description="Invalid rows are kept with status=invalid and a reason; duplicates (same "
                                   "canonical identity) with status=duplicate. Counts are printed.")
    b.add_argument("input", help="CSV/TSV/Parquet with a SMILES column, or a .smi/.txt list (SMILES [name])")
    b.add_argument("--kind", required=True, choices=["polymer", "solvent"],
                   help="polymer: repeat units with two '*'; solvent: molecules")
    b.add_argument("--smiles-column", default="smiles")
    b.add_argument("--name-column", default="name")
    b.add_argument("--greenness", action="store_true",
                   help="solvents: join the GSK solvent-guide G-score from the reference data where present")
    b.add_argument("--jobs", type=int, default=1, help="worker processes for canonicalization")
    _output(b)
    b.set_defaults(func=run_build)

    e = sub.add_parser("enumerate", help="combinatorial polymers from monomer building blocks",
                       description="Vinyl polymers from substituents, polyesters (diacid x diol), polyamides "
                                   "(diacid x diamine), polycarbonates, polyurethanes, polyureas and polyimides, "
                                   "deduplicated by canonical repeat-unit identity.")
    e.add_argument("--blocks", help="building-block folder (default: catalogs/building_blocks)")
    e.add_argument("--rules", default="all", help="comma-separated rules or 'all'")
    e.add_argument("--limit", type=int, help="stop after this many generated units")
    e.add_argument("--jobs", type=int, default=2, help="worker processes that build and canonicalize the units")
    _output(e)
    e.add_argument("--no-progress", action="store_true")
    e.set_defaults(func=run_enumerate)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def _output(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output", metavar="FILE", help="output Parquet file (the catalog: one table)")
    p.add_argument("--out", dest="out_old", metavar="FILE", help=argparse.SUPPRESS)  # old spelling


def _output_path(args: argparse.Namespace) -> str:
    """--output FILE (one table, as every chiscreen command that writes one table); the old
    ``--out FILE`` still works with a note."""
    from chiscreen.errors import InvalidInputError

    if args.output and args.out_old:
        raise InvalidInputError("give --output FILE only (--out is its old spelling)")
    if args.out_old:
        print(f"chiscreen catalog: note: --out {args.out_old} is the old spelling of --output (one table); "
              "use --output", file=sys.stderr)
        return args.out_old
    if not args.output:
        raise InvalidInputError("chiscreen catalog needs --output FILE (the catalog's Parquet file)")
    return args.output


def run_build(args: argparse.Namespace) -> int:
    from chiscreen.catalogs.catalog import build_catalog, join_greenness, read_source, write_catalog

    output = _output_path(args)
    df = read_source(args.input)
    cat, rep = build_catalog(df, args.kind, smiles_column=args.smiles_column, name_column=args.name_column,
                             n_jobs=args.jobs, progress=sys.stderr.isatty(), source=str(args.input))
    if args.greenness and args.kind == "solvent":
        cat = join_greenness(cat)
    path = write_catalog(cat, output)
    print(f"catalog: {rep}")
    bad = cat[cat["status"] != "ok"]
    for _, row in bad.head(10).iterrows():
        print(f"  row {row['id']} {row['status']}: {row['reason']}")
    if len(bad) > 10:
        print(f"  ... {len(bad) - 10} more (see the status and reason columns)")
    print(f"wrote {path}")
    return 0


def run_enumerate(args: argparse.Namespace) -> int:
    from chiscreen.catalogs.catalog import write_catalog
    from chiscreen.catalogs.enumerate import RULES, enumerate_polymers

    output = _output_path(args)
    rules = RULES if args.rules == "all" else tuple(r.strip() for r in args.rules.split(",") if r.strip())
    t0 = time.perf_counter()
    df, rep = enumerate_polymers(args.blocks, rules=rules, n_jobs=args.jobs, limit=args.limit,
                                 progress=not args.no_progress)
    path = write_catalog(df, output)
    print(f"enumerate: {rep} in {time.perf_counter() - t0:.1f} s ({args.jobs} process(es))")
    for r in rep.rejected_blocks:
        print(f"  rejected building block: {r}")
    print(json.dumps(rep.to_dict()["per_rule"]))
    print(f"wrote {path}")
    return 0
