"""Self-contained HTML reports: inputs, provenance, top results, plots, failures and counts.

    from chiscreen.report.html import write_campaign_report, write_folder_report
    write_campaign_report(result, "runs/recycle/report.html")      # a CampaignResult
    write_folder_report("runs/screen-demo", "runs/screen-demo/report.html")   # screen / AL run / any folder

The page needs nothing but itself: CSS inline, every plot a ``data:image/png;base64`` image, no
script, no external link (a test renders it in headless Chromium and checks for console errors and
that every image decodes).
"""
from __future__ import annotations

import base64
import html
import json
import math
import time
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from chiscreen.io import atomic_write_text

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1150px;color:#222;
line-height:1.4;padding:0 1em}
h1{font-size:1.5em;border-bottom:2px solid #3465a4;padding-bottom:.2em}h2{font-size:1.2em;margin-top:1.6em;color:#204a87}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}th,td{border:1px solid #ccc;padding:3px 7px;text-align:left;
white-space:nowrap;max-width:34em;overflow:hidden;text-overflow:ellipsis}.scroll{overflow-x:auto}
th{background:#eef2f7}tr:nth-child(even) td{background:#fafafa}td.num{text-align:right;font-variant-numeric:tabular-nums}
img{max-width:100%;border:1px solid #ddd;margin:.5em 0}.kv td:first-child{font-weight:600;background:#f5f5f5}
pre{background:#f6f6f6;padding:.8em;overflow-x:auto;font-size:.85em}.note{color:#666;font-size:.85em}
.yes{color:#1a7f37;font-weight:600}.no{color:#b42318}.unknown{color:#946200}.works{color:#1a7f37;font-weight:600}
"""


def _esc(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _cell(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(float(v)):
            return '<td class="num">-</td>'
        av = abs(float(v))
        s = f"{v:.3g}" if (av and (av < 0.01 or av >= 1e5)) else f"{v:.3f}".rstrip("0").rstrip(".") if av < 100 else f"{v:.1f}"
        return f'<td class="num">{_esc(s)}</td>'
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f'<td class="num">{int(v)}</td>'
    s = "" if v is None else str(v)
    cls = s if s in ("yes", "no", "unknown", "works") else ""
    return f'<td class="{cls}">{_esc(s)}</td>' if cls else f"<td>{_esc(s)}</td>"


def table_html(df: pd.DataFrame, max_rows: int = 25, columns: Iterable[str] | None = None) -> str:
    if df is None or len(df) == 0:
        return '<p class="note">(empty)</p>'
    d = df[list(columns)] if columns is not None else df
    head = "".join(f"<th>{_esc(c)}</th>" for c in d.columns)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in d.head(max_rows).itertuples(index=False))
    more = f'<p class="note">{len(d) - max_rows} more rows in the table file</p>' if len(d) > max_rows else ""
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{more}'


def kv_html(d: dict) -> str:
    rows = []
    for k, v in d.items():
        if isinstance(v, (dict, list)):
            v = json.dumps(v, default=str)
        rows.append(f"<tr><td>{_esc(k)}</td><td>{_esc(v)}</td></tr>")
    return f'<table class="kv">{"".join(rows)}</table>'


def image_html(path: str | Path, alt: str) -> str:
    data = Path(path).read_bytes()
    if not data.startswith(b"\x89PNG"):
        raise ValueError(f"{path} is not a PNG")
    return f'<figure><img alt="{_esc(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode("ascii")}">' \
           f"<figcaption class='note'>{_esc(Path(path).name)}</figcaption></figure>"


def render(title: str, sections: list[tuple[str, str]]) -> str:
    """A whole page from (heading, inner HTML) sections."""
    body = "".join(f"<section><h2>{_esc(h)}</h2>{inner}</section>" for h, inner in sections)
    stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_esc(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<link rel=\"icon\" href=\"data:,\"><style>{CSS}</style></head><body><h1>{_esc(title)}</h1>"
            f'<p class="note">chiscreen report, written {stamp}; self-contained (no network needed)</p>'
            f"{body}</body></html>")


def _provenance_html(prov: dict) -> str:
    if not prov:
        return '<p class="note">no provenance recorded</p>'
    parts = []
    if "model" in prov:
        parts.append("<h3>model</h3>" + kv_html(prov["model"]))
    if prov.get("catalogs"):
        parts.append("<h3>catalogs</h3>" + kv_html({k: f"{v.get('path')} (sha256 {v.get('sha256_16')})"
                                                    for k, v in prov["catalogs"].items()}))
    if "versions" in prov:
        parts.append("<h3>versions</h3>" + kv_html(prov["versions"]))
    return "".join(parts)


def write_campaign_report(res, path: str | Path) -> str:
    """Report of a :class:`chiscreen.campaigns.common.CampaignResult`."""
    s = res.summary
    secs: list[tuple[str, str]] = [("answer", f"<pre>{_esc(res.text)}</pre>"), ("inputs", kv_html(s.get("inputs", {}))),
                                   ("counts", kv_html(s.get("counts", {})))]
    for name, t in res.tables.items():
        cols = [c for c in t.columns if c not in ("smiles",)]
        secs.append((name.replace("_", " "), table_html(t, 15, cols)))
    for name, p in res.files.items():
        if str(p).endswith(".png"):
            secs.append((f"plot: {name}", image_html(p, name)))
    fails = s.get("failures", {})
    secs.append(("failures and unknowns", kv_html({k: (v if v else "none") for k, v in fails.items()})))
    secs.append(("provenance", _provenance_html(s.get("provenance", {}))))
    page = render(f"chiscreen {res.kind} campaign", secs)
    atomic_write_text(path, page)
    return str(path)


def _read_any(p: Path) -> pd.DataFrame | None:
    try:
        if p.suffix == ".csv":
            return pd.read_csv(p)
        if p.suffix == ".parquet":
            return pd.read_parquet(p)
    except Exception:  # a table that cannot be read is listed, never fatal for the report
        return None
    return None


def write_folder_report(folder: str | Path, path: str | Path | None = None, title: str | None = None,
                        max_tables: int = 8) -> str:
    """Report of any results folder (a screen, an AL run, a campaign): its JSON summaries (inputs,
    counts, failures, provenance), tables (first rows), and every PNG."""
    d = Path(folder)
    if not d.is_dir():
        from chiscreen.errors import InvalidInputError

        raise InvalidInputError(f"report: {d} is not a results folder")
    out = Path(path) if path is not None else d / "report.html"
    secs: list[tuple[str, str]] = []
    for j in sorted(d.glob("*.json")):
        try:
            data = json.loads(j.read_text())
        except (OSError, ValueError):
            secs.append((j.name, '<p class="note">unreadable JSON</p>'))
            continue
        if isinstance(data, dict):
            prov = data.pop("provenance", None)
            secs.append((j.name, kv_html(data)))
            if prov:
                secs.append((f"provenance ({j.name})", _provenance_html(prov)))
    tables = [p for p in sorted(d.iterdir()) if p.suffix in (".csv", ".parquet") and p.is_file()]
    for p in tables[:max_tables]:
        t = _read_any(p)
        secs.append((p.name, table_html(t, 20) if t is not None else '<p class="note">unreadable table</p>'))
    for p in sorted(d.rglob("*.png")):
        secs.append((f"plot: {p.relative_to(d)}", image_html(p, p.name)))
    page = render(title or f"chiscreen results: {d.name}", secs or [("empty", '<p class="note">nothing found</p>')])
    atomic_write_text(out, page)
    return str(out)
