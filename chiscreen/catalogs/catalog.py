"""Catalogs: tables of polymers (repeat units with two '*') or solvents to screen.

A catalog is a Parquet table with at least

    id (int64, unique)  name  smiles (as given)  canonical (identity; null when invalid)
    status ("ok" | "invalid" | "duplicate")  reason (why not ok; "" when ok)

plus any extra columns of the source (cas, class, abbreviation, ...). Invalid rows are kept with
the parser's reason and duplicates (same canonical identity as an earlier row) are kept and
flagged: nothing is dropped silently, and the counts are reported.

The hand-curated starter catalogs live in ``catalogs/`` of the project (solvents.csv,
polymers.csv); see catalogs/README.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np
import pandas as pd

from chiscreen.chem import KINDS, try_canonical_key
from chiscreen.errors import ChiscreenError, InvalidInputError, MissingColumnError
from chiscreen.io import atomic_path, conform_batch
from chiscreen.paths import project_root
from chiscreen.schema import CATALOG_COLUMNS

CORE_COLUMNS = list(CATALOG_COLUMNS)


@dataclass
class CatalogReport:
    """Counts of one catalog build."""

    kind: str
    n_rows: int
    n_ok: int
    n_invalid: int
    n_duplicate: int

    def __str__(self) -> str:
        return (f"{self.n_rows} {self.kind} rows: {self.n_ok} ok, {self.n_invalid} invalid, "
                f"{self.n_duplicate} duplicate")

    def to_dict(self) -> dict:
        return {"kind": self.kind, "rows": self.n_rows, "ok": self.n_ok, "invalid": self.n_invalid,
                "duplicate": self.n_duplicate}


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InvalidInputError(f"unknown catalog kind {kind!r}; expected 'polymer' or 'solvent'")


def canonicalize_one(kind: str, smiles: object) -> tuple[str | None, str]:
    """(canonical identity, "") or (None, reason). Never raises on bad input
    (:func:`chiscreen.chem.try_canonical_key`)."""
    return try_canonical_key(kind, smiles)


def _canon_chunk(args: tuple[str, list[object]]) -> list[tuple[str | None, str]]:
    kind, items = args
    return [canonicalize_one(kind, s) for s in items]


def canonicalize_many(kind: str, smiles: Sequence[object], n_jobs: int = 1, progress: bool = False,
                      chunk: int = 256, timeout_s: float | None = 600.0) -> list[tuple[str | None, str]]:
    """Canonicalize a list (~1-2 ms per polymer); ``n_jobs > 1`` runs chunks in the runtime's
    supervised pool (a chunk that crashes or passes ``timeout_s`` gives its rows that reason)."""
    from chiscreen.runtime import SupervisedPool, bar as progress_bar

    _check_kind(kind)
    smiles = list(smiles)
    chunks = [smiles[i:i + chunk] for i in range(0, len(smiles), chunk)]
    bar = progress_bar(len(smiles), f"canonicalize {kind}s", progress, unit="mol")
    res: list[list[tuple[str | None, str]] | None] = [None] * len(chunks)
    try:
        if n_jobs > 1 and len(chunks) > 1:
            pool = SupervisedPool(f"{__name__}:_canon_chunk", workers=min(n_jobs, len(chunks)),
                                  timeout_s=timeout_s)
            for o in pool.imap_unordered([(kind, c) for c in chunks]):
                n = len(chunks[o.index])
                res[o.index] = o.value if o.ok else [(None, f"canonicalization failed: {o.reason}")] * n
                bar.update(n)
        else:
            for k, c in enumerate(chunks):
                res[k] = _canon_chunk((kind, c))
                bar.update(len(c))
    finally:
        bar.close()
    return [r for part in res for r in part]  # type: ignore[union-attr]


def build_catalog(table: pd.DataFrame, kind: str, smiles_column: str = "smiles", name_column: str | None = "name",
                  n_jobs: int = 1, progress: bool = False, source: str = "table") -> tuple[pd.DataFrame, CatalogReport]:
    """Validate and canonicalize a table of SMILES into a catalog.

    Args:
        table: input rows; ``smiles_column`` is required, ``name_column`` optional (names
            default to "<kind>-<row>"), an integer ``id`` column is kept when unique, every
            other column is carried along.
        kind: "polymer" (repeat units with two '*') or "solvent".
    Returns:
        (catalog DataFrame with :data:`CORE_COLUMNS` first, :class:`CatalogReport`).
    Raises MissingColumnError when ``smiles_column`` is absent; bad rows never raise.
    """
    _check_kind(kind)
    if smiles_column not in table.columns:
        raise MissingColumnError(f"{source}: no column {smiles_column!r}; columns are {list(table.columns)}")
    df = table.reset_index(drop=True).copy()
    n = len(df)
    if "id" in df.columns:
        ids = pd.to_numeric(df["id"], errors="coerce")
        if ids.isna().any() or not (ids == ids.round()).all() or ids.duplicated().any():
            raise InvalidInputError(f"{source}: column 'id' must hold unique integers; rename it to keep it")
        df["id"] = ids.astype(np.int64)
    else:
        df["id"] = np.arange(n, dtype=np.int64)
    if name_column and name_column in df.columns:
        names = df[name_column].astype(object).where(df[name_column].notna(), None)
        df["name"] = [str(v) if v is not None else f"{kind}-{i}" for i, v in zip(df["id"], names)]
    else:
        df["name"] = [f"{kind}-{i}" for i in df["id"]]
    if smiles_column != "smiles":
        df["smiles"] = df[smiles_column]
    df["smiles"] = df["smiles"].astype(object).where(df["smiles"].notna(), None)
    res = canonicalize_many(kind, df["smiles"].tolist(), n_jobs=n_jobs, progress=progress)
    canon = [c for c, _ in res]
    status = ["ok" if c is not None else "invalid" for c in canon]
    reason = [r for _, r in res]
    first: dict[str, int] = {}
    # named grades of one repeat unit (isotactic / atactic PP) are distinct rows: identity + tacticity
    tac = [t.strip() if isinstance(t, str) else "" for t in df["tacticity"]] if "tacticity" in df.columns else [""] * n
    for i, c in enumerate(canon):
        if c is None:
            continue
        c = f"{c} [{tac[i]}]" if tac[i] else c
        if c in first:
            j = first[c]
            status[i] = "duplicate"
            reason[i] = f"same {kind} as row {j} ({df['name'].iat[j]}): {c}"
        else:
            first[c] = i
    df["canonical"] = canon
    df["status"] = status
    df["reason"] = reason
    extra = [c for c in df.columns if c not in CORE_COLUMNS]
    df = df[CORE_COLUMNS + extra]
    rep = CatalogReport(kind, n, status.count("ok"), status.count("invalid"), status.count("duplicate"))
    return df, rep


def read_smiles_list(path: str | Path) -> pd.DataFrame:
    """A SMILES list (.smi/.txt): one per line, optional name after whitespace; '#' comments."""
    rows = []
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 1)
        rows.append({"smiles": parts[0], "name": parts[1] if len(parts) > 1 else None})
    return pd.DataFrame(rows, columns=["smiles", "name"])


def read_source(path: str | Path) -> pd.DataFrame:
    """Read a CSV/TSV/Parquet table or a SMILES list by extension."""
    p = Path(path)
    if not p.is_file():
        raise InvalidInputError(f"catalog source {p} does not exist")
    if p.suffix.lower() in (".smi", ".smiles") or (p.suffix.lower() == ".txt" and "," not in p.read_text()[:1000]):
        return read_smiles_list(p)
    from chiscreen.data import read_table

    return read_table(p)


def is_catalog(df: pd.DataFrame) -> bool:
    return all(c in df.columns for c in CORE_COLUMNS)


def resolve_path(path: str | Path) -> Path:
    """A relative path as given (cwd) or, failing that, relative to the project root."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return p
    root = project_root()
    if root is not None and (root / p).exists():
        return root / p
    return p


def load_catalog(path: str | Path, kind: str, smiles_column: str = "smiles", name_column: str | None = "name",
                 n_jobs: int = 1, progress: bool = False) -> tuple[pd.DataFrame, CatalogReport]:
    """A catalog from a built catalog (Parquet with the core columns) or any source table."""
    _check_kind(kind)
    p = resolve_path(path)
    df = read_source(p)
    if is_catalog(df):
        st = df["status"].tolist()
        rep = CatalogReport(kind, len(df), st.count("ok"), st.count("invalid"), st.count("duplicate"))
        return df, rep
    return build_catalog(df, kind, smiles_column, name_column, n_jobs=n_jobs, progress=progress, source=str(p))


# ------------------------------------------------------------------ streaming (catalogs of any size)
#: rows per record batch when a catalog is streamed
BATCH_ROWS = 65536
_STATUSES = ("ok", "invalid", "duplicate")


@dataclass
class CatalogPlan:
    """The compact per-row table a screen plans from (not the catalog's rows).

    Attributes:
        ids: (n,) int64 catalog ids; ok: (n,) bool status "ok";
        canonical: (n,) Arrow string (chunked) array, the identity (null where not ok).
    About 9 bytes + the identity's length per row (~80 MB at 1e6 polymers).
    """

    ids: np.ndarray
    ok: np.ndarray
    canonical: "object"  # pyarrow.Array of strings

    def __len__(self) -> int:
        return len(self.ids)


class CatalogSource:
    """A built catalog read in record batches: a Parquet file or a folder of part files
    (``pyarrow.dataset``), or a table already in memory (CSV / SMILES lists, built on reading).

    Never holds the rows of a dataset in memory: :meth:`frames` yields them batch by batch,
    :meth:`take` reads a few rows (a shard's, a query's), :meth:`plan` is the compact table.
    """

    def __init__(self, kind: str, label: str, dataset=None, frame: pd.DataFrame | None = None,
                 batch_rows: int | None = None) -> None:
        self.kind, self.label, self.batch_rows = kind, label, int(batch_rows or BATCH_ROWS)
        self._ds, self._df = dataset, frame
        self._plan: CatalogPlan | None = None

    @classmethod
    def from_frame(cls, df: pd.DataFrame, kind: str, label: str = "table") -> "CatalogSource":
        return cls(kind, label, frame=df.reset_index(drop=True))

    @property
    def in_memory(self) -> bool:
        return self._df is not None

    @property
    def n_rows(self) -> int:
        return len(self._df) if self._df is not None else int(self._ds.count_rows())

    @property
    def columns(self) -> list[str]:
        return list(self._df.columns) if self._df is not None else list(self._ds.schema.names)

    def _to_frame(self, tab) -> pd.DataFrame:
        return tab.to_pandas().reset_index(drop=True)

    def frames(self, columns: list[str] | None = None,
               batch_rows: int | None = None) -> Iterator[tuple[int, pd.DataFrame]]:
        """(first row position, DataFrame) of consecutive batches of ``batch_rows`` rows (default
        :attr:`batch_rows`)."""
        n = int(batch_rows or self.batch_rows)
        if self._df is not None:
            df = self._df if columns is None else self._df[columns]
            for s in range(0, max(len(df), 1), n):
                yield s, df.iloc[s:s + n].reset_index(drop=True)
            return
        for s, tab in self.tables(columns, n):
            yield s, self._to_frame(tab)

    def tables(self, columns: list[str] | None = None, batch_rows: int | None = None) -> Iterator[tuple[int, "object"]]:
        """(first row position, pyarrow Table) of consecutive batches (datasets only)."""
        import pyarrow as pa

        n = int(batch_rows or self.batch_rows)
        s = 0
        schema = self._ds.schema if columns is None else pa.schema([self._ds.schema.field(c) for c in columns],
                                                                   metadata=self._ds.schema.metadata)
        # no read-ahead: one batch in memory at a time (the default buffers up to 16 x 4 of them)
        for b in self._ds.to_batches(columns=columns, batch_size=n, batch_readahead=0,
                                     fragment_readahead=0, use_threads=False):
            if b.num_rows == 0:
                continue
            yield s, pa.Table.from_batches([b], schema=schema)
            s += b.num_rows

    def take(self, rows: np.ndarray | Sequence[int], columns: list[str] | None = None) -> pd.DataFrame:
        """The catalog rows at positions ``rows`` (a few: a shard's, a query's) as a DataFrame."""
        import pyarrow as pa

        rows = np.asarray(rows, dtype=np.int64)
        if self._df is not None:
            df = self._df if columns is None else self._df[columns]
            return df.iloc[rows].reset_index(drop=True)
        if len(rows) == 0:
            return self._to_frame(self._ds.schema.empty_table().select(columns or self._ds.schema.names))
        t = self._ds.take(pa.array(rows), columns=columns)
        return self._to_frame(t.replace_schema_metadata(self._ds.schema.metadata))

    def plan(self) -> CatalogPlan:
        """The compact per-row table (ids, ok, identity), validated batch by batch: a status
        other than ok / invalid / duplicate, an ok row without identity, a missing or repeated
        id raise InvalidInputError naming the catalog and the row."""
        if self._plan is not None:
            return self._plan
        import pyarrow as pa
        import pyarrow.compute as pc

        ids, oks, canon = [], [], []
        cols = ["id", "status", "canonical"]
        if self._df is not None:
            it = ((0, pa.Table.from_pandas(self._df[cols].astype({"canonical": object}), preserve_index=False)),)
        else:
            it = self.tables(cols)
        for s, t in it:
            idc = t.column("id")
            if idc.null_count:
                raise InvalidInputError(f"{self.label}: row {s + _first_null(idc)} has no id")
            st = t.column("status").cast(pa.string())
            bad = pc.invert(pc.fill_null(pc.is_in(st, value_set=pa.array(_STATUSES)), False))
            if pc.any(bad).as_py():
                r = int(np.flatnonzero(bad.to_numpy(zero_copy_only=False))[0])
                raise InvalidInputError(f"{self.label}: row {s + r}: status {st[r].as_py()!r}, expected one of "
                                        f"{list(_STATUSES)}")
            ok = pc.equal(st, "ok").to_numpy(zero_copy_only=False).astype(bool)
            c = t.column("canonical").cast(pa.string())
            nul = ok & ~np.asarray(c.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
            if nul.any():
                raise InvalidInputError(f"{self.label}: row {s + int(np.flatnonzero(nul)[0])} has status ok "
                                        "but no canonical identity")
            ids.append(np.asarray(idc.to_numpy(), dtype=np.int64))
            oks.append(ok)
            canon.extend(ch for ch in c.chunks if len(ch))
        idv = np.concatenate(ids) if ids else np.zeros(0, np.int64)
        srt = np.sort(idv)
        dup = np.flatnonzero(srt[1:] == srt[:-1])
        if len(dup):
            raise InvalidInputError(f"{self.label}: id {int(srt[dup[0]])} is not unique")
        okv = np.concatenate(oks) if oks else np.zeros(0, bool)
        carr = pa.chunked_array(canon, pa.string())  # chunks as read: no second copy
        self._plan = CatalogPlan(ids=idv, ok=okv, canonical=carr)
        pa.default_memory_pool().release_unused()  # the batches' buffers, back to the system
        return self._plan

    def report(self) -> CatalogReport:
        p = self.plan()
        if self._df is not None:
            st = self._df["status"]
            return CatalogReport(self.kind, len(st), int((st == "ok").sum()), int((st == "invalid").sum()),
                                 int((st == "duplicate").sum()))
        import pyarrow.compute as pc

        counts = {"ok": 0, "invalid": 0, "duplicate": 0}
        for _, t in self.tables(["status"]):
            vc = pc.value_counts(t.column("status").cast("string")).to_pylist()
            for d in vc:
                counts[d["values"]] = counts.get(d["values"], 0) + int(d["counts"])
        return CatalogReport(self.kind, len(p), counts["ok"], counts["invalid"], counts["duplicate"])


def _first_null(col) -> int:
    return int(np.flatnonzero(~np.asarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=bool))[0])


def _parquet_dataset(p: Path):
    import pyarrow.dataset as ds

    try:
        return ds.dataset(str(p), format="parquet")
    except Exception as exc:  # unreadable file, a folder without Parquet parts
        msg = " ".join(str(exc).split())
        raise InvalidInputError(f"cannot read catalog {p} as a Parquet dataset: {msg[:300]}") from None


def open_catalog(path: str | Path, kind: str, smiles_column: str = "smiles", name_column: str | None = "name",
                 n_jobs: int = 1, progress: bool = False,
                 batch_rows: int | None = None) -> tuple[CatalogSource, CatalogReport]:
    """A catalog for streaming: a built catalog Parquet file or folder of part files is read as a
    ``pyarrow.dataset`` in record batches (never as one frame); any other source (CSV, SMILES list,
    a Parquet table that still needs building) is read and built in memory as by
    :func:`load_catalog` (small catalogs). Raises InvalidInputError for unreadable sources and
    the validation errors of :meth:`CatalogSource.plan`."""
    _check_kind(kind)
    batch_rows = int(batch_rows or BATCH_ROWS)
    p = resolve_path(path)
    if p.is_dir() or (p.is_file() and p.suffix.lower() in (".parquet", ".pq")):
        d = _parquet_dataset(p)
        if all(c in d.schema.names for c in CORE_COLUMNS):
            src = CatalogSource(kind, str(p), dataset=d, batch_rows=batch_rows)
            return src, src.report()
        if p.is_dir():
            raise InvalidInputError(f"catalog folder {p} is not a built catalog (columns {list(d.schema.names)}, "
                                    f"expected {CORE_COLUMNS}); build it with `chiscreen catalog build`")
    df, rep = load_catalog(p, kind, smiles_column, name_column, n_jobs=n_jobs, progress=progress)
    src = CatalogSource(kind, str(p), frame=df.reset_index(drop=True), batch_rows=batch_rows)
    return src, rep


def write_catalog(df: pd.DataFrame, path: str | Path) -> Path:
    """Write a catalog Parquet (atomically), with chiscreen's table metadata (versions)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from chiscreen.runtime import table_metadata, with_metadata

    p = Path(path)
    with atomic_path(p) as tmp:
        pq.write_table(with_metadata(pa.Table.from_pandas(df, preserve_index=False),
                                     table_metadata(None, writer="catalog", kind=str(df.attrs.get("kind", "")))), tmp)
    return p


def write_catalog_batches(frames: Iterable[pd.DataFrame], path: str | Path, kind: str = "",
                          part_rows: int | None = None) -> Path:
    """Write a catalog that does not fit one frame, frame by frame (each frame: the rows of
    :data:`CORE_COLUMNS` + extras, the same columns every time), with chiscreen's table
    metadata. ``path`` ending in .parquet: one file (row groups per frame); otherwise a folder of
    part files (``part-00000.parquet``, ...; ``part_rows`` per part, default one per frame) that
    :func:`open_catalog` reads as a dataset. Atomic: written beside and renamed into place.
    Raises InvalidInputError when a frame's columns do not fit the first one's."""
    import os
    import shutil
    import uuid

    import pyarrow as pa
    import pyarrow.parquet as pq

    from chiscreen.runtime import table_metadata

    meta = table_metadata(None, writer="catalog", kind=kind)
    p = Path(path)
    single = p.suffix.lower() in (".parquet", ".pq")
    schema = None

    def tables():
        nonlocal schema
        for df in frames:
            t = pa.Table.from_pandas(df, preserve_index=False)
            if schema is None:
                schema = t.schema.with_metadata({**(t.schema.metadata or {}), **meta})
            yield conform_batch(t, schema, str(p), InvalidInputError)

    if single:
        with atomic_path(p) as tmp:
            writer = None
            try:
                for t in tables():
                    writer = writer or pq.ParquetWriter(tmp, schema)
                    writer.write_table(t)
            finally:
                if writer is not None:
                    writer.close()
            if writer is None:
                raise InvalidInputError(f"{p}: no rows to write")
        return p
    p.parent.mkdir(parents=True, exist_ok=True)
    tmpdir = p.with_name(f".{p.name}.{uuid.uuid4().hex[:12]}.tmp")
    tmpdir.mkdir()
    try:
        k, buf, n = 0, [], 0
        for t in tables():
            buf.append(t)
            n += t.num_rows
            if part_rows is None or n >= part_rows:
                pq.write_table(pa.concat_tables(buf), tmpdir / f"part-{k:05d}.parquet")
                k, buf, n = k + 1, [], 0
        if buf:
            pq.write_table(pa.concat_tables(buf), tmpdir / f"part-{k:05d}.parquet")
            k += 1
        if k == 0:
            raise InvalidInputError(f"{p}: no rows to write")
        if p.exists():
            shutil.rmtree(p) if p.is_dir() else p.unlink()
        os.replace(tmpdir, p)
    except BaseException:
        shutil.rmtree(tmpdir, ignore_errors=True)
        raise
    return p


def builtin_catalog(kind: str) -> Path:
    """Path of the shipped starter catalog (catalogs/solvents.csv or catalogs/polymers.csv)."""
    _check_kind(kind)
    name = "polymers.csv" if kind == "polymer" else "solvents.csv"
    for base in (Path.cwd(), project_root()):
        if base is not None and (base / "catalogs" / name).is_file():
            return base / "catalogs" / name
    raise InvalidInputError(f"starter catalog catalogs/{name} not found beside the working directory or the "
                            "project; pass a catalog path")


# ------------------------------------------------------------------ greenness
def _norm_cas(x: object) -> str | None:
    if not isinstance(x, str):
        return None
    s = x.strip().strip("b'\"")
    return s or None


def join_greenness(df: pd.DataFrame) -> pd.DataFrame:
    """Add ``gsk_g_score`` (GSK solvent guide composite score, higher = greener) to a solvent table.

    Read at run time from the reference data (``solvents/gsk_solvent_guide.csv``), matched by CAS
    number where both have one, else by canonical SMILES. Missing data (no reference folder)
    gives an all-NaN column; the file is never copied into the project.
    """
    out = df.copy()
    out["gsk_g_score"] = np.nan
    try:
        from chiscreen.data import data_file

        g = pd.read_csv(data_file("solvents/gsk_solvent_guide.csv"))
    except (ChiscreenError, OSError, ValueError):
        return out
    score_col = next((c for c in g.columns if c.strip().lower() == "g-score"), None)
    cas_col = next((c for c in g.columns if "cas" in c.lower()), None)
    smi_col = next((c for c in g.columns if "smiles" in c.lower()), None)
    if score_col is None:
        return out
    by_cas: dict[str, float] = {}
    by_smi: dict[str, float] = {}
    for _, row in g.iterrows():
        sc = float(row[score_col]) if pd.notna(row[score_col]) else np.nan
        if cas_col and (c := _norm_cas(row[cas_col])):
            by_cas.setdefault(c, sc)
        if smi_col and isinstance(row[smi_col], str):
            can, _ = canonicalize_one("solvent", row[smi_col])
            if can:
                by_smi.setdefault(can, sc)
    scores = []
    for i in range(len(out)):
        cas = _norm_cas(out["cas"].iat[i]) if "cas" in out.columns else None
        can = out["canonical"].iat[i] if "canonical" in out.columns else None
        v = by_cas.get(cas) if cas else None
        if v is None and isinstance(can, str):
            v = by_smi.get(can)
        scores.append(np.nan if v is None else v)
    out["gsk_g_score"] = scores
    return out


def lookup(df: pd.DataFrame, queries: Iterable[str], kind: str = "polymer") -> list[int]:
    """Catalog row positions for names, abbreviations, ids or SMILES (matched by canonical identity).

    Raises InvalidInputError naming a query that matches no ok row.
    """
    ok = df[df["status"] == "ok"]
    by_text: dict[str, int] = {}
    for col in ("name", "abbreviation"):
        if col in ok.columns:
            for pos, v in zip(ok.index, ok[col]):
                if isinstance(v, str):
                    by_text.setdefault(v.strip().lower(), pos)
    by_canon: dict[str, int] = {}
    for pos, c in zip(ok.index, ok["canonical"]):
        by_canon.setdefault(c, pos)   # a SMILES names the first (generic) row, not a named grade
    by_id = {int(i): pos for pos, i in zip(ok.index, ok["id"])}
    out = []
    for q in queries:
        s = str(q).strip()
        pos = by_text.get(s.lower())
        if pos is None and s.lstrip("-").isdigit():
            pos = by_id.get(int(s))
        if pos is None:
            can, _ = canonicalize_one(kind, s)
            pos = by_canon.get(can) if can else None
        if pos is None:
            raise InvalidInputError(f"{kind} {s!r} is not in the catalog (looked up by name, abbreviation, id and "
                                    "canonical SMILES among valid rows)")
        out.append(int(pos))
    return out
