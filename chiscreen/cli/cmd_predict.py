"""``chiscreen predict``: chi(T), its uncertainty, P(soluble) and a miscibility verdict.

One pair:   chiscreen predict --polymer '*CC(*)c1ccccc1' --solvent 'Cc1ccccc1' --temp 25C [--mw 100000] [--json]
A table:    chiscreen predict --input pairs.csv --output predictions.parquet
            (columns polymer_smiles, solvent_smiles, temperature_K or temperature_C; optional
            n_ratio, mw, dp; every input row is kept, in order, with status and reason)
"""
from __future__ import annotations

import json
import math
import time

from chiscreen.cli.validate import positive_float
from chiscreen.errors import InvalidInputError


def register(sub) -> None:
    p = sub.add_parser("predict", help="predict chi(T), P(soluble) and a verdict for one pair or a table of pairs")
    p.add_argument("--polymer", help="repeat unit SMILES with two '*', e.g. '*CC(*)c1ccccc1', or a catalog name / "
                                     "abbreviation such as PS or iPP (carries its melting facts)")
    p.add_argument("--solvent", help="solvent SMILES, e.g. 'Cc1ccccc1'")
    p.add_argument("--temp", default="25C", help="temperature with its unit: 25C, -10C or 298.15K (default %(default)s)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--mw", type=positive_float, help="polymer molar mass in g/mol (sets chi_c; default: long-chain limit 0.5)")
    g.add_argument("--dp", type=positive_float, help="degree of polymerisation (sets chi_c)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument("--input", help="CSV/Parquet table of pairs (batch mode)")
    p.add_argument("--output", help="batch output file (.csv or .parquet)")
    p.add_argument("--model", default=None, help="model artifact directory (default: the shipped model)")
    p.add_argument("--trust-unsigned", action="store_true",
                   help="load a model artifact that carries no artifact_hash (unverifiable; default: refuse)")
    p.set_defaults(func=run)


_SHOWN = {"chi_mean", "chi_std", "A_mean", "A_std", "B_mean", "B_std", "chi_comp_mean", "chi_comp_std",
          "p_soluble", "p_soluble_std", "chi_c", "verdict"}


def _fmt(x: float, nd: int = 3) -> str:
    return "nan" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{nd}f}"


def run(args) -> int:
    # the model layer (torch) is imported only once the input is known to be good
    from chiscreen.units import parse_cli_temperature

    if args.input or args.output:
        if not (args.input and args.output):
            raise InvalidInputError("batch mode needs both --input FILE and --output FILE")
        if args.polymer or args.solvent:
            raise InvalidInputError("give either --polymer/--solvent or --input/--output, not both")
        from chiscreen.cli.validate import TABLE_SUFFIXES, input_file, output_file
        from chiscreen.data import read_table, write_table
        from chiscreen.data.tables import normalize_pairs

        # everything the user gave is checked before the model loads
        input_file(args.input, "--input", TABLE_SUFFIXES)
        output_file(args.output, "--output", (".csv", ".parquet", ".pq"))
        t0 = time.perf_counter()
        table = read_table(args.input)
        if len(table) == 0:
            raise InvalidInputError(f"--input {args.input}: the table has no rows")
        normalize_pairs(table.head(0), strict=False, source=str(args.input))  # columns, before the model loads
        from chiscreen.model import artifact_hash, load_ensemble
        from chiscreen.model.predict import predict_table

        ens = load_ensemble(args.model, trust_unsigned=args.trust_unsigned)
        out = predict_table(ens, table, progress=True, source=str(args.input))
        from chiscreen.runtime import table_metadata

        write_table(out, args.output, metadata=table_metadata(artifact_hash(ens), writer="predict"))
        counts = out["status"].value_counts().to_dict()
        print(f"predicted {len(out)} rows ({', '.join(f'{v} {k}' for k, v in counts.items())}) in "
              f"{time.perf_counter() - t0:.1f} s with {ens.n_members}-member model {artifact_hash(ens)}; wrote {args.output}")
        return 0
    if not (args.polymer and args.solvent):
        raise InvalidInputError("give --polymer and --solvent (or --input and --output for a table)")
    from chiscreen.catalogs.facts import polymer_facts, resolve_polymer
    from chiscreen.chem import RepeatUnit, Solvent

    prow = resolve_polymer(args.polymer)     # catalog name / abbreviation / SMILES; clear error otherwise
    polymer_smiles = str(prow["smiles"])
    RepeatUnit.from_smiles(polymer_smiles)   # raise a clear error for a bad SMILES
    Solvent.from_smiles(args.solvent)
    t_k = parse_cli_temperature(args.temp, "--temp")
    from chiscreen.model import artifact_hash, load_ensemble
    from chiscreen.model.predict import predict_pairs, result_columns

    ens = load_ensemble(args.model, trust_unsigned=args.trust_unsigned)
    df = predict_pairs(ens, [polymer_smiles], [args.solvent], t_k, mw=args.mw, dp=args.dp,
                       polymer_facts=polymer_facts(prow))
    r = df.iloc[0]
    if r["status"] != "ok":
        from chiscreen.errors import FeaturizationError

        raise FeaturizationError(f"cannot predict {args.polymer} in {args.solvent}: {r['reason']}")
    res = {
        "polymer_smiles": args.polymer, "solvent_smiles": args.solvent, "temperature_K": t_k,
        "chi_mean": float(r["chi_mean"]), "chi_std": float(r["chi_std"]),
        "A_mean": float(r["A_mean"]), "A_std": float(r["A_std"]), "B_mean_K": float(r["B_mean"]), "B_std_K": float(r["B_std"]),
        "chi_comp_mean": float(r["chi_comp_mean"]), "chi_comp_std": float(r["chi_comp_std"]),
        "p_soluble": float(r["p_soluble"]), "p_soluble_std": float(r["p_soluble_std"]),
        "chi_c": float(r["chi_c"]), "verdict": r["verdict"],
        "polymer": str(prow.get("abbreviation") or args.polymer),
        "dissolves": r["dissolves"], "T_dissolve_K": float(r["T_dissolve_K"]),
        "T_dissolve_lo_K": float(r["T_dissolve_lo_K"]), "T_dissolve_hi_K": float(r["T_dissolve_hi_K"]),
        "above_boiling": r["above_boiling"], "dissolve_reason": r["dissolve_reason"],
        **{c: float(r[c]) for c in result_columns(ens.tasks) if c not in _SHOWN},   # further tasks
        "model": {"source": ens.source, "artifact_hash": artifact_hash(ens), "n_members": ens.n_members,
                  "std_scale": ens.std_scale},
    }
    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    cc = "long-chain limit" if args.mw is None and args.dp is None else ("from Mw" if args.mw else "from DP")
    name = f" ({prow.get('abbreviation')}: {prow.get('name')})" if isinstance(prow.get("name"), str) \
        and prow.get("name") != args.polymer else ""
    print(f"polymer   {polymer_smiles}{name}\nsolvent   {args.solvent}\nT         {t_k:.2f} K ({t_k - 273.15:.2f} C)")
    print(f"chi(T)    {_fmt(res['chi_mean'])} +- {_fmt(res['chi_std'])}   (experimental head, {ens.n_members}-member ensemble, "
          f"std x {ens.std_scale.get('chi_exp', 1.0):.2f} calibration"
          + (" x the AD inflation)" if ens.domain is not None and ens.domain.inflation.get("chi_exp") else ")"))
    print(f"          chi = A + B/T:  A = {_fmt(res['A_mean'])} +- {_fmt(res['A_std'])},  B = {_fmt(res['B_mean_K'], 1)} +- {_fmt(res['B_std_K'], 1)} K")
    if math.isfinite(res.get("chi_lo95", float("nan"))):
        print(f"          95 % interval {_fmt(res['chi_lo95'])} .. {_fmt(res['chi_hi95'])}")
    ad = res.get("ad_score", float("nan"))
    if math.isfinite(ad):
        where = ("a training pair" if ad < 0.05 else "in domain" if ad <= 1.0 else
                 "near the edge of the training data" if ad <= 2.0 else "outside the training data: trust the interval, not the mean")
        print(f"AD score  {ad:.2f} ({where}; polymer {res['ad_polymer']:.2f}, solvent {res['ad_solvent']:.2f}: "
              "0 = training molecule, ~1 = typical distance)")
    else:
        print("AD score  n/a (this model artifact has no applicability-domain statistics; retrain to add them)")
    print(f"P(soluble) {_fmt(res['p_soluble'], 2)}")
    print(f"chi_c     {_fmt(res['chi_c'])} ({cc})")
    print(f"verdict   {res['verdict']}  (miscible: chi + std < chi_c; immiscible: chi - std > chi_c)")

    def _c(tk: float) -> str:
        if not math.isfinite(tk):
            return "none below 527 C" if tk > 0 else "unknown"
        return f"<= {tk - 273.15:.0f} C" if tk <= 200.0 else f"{tk - 273.15:.0f} C"

    td = res["T_dissolve_K"]
    span = "" if not math.isfinite(td) else f" (chi -+ std: {_c(res['T_dissolve_lo_K'])} .. {_c(res['T_dissolve_hi_K'])})"
    print(f"dissolves {res['dissolves']} at {t_k - 273.15:.0f} C" + (f"  ({res['dissolve_reason']})" if res["dissolve_reason"] else ""))
    print(f"dissolution temperature {_c(td) if r['dissolves'] != '' and not (td != td) else 'unknown'}{span}")
    print(f"above boiling point: {res['above_boiling']}")
    return 0
