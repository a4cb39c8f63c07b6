"""``chiscreen canon SMILES...``: canonical repeat-unit identity, one per line."""
from __future__ import annotations

import sys

from chiscreen.chem import RepeatUnit
from chiscreen.errors import ChiscreenError


def register(sub) -> None:
    p = sub.add_parser("canon", help="canonical identity of polymer repeat units (two '*')",
                       description="Print the canonical repeat-unit SMILES of each input, one per line. "
                       "Invariant to where the unit is cut, its direction and its length in periods.")
    p.add_argument("smiles", nargs="+", help="repeat units, e.g. '*CC(*)c1ccccc1'")
    p.set_defaults(func=run)


def run(args) -> int:
    rc = 0
    for s in args.smiles:
        try:
            print(RepeatUnit.from_smiles(s).canonical)
        except ChiscreenError as exc:
            print(f"chiscreen canon: error: {exc}", file=sys.stderr)
            rc = 2
    return rc
