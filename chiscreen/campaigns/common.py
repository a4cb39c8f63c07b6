"""Shared campaign plumbing: the output folder, provenance, solvent catalogs with facts, plots."""
from __future__ import annotations

import hashlib
import json
import math
import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from chiscreen.errors import InvalidInputError
from chiscreen.io import atomic_path, atomic_write_text

MARKER = "campaign.json"


@dataclass
class CampaignResult:
    """What a campaign wrote: ``out`` folder, ``files`` (name -> path), the main ``table``, the
    printed ``text`` and the ``summary`` (also in campaign.json)."""

    kind: str
    out: Path
    table: pd.DataFrame
    text: str
    summary: dict
    files: dict[str, str] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def prepare_out(out: str | Path, overwrite: bool = False) -> Path:
    """The campaign folder: created if missing; a non-empty folder is used only when it holds an earlier
    campaign (its campaign.json) and ``overwrite`` is set; foreign files are never deleted.
    (Atomic writes per file; the runtime layer's owned-folder helper replaces this once on main.)"""
    p = Path(out)
    if p.exists() and not p.is_dir():
        raise InvalidInputError(f"--out {p} is a file; expected a folder")
    if p.is_dir() and any(p.iterdir()):
        if not (p / MARKER).is_file():
            raise InvalidInputError(f"--out {p} is not empty and holds no earlier campaign; choose an empty folder")
        if not overwrite:
            raise InvalidInputError(f"--out {p} holds an earlier campaign; pass --overwrite to replace its files")
    p.mkdir(parents=True, exist_ok=True)
    return p


def write_table(df: pd.DataFrame, path: Path) -> str:
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            df.to_parquet(tmp, index=False)
        else:
            df.to_csv(tmp, index=False)
    return str(path)


def write_json(obj: dict, path: Path) -> str:
    atomic_write_text(path, json.dumps(obj, indent=2, default=_json_default) + "\n")
    return str(path)


def _json_default(o):
    if isinstance(o, (np.floating, float)):
        return None if not math.isfinite(float(o)) else float(o)
    if isinstance(o, np.integer):
        return int(o)
    if isinstance(o, Path):
        return str(o)
    return str(o)


def file_hash(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def provenance(ens, catalogs: dict[str, str | Path]) -> dict:
    """Model hash, catalog hashes and versions of what produced a result."""
    import chiscreen

    vers = {"chiscreen": chiscreen.__version__, "python": platform.python_version()}
    for mod in ("torch", "rdkit", "numpy", "pandas", "scipy"):
        try:
            vers[mod] = __import__(mod).__version__
        except Exception:  # a version is informative, never required
            pass
    return {"model": {"source": str(getattr(ens, "source", "")), "artifact_hash": ens.artifact_hash,
                      "n_members": ens.n_members, "std_scale": dict(ens.std_scale)},
            "catalogs": {k: {"path": str(v), "sha256_16": file_hash(v)} for k, v in catalogs.items()
                         if v and Path(v).is_file()},
            "versions": vers}


def resolve_catalog(path: str) -> Path:
    from chiscreen.paths import project_root

    p = Path(path)
    if p.is_file():
        return p
    root = project_root()
    if root is not None and (root / path).is_file():
        return root / path
    raise InvalidInputError(f"solvent catalog {path!r} not found (relative to the working directory or the project)")


def load_solvents(path: str) -> tuple[pd.DataFrame, pd.DataFrame, Path]:
    """(valid solvents with facts and greenness, invalid rows with reasons, resolved path)."""
    from chiscreen.catalogs.facts import solvent_facts_table
    from chiscreen.catalogs.catalog import build_catalog, join_greenness, read_source

    p = resolve_catalog(path)
    df, _ = build_catalog(read_source(p), "solvent", source=str(p))
    bad = df[df["status"] != "ok"][["name", "smiles", "status", "reason"]]
    ok = df[df["status"] == "ok"].reset_index(drop=True)
    if ok.empty:
        raise InvalidInputError(f"solvent catalog {p}: no valid solvent")
    ok = join_greenness(ok)
    ok = solvent_facts_table(ok)
    return ok, bad, p


def to_celsius(tk: float) -> float:
    return float(tk) - 273.15


def fmt_c(tk: float) -> str:
    if tk is None or not math.isfinite(float(tk)):
        return "-"
    return f"{float(tk) - 273.15:.0f} C"


def plot_chi_curves(path: Path, panels: list[dict], title: str) -> str:
    """One panel per solvent: chi(T) +- std of each polymer, chi_c line, marked temperatures.

    panels: [{"title": str, "T_K": (n,), "curves": [(label, mean (n,), std (n,), style)],
              "chi_c": float, "mark_K": float | None, "melts": [(label, T_K)] (optional)}]"""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = max(1, len(panels))
    cols = min(n, 2)
    rows = int(math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(6.0 * cols, 3.6 * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.axis("off")
    for ax, pn in zip(axes.ravel(), panels):
        Tc = np.asarray(pn["T_K"]) - 273.15
        colors = {}
        for label, m, s, style in pn["curves"]:
            line, = ax.plot(Tc, m, style, label=label, lw=2 if style == "-" else 1.2)
            ax.fill_between(Tc, np.asarray(m) - s, np.asarray(m) + s, color=line.get_color(), alpha=0.15)
            colors[label.split(" ")[0]] = line.get_color()
        for label, tk in pn.get("melts", []):   # depressed melting points: crystals dissolve only above
            if tk is not None and math.isfinite(tk) and Tc[0] <= tk - 273.15 <= Tc[-1]:
                ax.axvline(tk - 273.15, color=colors.get(label, "0.5"), lw=1, ls=":",
                           label=f"{label} crystals melt")
        ax.axhline(pn["chi_c"], color="k", lw=0.8, ls=":", label="chi_c")
        if pn.get("mark_K") is not None and math.isfinite(pn["mark_K"]):
            ax.axvline(pn["mark_K"] - 273.15, color="tab:green", lw=1, ls="--", label="lowest working T")
        ax.set_title(pn["title"], fontsize=10)
        ax.set_xlabel("T (C)")
        ax.set_ylabel("chi")
        ax.legend(fontsize=7, loc="best")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90)
    plt.close(fig)
    return str(path)
