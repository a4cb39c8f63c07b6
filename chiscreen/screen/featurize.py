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
        n[kind] += len(res["status"])
        n["failed"] += bad
        n["seconds"] += float(res.get("seconds", 0.0))
        n["molecule_seconds"] += float(res.get("molecule_seconds", 0.0))
        n["cpu_seconds"] += float(res.get("cpu_seconds", 0.0))
        self.computed[kind] = self.computed.get(kind, 0) + len(res["status"])
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

    def has(self, row: int) -> bool:
        return int(row) in self._rows

    def __getitem__(self, rows) -> np.ndarray:
        return np.stack([self._rows[int(r)] for r in np.atleast_1d(rows)])

    def __len__(self) -> int:
        return self.shape[0]


class DeferredPolymers:
    """Polymers featurized shard by shard on the actors that score them.

    The shard plan is over the catalog's ok rows (``rows``, in catalog order): shard i holds
    ``rows[i * shard_size:(i + 1) * shard_size]``. :meth:`block_for` is the shard's block (cached
    values, the keys still to compute); :meth:`on_result` records what the actor computed.
    """

    def __init__(self, df: pd.DataFrame, spec: FeaturizeSpec, rows: np.ndarray, shard_size: int,
                 flog: FeatureLog, status: list[str], reason: list[str]) -> None:
        self.fz, self.cache = _cache_for(spec, "polymer")
        flog.cache = self.cache.location.rsplit("/", 2)[0]
        self.known = self.cache.load()
        self.spec, self.rows, self.shard_size, self.flog = spec, np.asarray(rows, dtype=np.int64), shard_size, flog
        self.canon = df["canonical"].to_numpy()
        self.status, self.reason = list(status), list(reason)
        self._todo: dict[int, np.ndarray] = {}

    def block_for(self, i: int) -> dict:
        rows = self.rows[i * self.shard_size:(i + 1) * self.shard_size]
        X = np.full((len(rows), len(self.fz)), np.nan, dtype=np.float32)
        ok = np.zeros(len(rows), dtype=bool)
        todo: list[int] = []
        for j, r in enumerate(rows):
            e = self.known.get(self.canon[r])
            if e is None:
                todo.append(j)
            elif e[0] == "ok":
                X[j], ok[j] = e[2], True
                self.status[r], self.reason[r] = "ok", ""
            else:
                self.status[r], self.reason[r] = "failed", e[1]
                self.flog.add_failed_cached("polymer")
        self.flog.add_cached("polymer", len(rows) - len(todo))
        self._todo[i] = rows[todo]
        return {"X": X, "ok": ok, "todo": todo, "keys": [self.canon[rows[j]] for j in todo], "spec": self.spec}

    def on_result(self, i: int, s: dict) -> None:
        feat = s.get("feat")
        rows = self._todo.pop(i, np.zeros(0, dtype=np.int64))
        if not feat:
            return
        self.flog.add("polymer", feat)
        for r, st, why in zip(rows, feat["status"], feat["reason"]):
            self.status[r], self.reason[r] = ("ok", "") if st == "ok" else ("failed", why)
