"""``chiscreen`` entry point. Subcommands are discovered from ``chiscreen/cli/cmd_*.py``.

Every failure the user can cause ends the same way: one line on stderr,
``chiscreen COMMAND: error: ...`` naming the row, key or file, and exit code 2 (no traceback).
That covers ChiscreenError from the library, argparse's own errors and, as a last line of
defence, operating-system errors on a path the user gave (unwritable or missing files).
"""
from __future__ import annotations

import argparse
import errno
import importlib
import os
import pkgutil
import re
import sys

# Before torch loads: with OpenMP's default busy-wait, 2-thread torch on a loaded 2-core machine
# collapsed ~20x (measured in the screening engine); passive waiting costs nothing when idle.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import chiscreen
from chiscreen.errors import ChiscreenError

#: options whose value may start with '-' (negative Celsius): ``--temp -10C`` works like ``--temp=-10C``
VALUE_OPTIONS_ALLOWING_DASH = ("--temp", "--temps", "--temperature", "--temperatures", "--tmin", "--tmax")
_NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d)")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error (``chiscreen predict: error: ...``) and exit code 2."""

    def error(self, message: str):  # noqa: D401 - argparse API
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def join_negative_values(argv: list[str]) -> list[str]:
    """``["--temp", "-10C"]`` -> ``["--temp=-10C"]`` for the options of
    :data:`VALUE_OPTIONS_ALLOWING_DASH`: argparse would take ``-10C`` for an option. jobs/ scripts
    with their own parsers can call this too."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in VALUE_OPTIONS_ALLOWING_DASH and i + 1 < len(argv) and _NEGATIVE_VALUE.match(argv[i + 1]):
            out.append(f"{tok}={argv[i + 1]}")
            i += 2
            continue
        out.append(tok)
        i += 1
    return out


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="chiscreen",
        description="Polymer-solvent miscibility: Flory-Huggins chi and solubility, predicted and screened.",
    )
    parser.add_argument("--version", action="version", version=f"chiscreen {chiscreen.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    import chiscreen.cli as pkg

    for mod in sorted(m.name for m in pkgutil.iter_modules(pkg.__path__) if m.name.startswith("cmd_")):
        importlib.import_module(f"chiscreen.cli.{mod}").register(sub)
    return parser


def _one_line(text: str) -> str:
    """The message on one line (multi-line library messages are joined with '; ')."""
    return "; ".join(part.strip() for part in str(text).splitlines() if part.strip())


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(join_negative_values(list(sys.argv[1:] if argv is None else argv)))
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    name = " ".join(x for x in (args.command, getattr(args, f"{args.command}_command", None)) if x)
    try:
        return int(args.func(args) or 0)
    except ChiscreenError as exc:
        print(f"chiscreen {name}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except OSError as exc:
        # A path the user gave that cannot be read or written (the specific checks of each command
        # catch most of these before any work starts; this is the last line of defence). Other
        # OS errors (sockets, ...) are bugs or environment trouble: they keep their traceback.
        if exc.filename is None and exc.errno not in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
            raise
        where = exc.filename if exc.filename is not None else ""
        what = exc.strerror or type(exc).__name__
        print(f"chiscreen {name}: error: {where}{': ' if where else ''}{what}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"chiscreen {name}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
