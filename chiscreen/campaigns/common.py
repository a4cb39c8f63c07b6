"""Shared campaign plumbing: the output folder (a runtime OwnedDir), provenance, solvent catalogs with facts, plots."""
from __future__ import annotations

import hashlib
import json
import logging
import math
import platform
from contextlib import contextmanager
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


#: every file each campaign kind writes (relative glob patterns): what ``--overwrite`` may remove.
#: report.html is written by the CLI (chiscreen.report sits above campaigns) inside the same lock.
CAMPAIGN_FILES: dict[str, list[str]] = {
    "recycle": [MARKER, "solvents.csv", "dissolution_temperatures.csv", "antisolvents.csv", "grid.parquet",
                "chi_T.png", "report.html"],
    "compatibilizer": [MARKER, "additives.csv", "block_pairs.csv", "report.html"],
    "phase": [MARKER, "phase.csv", "phase.png"],
}


def owned_kind(kind: str) -> str:
    """The OwnedDir kind (manifest format ``chiscreen-<kind>``) of a campaign kind."""
    return kind if kind == "phase" else f"campaign-{kind}"


def open_out(out, kind: str, overwrite: bool = False, take_over: bool = False):
    """Open (create, lock, check) the folder of a campaign ``kind`` as a
    :class:`chiscreen.runtime.OwnedDir`; returns it open (call ``release()``, or use ``with``).

    Same rules as a screen's folder: a non-empty folder chiscreen did not write is refused unless
    ``overwrite`` (then only files named like this campaign's outputs are replaced, others are kept);
    an earlier campaign of the same kind is replaced only with ``overwrite`` (its files only; an
    incomplete one, whose manifest still says "running", is replaced without asking); a second
    writer gets OutputLockedError; a stale lock of a killed run needs ``take_over``.
    ``out`` may already be an open OwnedDir (the CLI keeps one open to add report.html): returned as is.

    Raises OutputDirError / OutputLockedError (ChiscreenError: CLI exit 2)."""
    from chiscreen.runtime import OutputDirError, OwnedDir

    if isinstance(out, OwnedDir):
        return out
    if not out:
        raise InvalidInputError(f"{kind}: no output folder given (--out DIR)")
    od = OwnedDir(str(out), owned_kind(kind), CAMPAIGN_FILES[kind], overwrite=overwrite, take_over=take_over).open()
    try:
        incomplete = od.state == "owned" and (od.previous or {}).get("status") == "running"
        if od.state == "owned" and not overwrite and not incomplete:
            raise OutputDirError(f"output folder {od} holds an earlier {kind} campaign; choose another --out, or "
                                 "pass --overwrite to replace its files (other files are kept)")
        if overwrite or incomplete:  # incomplete: an earlier run of this kind that failed or was killed
            od.clear()  # only chiscreen's files of this kind (and of the manifest found there)
        od.write_manifest({"kind": kind, "status": "running"})
    except BaseException:
        od.release()
        raise
    return od


@contextmanager
def campaign_dir(out, kind: str, overwrite: bool = False, take_over: bool = False):
    """``with campaign_dir(out, kind, ...) as od``: :func:`open_out`, released at the end unless the
    caller passed an open OwnedDir (then the caller releases it)."""
    from chiscreen.runtime import OwnedDir

    if isinstance(out, OwnedDir):
        yield out
        return
    od = open_out(out, kind, overwrite=overwrite, take_over=take_over)
    try:
        yield od
    except BaseException:
        abandon(od)
        raise
    finally:
        od.release()


def abandon(od) -> None:
    """After a failure: when nothing but the "running" manifest was written, remove it too, so that
    the folder is as before (a folder this run created is then removed on release)."""
    from chiscreen.runtime.outdir import MANIFEST

    try:
        if [e for e in od.entries() if od.is_ours(e)] == [MANIFEST] and \
                (od.read_manifest() or {}).get("status") == "running":
            od.fs.delete_file(od.path(MANIFEST))
    except Exception:  # best effort: the original error is what the user must see
        pass


def finish_out(od, kind: str, summary: dict, files: dict[str, str]) -> dict:
    """Mark the folder complete: manifest.json with the kind, model hash and the files written."""
    import os

    model = (summary.get("provenance") or {}).get("model", {})
    return od.write_manifest({"kind": kind, "status": "complete", "model_hash": model.get("artifact_hash", ""),
                              "summary": MARKER, "files": {k: os.path.basename(v) for k, v in files.items()}})


def out_path(od) -> Path:
    return Path(od.root)


def write_table(df: pd.DataFrame, path: Path, metadata: dict[bytes, bytes] | None = None) -> str:
    """CSV or (by suffix) Parquet, atomically; Parquet carries ``metadata``
    (:func:`chiscreen.runtime.table_metadata`: model hash, versions, writer)."""
    with atomic_path(path) as tmp:
        if path.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            from chiscreen.runtime import with_metadata

            pq.write_table(with_metadata(pa.Table.from_pandas(df, preserve_index=False), metadata), tmp)
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
    from chiscreen.catalogs.catalog import build_catalog, join_greenness, read_source
    from chiscreen.catalogs.facts import boiling_point_data_problem, solvent_facts_table

    p = resolve_catalog(path)
    df, _ = build_catalog(read_source(p), "solvent", source=str(p))
    bad = df[df["status"] != "ok"][["name", "smiles", "status", "reason"]]
    ok = df[df["status"] == "ok"].reset_index(drop=True)
    if ok.empty:
        raise InvalidInputError(f"solvent catalog {p}: no valid solvent")
    ok = join_greenness(ok)
    ok = solvent_facts_table(ok)
    problem = boiling_point_data_problem()
    if problem:  # every boiling point unknown: say why once, never as if the solvents lacked one
        logging.getLogger("chiscreen.campaigns").warning("boiling points unknown for all %d solvents: %s",
                                                         len(ok), problem)
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
