"""Descriptors of a screen's catalog molecules: on the driver, or on the cluster's screen actors.

``featurize.where: driver`` computes them here in a guarded local process pool
(:func:`chiscreen.features.featurize`). ``featurize.where: cluster`` computes them on the screen's
Ray actors (:class:`chiscreen.screen.engine.RayPool`), i.e. on every node the actors run on, each
actor in guarded worker processes of its own (per-molecule time and memory limits kept), into a
descriptor cache that all nodes reach (``featurize.cache_uri``):

- solvents (and the few polymers a selective query names) first, in batches spread over the
  actors, waited for: the solvent latents are needed by every shard;
- polymers shard by shard (:class:`DeferredPolymers`): the driver sends each shard its cached
  rows and the keys still to compute; the actor featurizes those and scores the shard at once,
  so scoring overlaps with featurization. Shards are then blocks of the catalog's valid rows, and
  a polymer that fails featurization is a row of ``polymers.parquet`` with status "failed" and
  the reason (left out of its shard).

:class:`FeatureLog` records where every molecule was computed (node id, host, counts, seconds),
for the job log and ``summary.json``. No Ray import here (the pool is the Ray-facing part).
"""
from __future__ import annotations

import logging
import socket
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from chiscreen.features.batch import FeaturizeSpec

log = logging.getLogger("chiscreen.screen")


def spec_for(ens: Any, opts: Any) -> FeaturizeSpec:
    """The :class:`FeaturizeSpec` of an ensemble's featurizer and the screen's featurize options."""
    return FeaturizeSpec(featurizer=ens.featurizer, polymer_representation=ens.polymer_representation,
                         cache_root=opts.root, timeout_s=float(opts.timeout_s), mem_limit_mb=opts.mem_limit_mb)


def _cache_for(spec: FeaturizeSpec, kind: str):
    from chiscreen.features import get_featurizer
    from chiscreen.features.cache import DescriptorCache

    fz = get_featurizer(spec.featurizer)
    return fz, DescriptorCache(fz.name, fz.version, spec.representation(kind), root=spec.cache_root)


@dataclass
class FeatureLog:
    """Where featurization ran: per node, molecules computed (and failed) and seconds, per kind."""

    where: str
    cache: str = ""
    nodes: dict[str, dict] = field(default_factory=dict)
    cached: dict[str, int] = field(default_factory=dict)
    computed: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, res: dict) -> None:
        """One batch result of a remote featurizer (``node``, ``host``, ``status``, ``seconds``)."""
        n = self.nodes.setdefault(res.get("node", "?"), {"host": res.get("host", "?"), "polymer": 0, "solvent": 0,
                                                          "failed": 0, "seconds": 0.0, "molecule_seconds": 0.0,
                                                          "cpu_seconds": 0.0})
        bad = sum(st != "ok" for st in res["status"])
        done = int(res.get("n_computed", len(res["status"])))  # a key given twice is computed once
        n[kind] += done
        n["failed"] += bad
        n["seconds"] += float(res.get("seconds", 0.0))
        n["molecule_seconds"] += float(res.get("molecule_seconds", 0.0))
        n["cpu_seconds"] += float(res.get("cpu_seconds", 0.0))
        self.computed[kind] = self.computed.get(kind, 0) + done
        self.failed[kind] = self.failed.get(kind, 0) + bad

    def add_failed_cached(self, kind: str) -> None:
        """A molecule whose cached entry is a failure (counted among the failed)."""
        self.failed[kind] = self.failed.get(kind, 0) + 1

    def add_cached(self, kind: str, n: int) -> None:
        self.cached[kind] = self.cached.get(kind, 0) + int(n)

    def lines(self) -> list[str]:
        kinds = [k for k in ("polymer", "solvent") if k in self.computed or k in self.cached]
        counts = "; ".join(f"{k}s: {self.computed.get(k, 0)} computed, {self.cached.get(k, 0)} from cache, "
                           f"{self.failed.get(k, 0)} failed (with the reason in {k}s.parquet)" for k in kinds)
        out = [f"featurization on the {self.where} (descriptor cache {self.cache}): {counts}"]
        for nid, n in sorted(self.nodes.items(), key=lambda kv: -(kv[1]["polymer"] + kv[1]["solvent"])):
            out.append(f"  featurized on node {nid[:12]} (host {n['host']}): {n['polymer']} polymers, "
                       f"{n['solvent']} solvents, {n['failed']} failed; worker processes {n['molecule_seconds']:.1f} s "
                       f"per-molecule wall, {n['cpu_seconds']:.1f} s CPU")
        return out

    def emit(self) -> None:
        for line in self.lines():
            log.info(line)

    def to_dict(self) -> dict:
        return {"where": self.where, "cache": self.cache, "computed": self.computed, "from_cache": self.cached,
                "failed": self.failed,
                "nodes": {k: {**v, **{f: round(v[f], 3) for f in ("seconds", "molecule_seconds", "cpu_seconds")}}
                          for k, v in self.nodes.items()}}


def _base_status(df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    ok = (df["status"] == "ok").to_numpy()
    status = np.where(ok, "ok", "not scored").astype(object)
    reason = np.where(ok, "", "catalog row is not ok").astype(object)
    return ok, status, reason


def featurize_driver(df: pd.DataFrame, kind: str, ens: Any, opts: Any, progress: bool,
                     flog: FeatureLog) -> tuple[np.ndarray, list[str], list[str]]:
    """Descriptors of the ok catalog rows in a local guarded pool -> (X (N, F) with NaN rows,
    feature_status, feature_reason)."""
    from chiscreen.features import featurize

    n = len(df)
    ok, status, reason = _base_status(df)
    idx = np.flatnonzero(ok)
    ft = featurize(df["canonical"].to_numpy()[idx].tolist(), kind=kind, featurizer=ens.featurizer,
                   representation=ens.polymer_representation if kind == "polymer" else None,
                   cache_root=opts.root, n_jobs=opts.n_jobs, timeout_s=opts.timeout_s,
                   mem_limit_mb=opts.mem_limit_mb, progress=progress, assume_canonical=True)
    X = np.full((n, ft.X.shape[1]), np.nan, dtype=np.float32)
    X[idx] = ft.X
    for j, i in enumerate(idx):
        if ft.status[j] != "ok":
            status[i] = ft.status[j]
            reason[i] = ft.reason[j]
    node = flog.nodes.setdefault("driver", {"host": socket.gethostname(), "polymer": 0, "solvent": 0, "failed": 0,
                                            "seconds": 0.0, "molecule_seconds": 0.0, "cpu_seconds": 0.0})
    node[kind] += ft.n_computed
    node["molecule_seconds"] += ft.seconds_computed
    node["failed"] += sum(st != "ok" for st in ft.status)
    flog.computed[kind] = flog.computed.get(kind, 0) + ft.n_computed
    flog.failed[kind] = flog.failed.get(kind, 0) + sum(st != "ok" for st in ft.status)
    flog.add_cached(kind, len(set(ft.keys)) - ft.n_computed)
    return X, status.tolist(), reason.tolist()


def featurize_cluster(df: pd.DataFrame, kind: str, spec: FeaturizeSpec, pool: Any, flog: FeatureLog,
                      rows: np.ndarray | None = None, batch: int = 64) -> tuple[np.ndarray, list[str], list[str]]:
    """Descriptors of the ok catalog rows (or only ``rows``) computed on the pool's actors, waited
    for -> (X (N, F) with NaN rows, feature_status, feature_reason). Cached molecules are read on
    the driver; the rest go to the actors in batches of ``batch``."""
    fz, cache = _cache_for(spec, kind)
    flog.cache = cache.location.rsplit("/", 2)[0]
    known = cache.load()
    n = len(df)
    ok, status, reason = _base_status(df)
    idx = np.flatnonzero(ok) if rows is None else np.asarray([r for r in rows if ok[r]], dtype=np.int64)
    canon = df["canonical"].to_numpy()
    X = np.full((n, len(fz)), np.nan, dtype=np.float32)
    todo = list(dict.fromkeys(canon[i] for i in idx if canon[i] not in known))
    flog.add_cached(kind, len({canon[i] for i in idx}) - len(todo))
    for res in pool.featurize(spec, kind, todo, batch=batch):
        flog.add(kind, res)
        for j, (st, why) in enumerate(zip(res["status"], res["reason"])):
            known[todo[res["start"] + j]] = (st, why, res["X"][j] if st == "ok" else None)
    computed = set(todo)
    for i in idx:
        st, why, v = known[canon[i]]
        if st == "ok":
            X[i] = v
        else:
            status[i], reason[i] = "failed", why
            if canon[i] not in computed:
                flog.add_failed_cached(kind)
    return X, status.tolist(), reason.tolist()


class RowStore:
    """Descriptor rows of a few catalog positions, indexable like the full (N, F) matrix for those
    positions (``store[[r1, r2]]``): what selective queries read when polymers were featurized
    shard by shard on the cluster."""

    def __init__(self, X: np.ndarray, rows: list[int] | np.ndarray) -> None:
        self._rows = {int(r): X[int(r)] for r in rows}
        self.shape = (len(X), X.shape[1])

    @classmethod
    def aligned(cls, X: np.ndarray, rows, n: int) -> "RowStore":
        """From (len(rows), F) descriptors of catalog positions ``rows`` in a catalog of ``n`` rows."""
        st = cls.__new__(cls)
        st._rows = {int(r): X[j] for j, r in enumerate(rows)}
        st.shape = (int(n), X.shape[1])
        return st

    def has(self, row: int) -> bool:
        return int(row) in self._rows

    def __getitem__(self, rows) -> np.ndarray:
        return np.stack([self._rows[int(r)] for r in np.atleast_1d(rows)])

    def __len__(self) -> int:
        return self.shape[0]


STATUS_CODES = ("ok", "not scored", "failed", "pending")
_OK, _NOT_SCORED, _FAILED, _PENDING = range(4)


class PolymerRows:
    """The polymer catalog of a screen without its rows in memory.

    Holds the :class:`~chiscreen.catalogs.catalog.CatalogSource` (rows read batch by batch or a
    few at a time), its compact plan (ids, ok, identity) and the feature status per row as int8
    codes (:data:`STATUS_CODES`) with the reasons of failed / pending rows only: about 10 bytes
    + the identity per row, whatever the catalog's other columns.
    """

    def __init__(self, source: Any) -> None:
        self.source = source
        plan = source.plan()
        self.ids, self.ok, self.canonical = plan.ids, plan.ok, plan.canonical
        self.code = np.where(self.ok, _OK, _NOT_SCORED).astype(np.int8)
        self.reason: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def scored(self) -> np.ndarray:
        return (self.code == _OK) | (self.code == _PENDING)

    def set(self, rows, code: int, reasons=None) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        self.code[rows] = code
        for j, r in enumerate(rows):
            if reasons is None:
                self.reason.pop(int(r), None)
            else:
                self.reason[int(r)] = reasons[j] if not isinstance(reasons, str) else reasons

    def status_of(self, rows) -> list[str]:
        return [STATUS_CODES[c] for c in self.code[np.asarray(rows, dtype=np.int64)]]

    def reason_of(self, rows) -> list[str]:
        out = []
        for r in np.asarray(rows, dtype=np.int64):
            c = self.code[r]
            out.append("" if c == _OK else "catalog row is not ok" if c == _NOT_SCORED else self.reason.get(int(r), ""))
        return out

    def keys(self, rows) -> list[str]:
        import pyarrow as pa

        return self.canonical.take(pa.array(np.asarray(rows, dtype=np.int64))).to_pylist()

    def with_status(self, df: pd.DataFrame, rows) -> pd.DataFrame:
        df = df.copy()
        df["feature_status"], df["feature_reason"] = self.status_of(rows), self.reason_of(rows)
        df["scored"] = self.scored[np.asarray(rows, dtype=np.int64)]
        return df

    def frame(self, rows) -> pd.DataFrame:
        """The catalog rows at ``rows`` (a few) with feature_status / feature_reason / scored."""
        return self.with_status(self.source.take(rows), rows)

    def frames(self, batch_rows: int = 16384):
        """(first row, DataFrame with the feature columns) batch by batch, for polymers.parquet
        (batches of ``batch_rows``: pandas holds each row's strings as objects)."""
        n = None if self.source.in_memory else min(batch_rows, self.source.batch_rows)
        for s, df in self.source.frames(batch_rows=n):
            yield s, self.with_status(df, np.arange(s, s + len(df)))

    def lookup(self, queries, kind: str = "polymer") -> list[int]:
        """:func:`chiscreen.catalogs.catalog.lookup` over the catalog, batch by batch (same order of
        preference: name, then abbreviation, then id, then canonical identity; first ok row)."""
        from chiscreen.catalogs.catalog import canonicalize_one, lookup
        from chiscreen.errors import InvalidInputError

        queries = [str(q).strip() for q in queries]
        if not queries:
            return []
        if self.source.in_memory:
            return lookup(self.source.take(np.arange(len(self))), queries, kind)
        cols = [c for c in ("id", "name", "abbreviation", "status", "canonical") if c in self.source.columns]
        want = {q.lower() for q in queries}
        canon = {q: canonicalize_one(kind, q)[0] for q in queries}
        found: dict[tuple[str, str], int] = {}
        ids = {int(q) for q in queries if q.lstrip("-").isdigit()}
        cset = {c for c in canon.values() if c}
        for s, df in self.source.frames(cols):
            ok = (df["status"] == "ok").to_numpy()
            for col in ("name", "abbreviation"):
                if col in df.columns:
                    for j, v in enumerate(df[col]):
                        if ok[j] and isinstance(v, str) and v.strip().lower() in want:
                            found.setdefault((col, v.strip().lower()), s + j)
            for j, (i, c) in enumerate(zip(df["id"], df["canonical"])):
                if ok[j]:
                    if int(i) in ids:
                        found.setdefault(("id", str(int(i))), s + j)
                    if c in cset:
                        found.setdefault(("canonical", c), s + j)
        out = []
        for q in queries:
            pos = found.get(("name", q.lower()), found.get(("abbreviation", q.lower())))
            if pos is None and q.lstrip("-").isdigit():
                pos = found.get(("id", str(int(q))))
            if pos is None and canon[q]:
                pos = found.get(("canonical", canon[q]))
            if pos is None:
                raise InvalidInputError(f"{kind} {q!r} is not in the catalog (looked up by name, abbreviation, id and "
                                        "canonical SMILES among valid rows)")
            out.append(int(pos))
        return out

    def not_scored(self, limit: int = 20) -> list[dict]:
        """The first ``limit`` rows that were not scored, with the reason."""
        rows = np.flatnonzero(~self.scored)[:limit]
        if len(rows) == 0:
            return []
        df = self.frame(rows)
        return [{"id": int(r.id), "name": str(r.name), "status": str(r.feature_status),
                 "reason": str(r.feature_reason if r.feature_status != "not scored" else r.reason)[:300]}
                for r in df.itertuples()]


class CachedRows:
    """Polymer descriptors read from the descriptor cache a few rows at a time, indexable like the
    (N, F) matrix of catalog rows (``store[rows]`` -> (len(rows), F) float32, NaN where a row has
    no ok entry). Holds the cache positions of the rows (:class:`~chiscreen.features.cache.CacheIndex`),
    never the values."""

    def __init__(self, index: Any, n_features: int, extra: RowStore | None = None) -> None:
        self.index, self.shape = index, (len(index.part), int(n_features))
        self.extra = extra

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> np.ndarray:
        if isinstance(rows, slice):
            rows = np.arange(self.shape[0])[rows]
        rows = np.atleast_1d(np.asarray(rows, dtype=np.int64))
        X = np.full((len(rows), self.shape[1]), np.nan, dtype=np.float32)
        good = (self.index.part[rows] >= 0) & self.index.ok[rows]
        if good.any():
            X[good] = self.index.values(rows[good], self.shape[1])
        if self.extra is not None:
            for j, r in enumerate(rows):
                if not good[j] and self.extra.has(r):
                    X[j] = self.extra[[r]][0]
        return X


class ScoredView:
    """``view[p0:p1]``: the descriptors of scored rows ``pi[p0:p1]`` of a :class:`CachedRows`, read
    when a shard asks for them (what :class:`~chiscreen.screen.engine.ScreenTask` ``.Xp`` holds in
    a streamed plain-engine screen). ``skip(lo)`` true: a finished shard, not read."""

    def __init__(self, store: CachedRows, pi: np.ndarray, skip: Any = None) -> None:
        self.store, self.pi, self.skip = store, np.asarray(pi, dtype=np.int64), skip
        self.shape = (len(self.pi), store.shape[1])

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, sl) -> np.ndarray:
        rows = self.pi[sl]
        if isinstance(sl, slice) and self.skip is not None and self.skip(sl.start or 0):
            return np.zeros((len(rows), self.shape[1]), np.float32)
        return self.store[rows]


def featurize_polymers_driver(rows: PolymerRows, ens: Any, opts: Any, progress: bool,
                              flog: FeatureLog) -> CachedRows:
    """Descriptors of the ok catalog rows: the identities not yet cached are computed here in a
    guarded local pool (once per identity) and appended to the cache in parts; the values stay in
    the cache (the returned :class:`CachedRows` reads them shard by shard). Sets the rows'
    feature status (ok / failed with the reason)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from chiscreen.features import get_featurizer
    from chiscreen.features.cache import DescriptorCache
    from chiscreen.features.guard import run_guarded
    from chiscreen.runtime import bar as progress_bar

    fz = get_featurizer(ens.featurizer)
    rep = ens.polymer_representation
    cache = DescriptorCache(fz.name, fz.version, rep, root=opts.root)
    okv = rows.ok
    ix = cache.locate(rows.canonical)
    missing = okv & (ix.part < 0)
    todo = pc.unique(rows.canonical.filter(pa.array(missing))).to_pylist() if missing.any() else []
    n_unique = pc.count_distinct(rows.canonical.filter(pa.array(okv))).as_py() if okv.any() else 0
    seconds, n_failed_new = 0.0, 0
    if todo:
        bar = progress_bar(len(todo), f"featurize polymers ({rep})", progress, unit="mol")
        pending: list = []
        try:
            for r in run_guarded([(fz.name, "polymer", k, rep) for k in todo], n_jobs=opts.n_jobs,
                                 timeout_s=opts.timeout_s, mem_limit_mb=opts.mem_limit_mb):
                seconds += r.seconds
                k = todo[r.index]
                pending.append((k, "ok", "", r.values) if r.values is not None else (k, "failed", r.reason, None))
                bar.update(1)
                if len(pending) >= 256:
                    cache.append(pending)
                    pending = []
        finally:
            bar.close()
            cache.append(pending)
        ix = cache.locate(rows.canonical)
    found = ix.part >= 0
    lost = okv & ~found
    if lost.any():  # compacted away by another process and not yet visible: say so per row
        rows.set(np.flatnonzero(lost), _FAILED, "descriptor cache entry not found after featurization; rerun")
    bad = np.flatnonzero(okv & found & ~ix.ok)
    if len(bad):
        rows.set(bad, _FAILED, ix.reasons(bad))
    n_bad = int(len(bad) + lost.sum())
    node = flog.nodes.setdefault("driver", {"host": socket.gethostname(), "polymer": 0, "solvent": 0, "failed": 0,
                                            "seconds": 0.0, "molecule_seconds": 0.0, "cpu_seconds": 0.0})
    node["polymer"] += len(todo)
    node["molecule_seconds"] += seconds
    node["failed"] += n_bad
    flog.computed["polymer"] = flog.computed.get("polymer", 0) + len(todo)
    flog.failed["polymer"] = flog.failed.get("polymer", 0) + n_bad
    flog.add_cached("polymer", n_unique - len(todo))
    return CachedRows(ix, len(fz))


class DeferredPolymers:
    """Polymers featurized shard by shard on the actors that score them.

    The shard plan is over the catalog's ok rows (``rows``, in catalog order): shard i holds
    ``rows[i * shard_size:(i + 1) * shard_size]``. :meth:`block_for` is the shard's block (cached
    values read for the shard only, the keys still to compute, each identity once);
    :meth:`on_result` records what the actor computed. An identity computed by a shard that has
    reported is read back from the cache, not computed again; one whose shard is still running
    is computed again by a later shard that holds it (at most the shards in flight).
    """

    def __init__(self, prows: PolymerRows, spec: FeaturizeSpec, rows: np.ndarray, shard_size: int,
                 flog: FeatureLog) -> None:
        self.fz, self.cache = _cache_for(spec, "polymer")
        flog.cache = self.cache.location.rsplit("/", 2)[0]
        self.prows = prows
        self.index = self.cache.locate(prows.canonical)
        self.spec, self.rows, self.shard_size, self.flog = spec, np.asarray(rows, dtype=np.int64), shard_size, flog
        self._todo: dict[int, np.ndarray] = {}
        self._known_parts = set(self.index.parts)
        self._fresh: dict[str, tuple[str, int, bool]] = {}  # identities computed in this run -> (part, row, ok)
        self._reported: set[str] = set()

    def _lookup_fresh(self, keys: list[str]) -> None:
        """Index the part files written since the run began (identities computed this run)."""
        if not any(k in self._reported and k not in self._fresh for k in keys):
            return
        import pyarrow.parquet as pq

        for p in self.cache._parts():
            if p in self._known_parts:
                continue
            try:
                t = pq.read_table(p, filesystem=self.cache.fs, columns=["key", "status"])
            except FileNotFoundError:
                continue
            self._known_parts.add(p)
            for r, (k, st) in enumerate(zip(t.column("key").to_pylist(), t.column("status").to_pylist())):
                if k in self._reported:
                    self._fresh[k] = (p, r, st == "ok")

    def block_for(self, i: int) -> dict:
        rows = self.rows[i * self.shard_size:(i + 1) * self.shard_size]
        pr, ix = self.prows, self.index
        X = np.full((len(rows), len(self.fz)), np.nan, dtype=np.float32)
        ok = np.zeros(len(rows), dtype=bool)
        keys = pr.keys(rows)
        found = ix.part[rows] >= 0
        good = found & ix.ok[rows]
        if good.any():
            X[good] = ix.values(rows[good], len(self.fz))
            ok[good] = True
            pr.set(rows[good], _OK)
        bad = np.flatnonzero(found & ~ix.ok[rows])
        if len(bad):
            pr.set(rows[bad], _FAILED, ix.reasons(rows[bad]))
            for _ in bad:
                self.flog.add_failed_cached("polymer")
        todo: list[int] = []
        rest = np.flatnonzero(~found)
        self._lookup_fresh([keys[j] for j in rest])
        for j in rest:
            e = self._fresh.get(keys[j])
            if e is None:
                todo.append(int(j))
                continue
            part, r, eok = e
            t = self.cache.read_rows(part, np.asarray([r]), ["values" if eok else "reason"])
            if eok:
                X[j] = np.asarray(t.column("values")[0].values.to_numpy(zero_copy_only=False), np.float32)
                ok[j] = True
                pr.set(rows[[j]], _OK)
            else:
                pr.set(rows[[j]], _FAILED, [t.column("reason")[0].as_py() or ""])
                self.flog.add_failed_cached("polymer")
        self.flog.add_cached("polymer", len(rows) - len(todo))
        self._todo[i] = rows[todo]
        return {"X": X, "ok": ok, "todo": todo, "keys": [keys[j] for j in todo], "spec": self.spec}

    def on_result(self, i: int, s: dict) -> None:
        feat = s.get("feat")
        rows = self._todo.pop(i, np.zeros(0, dtype=np.int64))
        if not feat:
            return
        self.flog.add("polymer", feat)
        keys = self.prows.keys(rows)
        for r, k, st, why in zip(rows, keys, feat["status"], feat["reason"]):
            if st == "ok":
                self.prows.set([r], _OK)
            else:
                self.prows.set([r], _FAILED, [why])
            self._reported.add(k)
