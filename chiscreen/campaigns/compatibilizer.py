"""Compatibilizer campaign: what could make polymers A and B blend.

    chiscreen campaign compatibilizer --config configs/compat-demo.yaml --out runs/compat

1. Small-molecule candidates (additives, plasticizers, co-solvents) from a solvent/additive catalog,
   ranked by max(chi_A, chi_B) at the temperature (a molecule that mixes with both phases), then by the
   one-sigma upper bound of that max, then GSK greenness. chi from the ensemble's experimental head.
2. Block-pair candidates A'-b-B' from the polymer catalog: A' should mix with A and B' with B, scored by
   max(chi(A', A), chi(B', B)) from :func:`~chiscreen.campaigns.adapter.polymer_pair_chi`: the pair
   head on two polymer latents. **That is an uncalibrated estimate**: the model never saw a polymer in
   the solvent slot, and its self-chi chi(X, X), which should be 0, is reported as a measure of how far
   off it is. Treat the list as ideas to test, not predictions.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from chiscreen.campaigns import CAMPAIGNS
from chiscreen.campaigns.common import (
    CampaignResult, campaign_dir, finish_out, load_solvents, out_path, provenance, resolve_catalog, write_json,
    write_table,
)
from chiscreen.errors import ConfigError


@dataclass
class CompatConfig:
    polymer_a: str = ""
    polymer_b: str = ""
    temperature: str = "200C"               # melt-blending temperature
    additives: str = "catalogs/solvents.csv"
    polymers: str = "catalogs/polymers.csv"  # block candidates
    block_pairs: bool = True
    model: str | None = None
    top_k: int = 15
    out: str = "runs/compat"


def validate(cfg: CompatConfig):
    from chiscreen.catalogs.facts import resolve_polymer
    from chiscreen.units import parse_temperature

    if not str(cfg.polymer_a).strip() or not str(cfg.polymer_b).strip():
        raise ConfigError("compatibilizer: give polymer_a and polymer_b (catalog names or SMILES)")
    a, b = resolve_polymer(cfg.polymer_a), resolve_polymer(cfg.polymer_b)
    if a.get("canonical") == b.get("canonical"):
        raise ConfigError(f"compatibilizer: polymer_a and polymer_b are the same repeat unit ({a.get('canonical')})")
    if cfg.top_k < 1:
        raise ConfigError(f"compatibilizer: top_k = {cfg.top_k}, expected >= 1")
    return a, b, parse_temperature(cfg.temperature)


def run_compatibilizer(cfg: CompatConfig, out=None, overwrite: bool = False, progress: bool = True,
                       ensemble=None, take_over: bool = False) -> CampaignResult:
    """Run the campaign; writes additives.csv, block_pairs.csv, campaign.json and manifest.json into
    ``out`` (a folder path or an OwnedDir opened with :func:`~chiscreen.campaigns.common.open_out`).

    Raises ConfigError / InvalidInputError (before anything is written), OutputDirError /
    OutputLockedError (the folder; see :func:`~chiscreen.campaigns.common.open_out`)."""
    preflight(cfg)
    with campaign_dir(out or cfg.out, "compatibilizer", overwrite=overwrite, take_over=take_over) as od:
        return _run_compatibilizer(cfg, od, progress, ensemble)


def preflight(cfg: CompatConfig) -> None:
    """Everything checkable before the output folder is opened: :func:`validate` and the catalogs' paths."""
    validate(cfg)
    resolve_catalog(cfg.additives)
    if cfg.block_pairs:
        resolve_catalog(cfg.polymers)


def _run_compatibilizer(cfg: CompatConfig, od, progress: bool, ensemble) -> CampaignResult:
    from chiscreen.campaigns.adapter import polymer_pair_chi, predict_grid
    from chiscreen.catalogs.facts import boiling_point_data_problem, polymer_table

    t0 = time.perf_counter()
    a, b, T = validate(cfg)
    la, lb = str(a.get("abbreviation") or cfg.polymer_a), str(b.get("abbreviation") or cfg.polymer_b)
    odir = out_path(od)
    sol, bad, spath = load_solvents(cfg.additives)
    if ensemble is None:
        from chiscreen.model import load_ensemble

        ensemble = load_ensemble(cfg.model)
    g = predict_grid(ensemble, [a["smiles"], b["smiles"]], list(sol["smiles"]), [T], progress=progress)
    S = len(sol)
    ga, gb = g.iloc[:S].reset_index(drop=True), g.iloc[S:].reset_index(drop=True)
    add = pd.DataFrame({"additive": sol["name"], "smiles": sol["smiles"], f"chi[{la}]": ga["chi_mean"],
                        f"std[{la}]": ga["chi_std"], f"chi[{lb}]": gb["chi_mean"], f"std[{lb}]": gb["chi_std"]})
    add["max_chi"] = np.maximum(ga["chi_mean"], gb["chi_mean"])
    add["max_chi_upper"] = np.maximum(ga["chi_mean"] + ga["chi_std"], gb["chi_mean"] + gb["chi_std"])
    add["gsk_g_score"] = sol["gsk_g_score"].to_numpy()
    add["bp_C"] = sol["bp_K"].to_numpy() - 273.15
    add["above_boiling"] = np.where(np.isfinite(sol["bp_K"]), np.where(T > sol["bp_K"], "yes", "no"), "unknown")
    add["status"] = np.where((ga["status"] == "ok") & (gb["status"] == "ok"), "ok", "failed")
    add["key"] = np.round(add["max_chi"].fillna(np.inf) / 0.01)
    add = add.sort_values(["status", "key", "max_chi_upper", "gsk_g_score"], ascending=[False, True, True, False],
                          na_position="last").drop(columns="key").reset_index(drop=True)
    add.insert(0, "rank", np.arange(1, len(add) + 1))
    tables = {"additives": add}
    files = {"additives": write_table(add, odir / "additives.csv")}
    block_note = ""
    if cfg.block_pairs:
        from chiscreen.campaigns.common import resolve_catalog as _rc

        pt = polymer_table(_rc(cfg.polymers))
        pt = pt[pt["canonical"].notna()].drop_duplicates("canonical").reset_index(drop=True)
        smiles = [a["smiles"], b["smiles"]] + list(pt["smiles"])
        labels = [la, lb] + list(pt["abbreviation"].astype(str))
        m, s, st = polymer_pair_chi(ensemble, smiles, T)
        self_chi = np.diag(m)[2:]
        n = len(pt)
        ca, cb = m[2:, 0], m[2:, 1]
        sa, sb = s[2:, 0], s[2:, 1]
        ia = np.argsort(np.where(np.isfinite(ca), ca, np.inf))[:12]
        ib = np.argsort(np.where(np.isfinite(cb), cb, np.inf))[:12]
        rows = []
        for i in ia:
            for j in ib:
                if i == j:
                    continue
                rows.append({"block_A'": labels[2 + i], "block_B'": labels[2 + j],
                             f"chi(A',{la})": ca[i], f"chi(B',{lb})": cb[j], "score": max(ca[i], cb[j]),
                             "std": max(sa[i], sb[j]), "chi(A',B')": m[2 + i, 2 + j],
                             "estimate": "uncalibrated (pair head on two polymer latents)"})
        bp = pd.DataFrame(rows).sort_values("score").head(cfg.top_k).reset_index(drop=True) if rows else pd.DataFrame()
        tables["block_pairs"] = bp
        files["block_pairs"] = write_table(bp, odir / "block_pairs.csv")
        verdict = ("the model CANNOT estimate polymer-polymer compatibility reliably (self-chi far from 0); "
                   "the pairs below are untested ideas" if np.nanmedian(np.abs(self_chi)) > 0.1 else
                   "self-chi near 0: plausible, still uncalibrated")
        summary_block = {"self_chi_median": float(np.nanmedian(self_chi)), "chi_AB": float(m[0, 1]), "verdict": verdict}
        block_note = (f"{verdict}. block pairs (UNCALIBRATED estimate: pair head on two polymer latents; self-chi chi(X,X) "
                      f"should be 0 and is {np.nanmedian(self_chi):+.2f} median, {np.nanmin(self_chi):+.2f}.."
                      f"{np.nanmax(self_chi):+.2f} over {n} catalog polymers; chi({la},{lb}) = {m[0, 1]:+.2f}):")
    summary = {
        "kind": "compatibilizer",
        "inputs": {"polymer_a": cfg.polymer_a, "polymer_b": cfg.polymer_b, "temperature_C": T - 273.15,
                   "additives": str(spath), "block_pairs": cfg.block_pairs},
        "provenance": provenance(ensemble, {"additives": spath}),
        "counts": {"additives": int(len(add)), "additives_failed": int((add["status"] != "ok").sum()),
                   "block_pairs": int(len(tables.get("block_pairs", [])))},
        "failures": {"invalid_additive_rows": bad.to_dict("records"),
                     "boiling_point_data": boiling_point_data_problem() or "ok"},
        "seconds": round(time.perf_counter() - t0, 1),
    }
    if cfg.block_pairs:
        summary["block_pairs"] = summary_block
    lines = [f"compatibilizer for {la} + {lb} at {T - 273.15:.0f} C: {len(add)} small molecules ranked by "
             f"max(chi_{la}, chi_{lb})"]
    for r in add.head(8).itertuples():
        g_ = f"GSK {r.gsk_g_score:.1f}" if math.isfinite(r.gsk_g_score) else "GSK -"
        lines.append(f"  {r.rank:>3d}. {r.additive:<28s} max chi {r.max_chi:+.2f} (upper {r.max_chi_upper:+.2f})  "
                     f"boils: {r.above_boiling}  {g_}")
    if block_note:
        lines.append("  " + block_note)
        for r in tables["block_pairs"].head(5).itertuples():
            lines.append(f"       {r[1]}-b-{r[2]}  score {r.score:+.2f} +- {r.std:.2f}")
    else:
        lines.append("  block pairs: not requested")
    text = "\n".join(lines)
    res = CampaignResult("compatibilizer", odir, add, text, summary, files, tables)
    summary["files"] = dict(files)
    files["campaign"] = write_json(summary, odir / "campaign.json")
    finish_out(od, "compatibilizer", summary, files)
    res.text = text + f"\nwrote {odir}: " + ", ".join(sorted(__import__("os").path.basename(v) for v in files.values()))
    return res


CAMPAIGNS.register("compatibilizer")((CompatConfig, run_compatibilizer))
