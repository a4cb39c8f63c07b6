"""``chiscreen report --from DIR [--output FILE]``: a self-contained HTML report of any results folder
(a screen, an AL run, a campaign): its JSON summaries with provenance, the first rows of its tables,
every PNG embedded."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("report", help="self-contained HTML report of a results folder (screen, AL run, campaign)")
    p.add_argument("--from", dest="folder", required=True, help="results folder")
    p.add_argument("--output", help="HTML file to write (default: DIR/report.html)")
    p.set_defaults(func=run)


def run(args) -> int:
    from chiscreen.cli.validate import output_file
    from chiscreen.report.html import write_folder_report

    from pathlib import Path

    from chiscreen.errors import InvalidInputError

    if not Path(args.folder).is_dir():
        raise InvalidInputError(f"--from {args.folder}: not a results folder (no such folder)")
    if args.output:
        output_file(args.output, "--output", (".html", ".htm"))

    print(f"wrote {write_folder_report(args.folder, args.output)}")
    return 0
