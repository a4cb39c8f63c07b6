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
    from chiscreen.report.html import write_folder_report

    print(f"wrote {write_folder_report(args.folder, args.output)}")
    return 0
