"""``chiscreen`` entry point. Subcommands are discovered from ``chiscreen/cli/cmd_*.py``."""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys

# Before torch loads: with OpenMP's default busy-wait, 2-thread torch on a loaded 2-core machine
# collapsed ~20x (measured in the screening engine); passive waiting costs nothing when idle.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import chiscreen
from chiscreen.errors import ChiscreenError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chiscreen",
        description="Polymer-solvent miscibility: Flory-Huggins chi and solubility, predicted and screened.",
    )
    parser.add_argument("--version", action="version", version=f"chiscreen {chiscreen.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import chiscreen.cli as pkg

    for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith("cmd_")):
        importlib.import_module(f"chiscreen.cli.{mod}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except ChiscreenError as exc:
        print(f"chiscreen {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"chiscreen {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
