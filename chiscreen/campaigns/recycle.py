"""Recycling campaign: a solvent and the lowest temperature that dissolve one plastic out of a mixture
and leave the others, for dissolution-precipitation recycling.

    chiscreen campaign recycle --config configs/recycle-demo.yaml --out runs/recycle-ps

For every solvent of the catalog and every temperature of the range, each polymer of the mixture gets
:func:`chiscreen.thermo.dissolution_verdict` (chi vs chi_c with the ensemble std, the Flory depressed
melting point for semicrystalline polymers, the solvent's boiling point). A solvent *works* at T when
the target dissolves ("yes"), every other polymer does not ("no") and T is below the solvent's boiling
point (unless ``allow_pressure``); its lowest working temperature is reported. An unknown fact
(crystallinity, boiling point) makes the answer "unknown", never a silent yes.

Ranking of the working solvents: the margin net of uncertainty (smallest over all polymers of the
distance of chi to chi_c minus its std, in chi units), then boiling-point headroom at the working
temperature, then GSK greenness (higher = greener), each compared after rounding (0.01 chi, 10 K,
0.5 G-score) so that the later keys break near-ties.

Antisolvents (for the precipitation step): solvents in which the target does not dissolve at the
precipitation temperature, ranked by the target's margin; miscibility with the solvent is a heuristic,
the Hansen distance Ra = sqrt(4 dD^2 + dP^2 + dH^2) < ``antisolvent_max_ra`` MPa^0.5 from the reference
Hansen parameters (toluene/methanol 24 mix, hexane/methanol 28 do not at 25 C; water pairs are often
misjudged), reported as an estimate.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from chiscreen.campaigns import CAMPAIGNS
from chiscreen.campaigns.common import (
    CampaignResult, campaign_dir, finish_out, load_solvents, out_path, plot_chi_curves, provenance, resolve_catalog,
    write_json, write_table,
)
from chiscreen.errors import ConfigError


@dataclass
class TemperatureRange:
    """Temperatures with units ("25C", "298.15K"); step in Kelvin."""

    min: str = "25C"
    max: str = "200C"
    step_K: float = 5.0


@dataclass
class RecycleConfig:
    """A recycling question. Polymers by catalog name / abbreviation (catalogs/polymers.csv) or SMILES."""

    mixture: list[str] = field(default_factory=list)
    target: str = ""
    temperatures: TemperatureRange = field(default_factory=TemperatureRange)
    solvents: str = "catalogs/solvents.csv"
    model: str | None = None
    mw: float | None = None                 # g/mol, sets chi_c; None: long-chain limit 0.5
    polymer_fraction: float = 0.05          # polymer volume fraction for the melting-point depression
    allow_pressure: bool = False            # True: temperatures above the boiling point may work
    precipitation_temperature: str = "25C"
    antisolvent_max_ra: float = 25.0
    top_k: int = 10
    out: str = "runs/recycle"


@dataclass
class _Polymer:
    query: str
    label: str
    smiles: str
    facts: object
    key: str


def _resolve_mixture(cfg: RecycleConfig) -> tuple[list[_Polymer], int]:
    from chiscreen.catalogs.facts import polymer_facts, resolve_polymer

    if not cfg.mixture:
        raise ConfigError("recycle: 'mixture' is empty; expected two or more polymers (catalog names or SMILES)")
    if not str(cfg.target).strip():
        raise ConfigError("recycle: 'target' is empty; expected the polymer of the mixture to dissolve")
    pols = []
    for q in cfg.mixture:
        row = resolve_polymer(q)
        key = f"{row.get('canonical')}|{row.get('tacticity') if isinstance(row.get('tacticity'), str) else ''}"
        label = str(row.get("abbreviation") if isinstance(row.get("abbreviation"), str) else q)
        pols.append(_Polymer(str(q), label, str(row["smiles"]), polymer_facts(row), key))
    keys = [p.key for p in pols]
    dup = sorted({p.label for p in pols if keys.count(p.key) > 1})
    if dup:
        raise ConfigError(f"recycle: mixture names the same polymer twice: {', '.join(dup)}")
    trow = resolve_polymer(cfg.target)
    tkey = f"{trow.get('canonical')}|{trow.get('tacticity') if isinstance(trow.get('tacticity'), str) else ''}"
    if tkey not in keys:
        raise ConfigError(f"recycle: target {cfg.target!r} is not in the mixture {list(cfg.mixture)}")
    if len(pols) < 2:
        raise ConfigError("recycle: the mixture needs at least two polymers (the target and one to leave behind)")
    return pols, keys.index(tkey)


def _temperatures(cfg: RecycleConfig) -> list[float]:
    from chiscreen.units import parse_temperature

    t0 = parse_temperature(cfg.temperatures.min)
    t1 = parse_temperature(cfg.temperatures.max)
    if not t1 > t0:
        raise ConfigError(f"recycle: temperatures.min {cfg.temperatures.min} is not below temperatures.max "
                          f"{cfg.temperatures.max} (reversed or empty range)")
    st = float(cfg.temperatures.step_K)
    if not (math.isfinite(st) and st > 0):
        raise ConfigError(f"recycle: temperatures.step_K = {cfg.temperatures.step_K!r}, expected > 0 (Kelvin)")
    n = int(math.floor((t1 - t0) / st + 1e-9)) + 1
    if n > 400:
        raise ConfigError(f"recycle: {n} temperatures from step_K = {st}; expected at most 400")
    return [t0 + i * st for i in range(n)]


def validate(cfg: RecycleConfig) -> None:
    """Every check that needs no model (names, target, temperature range, numbers); raises ConfigError
    or InvalidInputError naming the key."""
    _resolve_mixture(cfg)
    _temperatures(cfg)
    if not 0 < cfg.polymer_fraction < 1:
        raise ConfigError(f"recycle: polymer_fraction = {cfg.polymer_fraction}, expected 0 < x < 1")
    if cfg.mw is not None and not (math.isfinite(cfg.mw) and cfg.mw > 0):
        raise ConfigError(f"recycle: mw = {cfg.mw}, expected a positive molar mass in g/mol")
    if cfg.top_k < 1:
        raise ConfigError(f"recycle: top_k = {cfg.top_k}, expected >= 1")


def _chi_c(cfg, pol: _Polymer, V1: float) -> float:
    from chiscreen.thermo import chi_critical, n_ratio_from_mw

    if cfg.mw is None:
        return chi_critical()
    from chiscreen.model.predict import repeat_unit_mass

    Vu = pol.facts.Vu_cm3_mol
    rho = repeat_unit_mass(pol.smiles) / Vu if math.isfinite(Vu) and Vu > 0 else 1.0
    V1 = V1 if math.isfinite(V1) and V1 > 0 else 100.0
    return chi_critical(n_ratio_from_mw(cfg.mw, rho, V1))


def evaluate(cfg: RecycleConfig, ens, solvents: pd.DataFrame, pols: list[_Polymer], temps: list[float],
             progress: bool = False) -> pd.DataFrame:
    """Verdict rows for every polymer x solvent x temperature."""
    from chiscreen.campaigns.adapter import predict_grid
    from chiscreen.catalogs.facts import solvent_facts
    from chiscreen.thermo import ChiT, dissolution_verdict

    g = predict_grid(ens, [p.smiles for p in pols], list(solvents["smiles"]), temps, progress=progress)
    nS, nT = len(solvents), len(temps)
    g["polymer"] = np.repeat([p.label for p in pols], nS * nT)
    g["solvent_index"] = np.tile(np.repeat(np.arange(nS), nT), len(pols))
    g["solvent"] = solvents["name"].to_numpy()[g["solvent_index"]]
    sfacts = [solvent_facts(r) for r in solvents.to_dict("records")]
    phi1 = 1.0 - cfg.polymer_fraction
    recs = []
    for i, r in enumerate(g.itertuples(index=False)):
        pol = pols[i // (nS * nT)]
        sf = sfacts[r.solvent_index]
        if r.status != "ok":
            recs.append(("unknown", "unknown", "unknown", np.nan, np.nan, f"no prediction: {r.reason}"))
            continue
        cc = _chi_c(cfg, pol, sf.V1_cm3_mol)
        v = dissolution_verdict(r.chi_mean, r.chi_std, r.temperature_K, cc, ChiT(r.A_mean, r.B_mean), pol.facts, sf,
                                phi1=phi1, temperatures=False)
        recs.append((v.dissolves, v.miscibility, v.crystals, cc, v.bp_headroom_K, v.reason, v.above_boiling))
    cols = ["dissolves", "miscibility", "crystals", "chi_c", "bp_headroom_K", "dissolve_reason", "above_boiling"]
    recs = [r if len(r) == 7 else r + ("unknown",) for r in recs]
    for k, c in enumerate(cols):
        g[c] = [r[k] for r in recs]
    return g


def _dissolution_T(cfg, pol, solvent_row, chi_row) -> tuple[float, float, float]:
    from chiscreen.catalogs.facts import solvent_facts
    from chiscreen.thermo import ChiT, dissolution_verdict

    sf = solvent_facts(solvent_row)
    v = dissolution_verdict(chi_row.chi_mean, chi_row.chi_std, chi_row.temperature_K, chi_row.chi_c,
                            ChiT(chi_row.A_mean, chi_row.B_mean), pol.facts, sf, phi1=1.0 - cfg.polymer_fraction)
    return v.T_dissolve_K, v.T_dissolve_lo_K, v.T_dissolve_hi_K


def summarize_solvents(cfg: RecycleConfig, g: pd.DataFrame, solvents: pd.DataFrame, pols: list[_Polymer],
                       ti: int, temps: list[float]) -> pd.DataFrame:
    """One row per solvent: works / lowest working T / why not, margins, headroom, greenness."""
    target = pols[ti].label
    others = [p.label for k, p in enumerate(pols) if k != ti]
    nT = len(temps)
    rows = []
    by = {(p, s): d for (p, s), d in g.groupby(["polymer", "solvent_index"], sort=False)}
    for si, srow in solvents.iterrows():
        tg = by[(target, si)].reset_index(drop=True)
        og = {o: by[(o, si)].reset_index(drop=True) for o in others}
        works_at = None
        why = ""
        best_j, best_m = None, -np.inf

        def net_margin(j):
            m = [float(tg["chi_c"].iat[j] - tg["chi_mean"].iat[j] - tg["chi_std"].iat[j])]
            for o in others:
                r = og[o].iloc[j]
                if r["miscibility"] == "immiscible":
                    m.append(float(r["chi_mean"] - r["chi_std"] - r["chi_c"]))
            return min(m)

        for j in range(nT):
            t_ok = tg["dissolves"].iat[j] == "yes"
            o_ok = all(og[o]["dissolves"].iat[j] == "no" for o in others)
            bp = tg["above_boiling"].iat[j]
            liquid = bp == "no" or (cfg.allow_pressure and bp == "yes")
            if t_ok and o_ok and liquid:
                if works_at is None:
                    works_at = j
                m = net_margin(j)
                if m > best_m:
                    best_j, best_m = j, m
        if works_at is None:
            why = _why_not(tg, og, cfg)
        j = best_j if best_j is not None else int(np.argmax(tg["chi_c"].to_numpy() - tg["chi_mean"].to_numpy()))
        m_t = float(tg["chi_c"].iat[j] - tg["chi_mean"].iat[j] - tg["chi_std"].iat[j])
        m_net = best_m if best_j is not None else m_t
        worst_std = max([float(tg["chi_std"].iat[j])] + [float(og[o]["chi_std"].iat[j]) for o in others])
        ads = [float(tg["ad_score"].iat[j])] + [float(og[o]["ad_score"].iat[j]) for o in others] if "ad_score" in tg else []
        worst_ad = float(np.nanmax(ads)) if ads and np.isfinite(ads).any() else np.nan
        status = "works" if works_at is not None else ("unknown" if why.startswith("unknown") else "no")
        rec = {
            "solvent": srow["name"], "smiles": srow["smiles"], "status": status,
            "T_work_C": temps[works_at] - 273.15 if works_at is not None else np.nan,
            "T_best_C": temps[best_j] - 273.15 if best_j is not None else np.nan,
            "margin": m_net, "target_margin": m_t, "worst_std": worst_std, "worst_ad_score": worst_ad,
            "bp_C": srow["bp_K"] - 273.15 if math.isfinite(srow["bp_K"]) else np.nan,
            "bp_headroom_K": float(srow["bp_K"] - temps[j]) if math.isfinite(srow["bp_K"]) else np.nan,
            "gsk_g_score": srow.get("gsk_g_score", np.nan), "why_not": why,
            f"chi[{target}]": float(tg["chi_mean"].iat[j]),
        }
        for o in others:
            rec[f"chi[{o}]"] = float(og[o]["chi_mean"].iat[j])
            rec[f"{o}"] = og[o]["dissolves"].iat[j]
        rows.append(rec)
    t = pd.DataFrame(rows)

    def rnd(x, q):
        return np.where(np.isfinite(x), np.round(np.asarray(x, dtype=float) / q) * q, -np.inf)

    order = np.lexsort((-rnd(t["gsk_g_score"], 0.5), -rnd(np.minimum(t["bp_headroom_K"], 100.0), 10.0),
                        -rnd(t["margin"], 0.01), t["status"].map({"works": 0, "unknown": 1, "no": 2}).to_numpy()))
    t = t.iloc[order].reset_index(drop=True)
    t.insert(0, "rank", np.arange(1, len(t) + 1))
    return t


def _why_not(tg: pd.DataFrame, og: dict, cfg) -> str:
    tgt = tg["polymer"].iat[0]
    yes = tg["dissolves"] == "yes"
    if not yes.any():
        if (tg["dissolves"] == "unknown").any():
            return f"unknown: {tg.loc[tg['dissolves'] == 'unknown', 'dissolve_reason'].iat[0]}"
        if (tg["dissolves"] == "borderline").any():
            return f"{tgt} borderline at best"
        return f"{tgt} does not dissolve in the range"
    j = int(np.argmax(yes.to_numpy()))
    for o, d in og.items():
        if d["dissolves"].iat[j] == "unknown":
            return f"unknown: {d['dissolve_reason'].iat[j]}"
    diss = [o for o, d in og.items() if d["dissolves"].iat[j] != "no"]
    if diss:
        return f"{', '.join(diss)} also dissolve(s) or borderline where {tgt} dissolves"
    bp = tg["above_boiling"].iat[j]
    if bp == "unknown":
        return "unknown: solvent boiling point unknown"
    if bp == "yes":
        return f"{tgt} dissolves only above the boiling point (needs pressure)"
    return "no temperature satisfies every condition"


def antisolvents(cfg: RecycleConfig, g_prec: pd.DataFrame, solvents: pd.DataFrame, top: pd.DataFrame,
                 target: str, n: int = 5) -> pd.DataFrame:
    """Non-solvents for the target at the precipitation temperature, per top solvent, that mix with it (heuristic)."""
    from chiscreen.catalogs.facts import hansen_parameters

    hs = [hansen_parameters(s, c) for s, c in zip(solvents["smiles"], solvents.get("cas", [None] * len(solvents)))]
    name_to_i = {n_: i for i, n_ in enumerate(solvents["name"])}
    cand = g_prec[(g_prec["polymer"] == target) & (g_prec["dissolves"] == "no")].copy()
    cand["target_margin"] = cand["chi_mean"] - cand["chi_std"] - cand["chi_c"]
    rows = []
    for s in top["solvent"]:
        h0 = hs[name_to_i[s]]
        for r in cand.itertuples():
            if r.solvent == s:
                continue
            h1 = hs[r.solvent_index]
            if h0 is None or h1 is None:
                ra, mix = np.nan, "unknown"
            else:
                ra = math.sqrt(4 * (h0[0] - h1[0]) ** 2 + (h0[1] - h1[1]) ** 2 + (h0[2] - h1[2]) ** 2)
                mix = "yes (estimate)" if ra < cfg.antisolvent_max_ra else "no (estimate)"
            if mix.startswith("no"):
                continue
            rows.append({"for_solvent": s, "antisolvent": r.solvent, "target_margin": r.target_margin,
                         "hansen_Ra": ra, "mixes_with_solvent": mix,
                         "gsk_g_score": solvents["gsk_g_score"].iat[r.solvent_index]})
    t = pd.DataFrame(rows, columns=["for_solvent", "antisolvent", "target_margin", "hansen_Ra", "mixes_with_solvent",
                                    "gsk_g_score"])
    if t.empty:
        return t
    t["known"] = t["mixes_with_solvent"] != "unknown"
    t["g"] = np.round(t["gsk_g_score"].fillna(-1.0) * 2) / 2
    t = t.sort_values(["for_solvent", "known", "g", "target_margin"], ascending=[True, False, False, False]).drop(columns="g")
    return t.groupby("for_solvent", sort=False).head(n).drop(columns="known").reset_index(drop=True)


def run_recycle(cfg: RecycleConfig, out=None, overwrite: bool = False, progress: bool = True,
                ensemble=None, take_over: bool = False) -> CampaignResult:
    """Run the campaign; writes solvents.csv (ranked), antisolvents.csv, grid.parquet (every verdict,
    with the model hash and versions in its Parquet metadata), chi_T.png, campaign.json and
    manifest.json into ``out`` (a folder path, or an OwnedDir the caller opened with
    :func:`~chiscreen.campaigns.common.open_out`; the CLI adds report.html: chiscreen.report.html).

    Raises ConfigError / InvalidInputError (bad config, before anything is written),
    OutputDirError / OutputLockedError (the folder: foreign, earlier campaign without ``overwrite``,
    another writer, a stale lock without ``take_over``)."""
    preflight(cfg)
    with campaign_dir(out or cfg.out, "recycle", overwrite=overwrite, take_over=take_over) as od:
        return _run_recycle(cfg, od, progress, ensemble)


def preflight(cfg: RecycleConfig) -> None:
    """Everything checkable before the output folder is opened: :func:`validate`, the precipitation
    temperature and the solvent catalog's path."""
    from chiscreen.units import parse_temperature

    validate(cfg)
    parse_temperature(cfg.precipitation_temperature)
    resolve_catalog(cfg.solvents)


def _run_recycle(cfg: RecycleConfig, od, progress: bool, ensemble) -> CampaignResult:
    from chiscreen.runtime import table_metadata
    from chiscreen.units import parse_temperature

    t0 = time.perf_counter()
    pols, ti = _resolve_mixture(cfg)
    temps = _temperatures(cfg)
    t_prec = parse_temperature(cfg.precipitation_temperature)
    odir = out_path(od)
    solvents, bad, spath = load_solvents(cfg.solvents)
    if ensemble is None:
        from chiscreen.model import load_ensemble

        ensemble = load_ensemble(cfg.model)
    g = evaluate(cfg, ensemble, solvents, pols, temps, progress=progress)
    gp = evaluate(cfg, ensemble, solvents, [pols[ti]], [t_prec]) if t_prec not in temps else \
        g[np.isclose(g["temperature_K"], t_prec)]
    table = summarize_solvents(cfg, g, solvents, pols, ti, temps)
    target = pols[ti].label
    works = table[table["status"] == "works"]
    top = works.head(cfg.top_k)
    # dissolution temperatures of every polymer in the top solvents (predicted, from chi(T) and facts)
    dT = []
    for s in top["solvent"]:
        si = int(np.flatnonzero(solvents["name"].to_numpy() == s)[0])
        for p in pols:
            r = g[(g["polymer"] == p.label) & (g["solvent_index"] == si)].iloc[0]
            td, lo, hi = _dissolution_T(cfg, p, solvents.iloc[si].to_dict(), r)
            dT.append({"solvent": s, "polymer": p.label, "T_dissolve_C": td - 273.15, "T_lo_C": lo - 273.15,
                       "T_hi_C": hi - 273.15})
    dtab = pd.DataFrame(dT, columns=["solvent", "polymer", "T_dissolve_C", "T_lo_C", "T_hi_C"])
    anti = antisolvents(cfg, gp, solvents, top.head(3), target)
    files = {}
    files["solvents"] = write_table(table, odir / "solvents.csv")
    files["dissolution_temperatures"] = write_table(dtab, odir / "dissolution_temperatures.csv")
    files["antisolvents"] = write_table(anti, odir / "antisolvents.csv")
    files["grid"] = write_table(g.drop(columns=["solvent_index"]), odir / "grid.parquet",
                                metadata=table_metadata(ensemble.artifact_hash, writer="campaign-recycle"))
    panels = []
    for s in (top["solvent"].head(4) if len(top) else table["solvent"].head(4)):
        si = int(np.flatnonzero(solvents["name"].to_numpy() == s)[0])
        curves = []
        for p in pols:
            d = g[(g["polymer"] == p.label) & (g["solvent_index"] == si)]
            curves.append((p.label + (" (target)" if p.label == target else ""), d["chi_mean"].to_numpy(),
                           d["chi_std"].to_numpy(), "-" if p.label == target else "--"))
        tw = table.loc[table["solvent"] == s, "T_work_C"].iat[0]
        melts = [(p.label, r.T_dissolve_C + 273.15) for p in pols if p.facts.semicrystalline
                 for r in dtab[(dtab["solvent"] == s) & (dtab["polymer"] == p.label)].itertuples()]
        panels.append({"title": s, "T_K": temps, "curves": curves, "chi_c": float(g["chi_c"].iat[0]),
                       "mark_K": tw + 273.15 if math.isfinite(tw) else None, "melts": melts})
    files["chi_T"] = plot_chi_curves(odir / "chi_T.png", panels, f"chi(T) +- std: dissolve {target}, keep "
                                     + ", ".join(p.label for k, p in enumerate(pols) if k != ti))
    from chiscreen.catalogs.facts import boiling_point_data_problem

    unknown_bp = solvents[~np.isfinite(solvents["bp_K"].astype(float))]["name"].tolist()
    counts = table["status"].value_counts().to_dict()
    summary = {
        "kind": "recycle", "inputs": {"mixture": list(cfg.mixture), "target": cfg.target, "resolved": [p.label for p in pols],
                                      "temperatures_C": [temps[0] - 273.15, temps[-1] - 273.15, cfg.temperatures.step_K],
                                      "solvents": str(spath), "mw": cfg.mw, "polymer_fraction": cfg.polymer_fraction,
                                      "allow_pressure": cfg.allow_pressure},
        "provenance": provenance(ensemble, {"solvents": spath, "polymers": _polymer_catalog()}),
        "counts": {"solvents": int(len(solvents)), "works": int(counts.get("works", 0)),
                   "unknown": int(counts.get("unknown", 0)), "no": int(counts.get("no", 0)),
                   "pairs_evaluated": int(len(g)), "prediction_failures": int((g["status"] != "ok").sum())},
        "failures": {"invalid_solvent_rows": bad.to_dict("records"),
                     "boiling_point_data": boiling_point_data_problem() or "ok",
                     "solvents_without_boiling_point": unknown_bp,
                     "polymer_facts_unknown": [p.label for p in pols if p.facts.semicrystalline is None]},
        "seconds": round(time.perf_counter() - t0, 1),
        "files": {},
    }
    text = format_text(summary, table, dtab, anti, target, pols, ti)
    res = CampaignResult("recycle", odir, table, text, summary, files,
                         {"solvents": table, "dissolution_temperatures": dtab, "antisolvents": anti})
    summary["files"] = {k: str(v) for k, v in files.items()}
    files["campaign"] = write_json(summary, odir / "campaign.json")
    finish_out(od, "recycle", summary, files)
    res.text = text + f"\nwrote {odir}: " + ", ".join(sorted(__import__("os").path.basename(v) for v in files.values()))
    return res


def _polymer_catalog():
    from chiscreen.paths import project_root

    root = project_root()
    return (root / "catalogs" / "polymers.csv") if root is not None else None


def _tc(c: float) -> str:
    if not math.isfinite(c):
        return "none below 527 C"
    return "below -73 C" if c <= -73.0 else f"{c:.0f} C"


def format_text(summary, table, dtab, anti, target, pols, ti, n: int = 8) -> str:
    others = [p.label for k, p in enumerate(pols) if k != ti]
    c = summary["counts"]
    lines = [f"recycling: dissolve {target} out of {', '.join(p.label for p in pols)}; "
             f"{summary['inputs']['temperatures_C'][0]:.0f}-{summary['inputs']['temperatures_C'][1]:.0f} C, "
             f"{c['solvents']} solvents: {c['works']} work, {c['unknown']} unknown, {c['no']} do not"]
    works = table[table["status"] == "works"]
    if works.empty:
        lines.append(f"  no solvent dissolves {target} while leaving {', '.join(others)} in this range")
    for r in works.head(n).itertuples():
        g = f"GSK {r.gsk_g_score:.1f}" if math.isfinite(r.gsk_g_score) else "GSK -"
        bp = f"bp {r.bp_C:.0f} C" if math.isfinite(r.bp_C) else "bp unknown"
        lines.append(f"  {r.rank:>3d}. {r.solvent:<24s} from {r.T_work_C:>4.0f} C (best {r.T_best_C:.0f} C: margin "
                     f"{r.margin:+.2f}, worst std {r.worst_std:.2f})  {bp}  {g}")
    if len(dtab):
        d = dtab[dtab["polymer"] == target].head(3)
        lines.append("  predicted dissolution temperature of " + target + ": " +
                     ", ".join(f"{r.solvent} {_tc(r.T_dissolve_C)}" for r in d.itertuples()))
    if len(anti):
        a = anti.groupby("for_solvent", sort=False).head(2)
        lines.append("  antisolvents (Hansen-distance estimate of mixing): " +
                     "; ".join(f"{r.antisolvent} for {r.for_solvent}" for r in a.head(4).itertuples()))
    unk = summary["failures"]
    if unk["polymer_facts_unknown"]:
        lines.append(f"  facts unknown (answers 'unknown' where they decide): crystallinity of "
                     f"{', '.join(unk['polymer_facts_unknown'])}")
    if unk.get("boiling_point_data", "ok") != "ok":
        lines.append(f"  boiling points unknown for all {c['solvents']} solvents (no solvent can be certified as "
                     f"working): {unk['boiling_point_data']}")
    elif unk["solvents_without_boiling_point"]:
        lines.append(f"  {len(unk['solvents_without_boiling_point'])} solvents have no boiling point "
                     f"(never certified as working): {', '.join(unk['solvents_without_boiling_point'][:6])}, ...")
    return "\n".join(lines)


CAMPAIGNS.register("recycle")((RecycleConfig, run_recycle))
