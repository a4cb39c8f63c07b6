"""``chiscreen data info|fetch``: where the reference data is, and downloading it."""
from __future__ import annotations

import json
from pathlib import Path


_FILES = {
    "mtl_chi/data_Chi.csv": "experimental chi",
    "mtl_chi/data_COSMO.csv": "COSMO-RS chi",
    "mtl_chi/splits.json": "official splits",
    "polysol/df_atactic_NOPE_nr_norad_nomol.csv": "solubility labels",
    "hansen/hsp_cvetkovic.csv": "Hansen parameters",
    "solvents/gsk_solvent_guide.csv": "GSK solvent guide",
    "solvents/solvent_properties.csv": "solvent properties",
}


def register(sub) -> None:
    p = sub.add_parser("data", help="reference data: info, fetch")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    i = dsub.add_parser("info", help="print where the reference data was found, with row counts")
    i.add_argument("--json", action="store_true", help="machine-readable output")
    i.set_defaults(func=info)
    f = dsub.add_parser("fetch", help="download the reference data (hash-checked) into the user cache")
    f.add_argument("--out", default=None, help="destination folder (default: user cache)")
    f.set_defaults(func=fetch)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def _rows(path: Path) -> int | None:
    if path.suffix == ".json":
        d = json.loads(path.read_text())
        return len(d.get("test", []))
    with open(path, "rb") as fh:
        return max(0, sum(1 for _ in fh) - 1)


def info(args) -> int:
    from chiscreen.data.locator import candidate_dirs

    found = []
    for label, d in candidate_dirs():
        exists = d.is_dir()
        files = {}
        if exists:
            for rel, what in _FILES.items():
                p = d / rel
                files[rel] = {"what": what, "rows": _rows(p) if p.exists() else None}
        found.append({"where": label, "path": str(d), "exists": exists, "files": files})
    if args.json:
        print(json.dumps(found, indent=2))
        return 0
    in_use = next((f for f in found if f["exists"] and f["files"].get("mtl_chi/data_Chi.csv", {}).get("rows")), None)
    for f in found:
        mark = "(in use)" if f is in_use else "(found)" if f["exists"] else "(absent)"
        print(f"{f['where']}: {f['path']} {mark}")
        for rel, v in f["files"].items():
            rows = "missing" if v["rows"] is None else f"{v['rows']} rows" if not rel.endswith(".json") else f"{v['rows']} splits"
            print(f"    {rel:45s} {v['what']:20s} {rows}")
    if not any(f["exists"] and any(v["rows"] for v in f["files"].values()) for f in found):
        print("no reference data found: run `chiscreen data fetch` or set CHISCREEN_DATA")
    return 0


def fetch(args) -> int:
    from chiscreen.data.fetch import fetch as do_fetch

    if args.out:
        from chiscreen.cli.validate import output_dir

        output_dir(args.out, "--out")
    paths = do_fetch(args.out)
    for p in paths:
        print(f"fetched {p}")
    print(f"reference data in {Path(paths[0]).parents[1]}")
    return 0
