"""``chiscreen phase --polymer P --solvent S [--mw 100000] --out DIR``: binodal and spinodal over T."""
from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("phase", help="Flory-Huggins phase diagram (binodal, spinodal, UCST/LCST) with the ensemble band")
    p.add_argument("--polymer", required=True, help="catalog name / abbreviation (PS, iPP) or repeat unit SMILES")
    p.add_argument("--solvent", required=True, help="solvent SMILES, e.g. C1CCCCC1")
    p.add_argument("--mw", type=float, default=1e5, help="polymer molar mass in g/mol (default %(default)g)")
    p.add_argument("--tmin", default="-50C", help="lowest temperature with unit (default %(default)s)")
    p.add_argument("--tmax", default="250C", help="highest temperature with unit (default %(default)s)")
    p.add_argument("--out", required=True, help="results folder (phase.csv, phase.png, campaign.json, manifest.json)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an earlier phase diagram in --out, or write into a non-empty folder "
                        "(only files named like its outputs are replaced; others are kept)")
    p.add_argument("--take-over", action="store_true", help="take over the stale lock of an interrupted run")
    p.add_argument("--model", help="model artifact directory (default: the shipped model)")
    p.set_defaults(func=run)


def run(args) -> int:
    from chiscreen.campaigns.phase import phase_diagram
    from chiscreen.units import parse_temperature

    res = phase_diagram(args.polymer, args.solvent, mw=args.mw, t_min_K=parse_temperature(args.tmin),
                        t_max_K=parse_temperature(args.tmax), out=args.out, overwrite=args.overwrite, model=args.model,
                        take_over=args.take_over)
    print(res.text)
    return 0
