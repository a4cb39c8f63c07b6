"""Plain text of results: a screen's summary (``chiscreen screen``, jobs/screen.py) and the demo.

:func:`format_result` is what ``chiscreen screen`` and ``ray job submit ... jobs/screen.py``
print. The demo (``chiscreen demo [--out runs/demo] [--engine ray|plain]``) runs
configs/screen-demo.yaml (or the same settings built in, when the config file is not beside the
working directory or the project): every shipped polymer x every shipped solvent at 25, 80 and
140 C, the best 15 solvents per polymer, the best 10 polymers per solvent and one recycling query
(dissolve PS, leave PE and PP); :func:`run_demo` runs or resumes it and formats the highlights.
Descriptors are cached after the first run. Column names are those of :mod:`chiscreen.schema`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from chiscreen.paths import project_root
from chiscreen.schema import POLYMER_NAME, SOLVENT_ID, SOLVENT_NAME
from chiscreen.schema import T_K as SCREEN_T

SHOWCASE = ("PS", "PMMA", "PVC", "PE", "PET", "PA6", "PC", "PVDF")
SEMICRYSTALLINE = {"PE", "PP", "PET", "PBT", "PA6", "PA66", "PA11", "PA12", "POM", "PVDF", "PTFE", "PEEK", "PPS",
                   "PLA", "PCL", "PVA", "PEO"}


def demo_config_path() -> Path | None:
    for base in (Path.cwd(), project_root()):
        if base is not None and (base / "configs" / "screen-demo.yaml").is_file():
            return base / "configs" / "screen-demo.yaml"
    return None


def demo_config():
    from chiscreen.config import load_config
    from chiscreen.screen.job import ScreenConfig
    from chiscreen.screen.queries import QueryConfig, SelectiveQuery

    p = demo_config_path()
    if p is not None:
        return load_config(p, ScreenConfig)
    return ScreenConfig(
        temperatures=["25C", "80C", "140C"],
        query=QueryConfig(top_k_per_polymer=15, top_k_per_solvent=10, rank_by="chi_upper",
                          selective=[SelectiveQuery(name="ps-from-pe-pp", dissolve=["PS"], exclude=["PE", "PP"],
                                                    top_k=15)]),
        out="runs/screen-demo",
    )


@dataclass
class DemoResult:
    out: str
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    selective: pd.DataFrame | None = None
    text: str = ""


def best_solvents(pairs: pd.DataFrame, polymer: str, T_K: float, top: int = 5, rank_by: str = "chi") -> pd.DataFrame:
    """The ``top`` best solvents of one polymer (by abbreviation or name) at temperature T_K:
    lowest chi, lowest chi + chi_std (``rank_by="chi_upper"``) or highest P(soluble)."""
    key = pairs["abbreviation"] if "abbreviation" in pairs.columns else pairs[POLYMER_NAME]
    from chiscreen.screen.queries import rank_key_frame

    sel = pairs[((key == polymer) | (pairs[POLYMER_NAME] == polymer)) & np.isclose(pairs[SCREEN_T], T_K, atol=0.01)]
    sel = sel.assign(_rank_key=rank_key_frame(sel, rank_by))
    return sel.sort_values(["_rank_key", SOLVENT_ID]).head(top).drop(columns="_rank_key")


def _verdict(r) -> str:
    """The screen row's verdict (thermo.miscibility_verdict, as predict says); older screens without
    the column get it computed by the same function."""
    v = r.get("verdict") if hasattr(r, "get") else None
    if isinstance(v, str) and v:
        return v
    from chiscreen.thermo import miscibility_verdict

    return miscibility_verdict(float(r["chi"]), float(r["chi_std"]), float(r.get("chi_c", 0.5)))


def run_demo(out: str | None = None, engine: str | None = None, top: int = 5, polymers=SHOWCASE,
             progress: bool = True, model: str | None = None, cfg=None, overwrite: bool = False) -> DemoResult:
    """Run (or resume) the demo screen and format the highlights (``cfg``: a ScreenConfig instead of
    configs/screen-demo.yaml, e.g. for tests).

    A folder holding the demo's own earlier results of another model, catalog or query (e.g. after
    the shipped model changed) is replaced, said in one line; files chiscreen did not write are
    kept. Another screen's folder or a foreign folder is refused (ScreenError / OutputDirError)
    unless ``overwrite``."""
    from chiscreen.screen.job import read_pairs, run_screen

    cfg = demo_config() if cfg is None else cfg
    if engine:
        cfg.engine.kind = engine
    if model:
        cfg.model = model
    res = run_screen(cfg, out=out, progress=progress, overwrite=overwrite, job="demo", replace_own=True)
    pairs = read_pairs(res.out)
    temps = res.manifest.temperatures_K
    lines = [f"chiscreen demo: {res.summary['polymers']['scored']} polymers x {res.summary['solvents']['scored']} "
             f"solvents x {len(temps)} temperatures = {res.summary['pairs_total']:,} pairs "
             f"({res.stats.engine}, {res.summary['seconds_total']:.1f} s incl. descriptors "
             f"{res.seconds_featurize:.1f} s)", ""]
    if res.replaced:
        what = ", ".join(d.split(":", 1)[0].replace("_hash", "") for d in res.replaced)
        lines[-1:-1] = [f"replaced the earlier demo results in {res.out} ({what} changed); other files there were kept"]
    for kind in ("polymers", "solvents"):
        bad = res.summary[kind]["not_scored"]
        if bad:
            lines.append(f"{len(bad)} {kind} not scored: " + "; ".join(f"{b['name']} ({b['status']})" for b in bad[:5]))
    if any(res.summary[k]["not_scored"] for k in ("polymers", "solvents")):
        lines.append("")
    dr = DemoResult(out=str(res.out))
    T0 = temps[0]
    for pname in polymers:
        best = best_solvents(pairs, pname, T0, top, cfg.query.rank_by)
        if best.empty:
            continue
        dr.tables[pname] = best
        full = best[POLYMER_NAME].iat[0]
        note = "  (semicrystalline: dissolves only near its melting point; chi alone is optimistic)" \
            if pname in SEMICRYSTALLINE else ""
        how = {"chi_upper": "lowest chi + std", "p_soluble": "highest P(soluble)"}.get(cfg.query.rank_by, "lowest chi")
        lines.append(f"{pname} = {full}: best solvents at {T0 - 273.15:.0f} C ({how}){note}")
        for _, r in best.iterrows():
            g = r.get("gsk_g_score", np.nan)
            gs = f"  GSK {g:.1f}" if isinstance(g, (float, np.floating)) and np.isfinite(g) else ""
            lines.append(f"  {r[SOLVENT_NAME]:<34s} chi {r['chi']:+.2f} +- {r['chi_std']:.2f}  "
                         f"P(soluble) {r['p_soluble']:.2f}  {_verdict(r)}{gs}")
        lines.append("")
    for name, path in res.files.items():
        if name.startswith("selective-"):
            sel = pd.read_parquet(path) if res.out.local else res.out.read_parquet(Path(path).name).to_pandas()
            sol = res.out.read_parquet("solvents.parquet").to_pandas()[["id", "name"]]
            sel = sel.merge(sol.rename(columns={"id": SOLVENT_ID, "name": SOLVENT_NAME}), on=SOLVENT_ID, how="left")
            dr.selective = sel
            lines.append(f"selective dissolution {name[len('selective-'):]} (margin > 0: every verdict as wanted):")
            for T in sorted(sel[SCREEN_T].unique()):
                s = sel[np.isclose(sel[SCREEN_T], T)].head(3)
                items = ", ".join(f"{getattr(r, SOLVENT_NAME)} ({r.margin:+.2f})" for r in s.itertuples())
                lines.append(f"  {T - 273.15:.0f} C: {items}")
            lines.append("")
    lines.append(f"results in {res.out}: pairs/ (one Parquet file per shard), top_per_solvent.parquet, "
                 "selective-*.parquet, polymers.parquet, solvents.parquet, summary.json")
    dr.text = "\n".join(lines)
    return dr


def format_result(res) -> str:
    """What ``chiscreen screen`` and jobs/screen.py print for a :class:`~chiscreen.screen.ScreenResult`:
    the counts, throughput, molecules not scored (with reasons) and the files written."""
    s = res.summary
    run = s["run"]
    lines = [
        f"screened {s['polymers']['scored']} polymers x {s['solvents']['scored']} solvents x "
        f"{len(res.manifest.temperatures_K)} temperature(s) = {s['pairs_total']:,} pairs"
        + (" (resumed)" if res.resumed else ""),
        f"  {run['written']} shard(s) written, {run['skipped']} skipped, {run['pairs_per_s']:.3g} pairs/s "
        f"({run['engine']}, {run['workers']} worker(s)); {s['rows_in_pairs']:,} rows kept",
    ]
    for kind in ("polymers", "solvents"):
        n_bad = s[kind]["rows"] - s[kind]["scored"]
        if n_bad:
            shown = "; ".join(f"{b['name']} ({b['status']}: {b['reason'][:80]})" for b in s[kind]["not_scored"][:3])
            lines.append(f"  {n_bad} {kind} not scored (see {kind}.parquet status / feature_reason): {shown}")
    feat = s.get("featurization")
    if feat and (feat.get("computed") or feat.get("from_cache")):
        nodes = feat.get("nodes", {})
        where = ", ".join(f"{n['host']} node {nid[:8]}: {n['polymer']} polymers, {n['solvent']} solvents"
                          for nid, n in nodes.items()) if feat["where"] == "cluster" else "this machine"
        done = sum(feat.get("computed", {}).values())
        lines.append(f"  featurization on the {feat['where']} ({done} computed, "
                     f"{sum(feat.get('from_cache', {}).values())} from cache{'; ' + where if nodes and done else ''})")
    lines.append(f"results in {res.out}:")
    for k, v in res.files.items():
        lines.append(f"  {k}: {v}")
    return "\n".join(lines)
