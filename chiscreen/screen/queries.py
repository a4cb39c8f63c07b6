"""Screening queries, evaluated block by block so the full product is never materialised.

A query keeps rows (polymer, solvent, T) of a screen:

- thresholds (all given ones must hold): ``chi < chi_max``, ``chi >= chi_min``,
  ``p_soluble >= p_soluble_min``, ``chi_std <= chi_std_max``, ``miscible_only`` (chi < chi_c);
- ``top_k_per_polymer``: among the rows that pass the thresholds, the k best solvents of each
  polymer at each temperature (exact per block: a block holds every solvent of its polymers);
- ``top_k_per_solvent``: the k best polymers of each solvent at each temperature; each block
  writes its own per-solvent top k (candidates) and :func:`merge_top_per_solvent` merges them
  shard by shard, holding at most k rows per (solvent, T) in memory;
- ``selective``: solvents that dissolve every polymer of a target set and none of an exclusion
  set, at one or more temperatures, ranked by margin (see :func:`selective_dissolution`).

"Best" is set by ``rank_by``, a key of :data:`RANK_KEYS`: the lowest chi (``chi``), the lowest
one-sigma upper bound chi + chi_std (``chi_upper``: confident solvents first) or the highest
P(soluble) (``p_soluble``). Each key is ONE function over a score block (columns chi, chi_std,
p_soluble as torch tensors or numpy arrays, smaller is better); the block top-k (torch) and the
streaming merge of Parquet candidates (arrow -> numpy) both call it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Literal

import numpy as np
import pyarrow as pa
import torch

from chiscreen.errors import ConfigError
from chiscreen.registry import Registry
from chiscreen.schema import POLYMER_ID, SOLVENT_ID, T_K
from chiscreen.screen.scoring import BlockScores
from chiscreen.thermo import miscibility_verdict_array

# rank_by: name -> f(chi, chi_std, p_soluble) -> key, smaller is better. Arguments broadcast
# (block: chi/chi_std (P, T, S), p_soluble (P, 1, S); candidates: (N,) columns).
RANK_KEYS: Registry = Registry("rank_by key")
RANK_KEYS.register("chi")(lambda chi, chi_std, p_soluble: chi)
RANK_KEYS.register("chi_upper")(lambda chi, chi_std, p_soluble: chi + chi_std)
RANK_KEYS.register("p_soluble")(lambda chi, chi_std, p_soluble: -p_soluble)
RANK_NEEDS_P = {"p_soluble"}  # keys that read P(soluble) for every pair
RANK_MEAN_ONLY = {"chi"}      # keys that read only the ensemble mean (mean-first scoring allowed)

PAIR_SCHEMA = pa.schema([  # on-disk names of screen pair tables (chiscreen.schema: screen tables)
    (POLYMER_ID, pa.int64()),
    (SOLVENT_ID, pa.int64()),
    (T_K, pa.float32()),
    ("chi", pa.float32()),
    ("chi_std", pa.float32()),
    ("p_soluble", pa.float32()),
    ("p_soluble_std", pa.float32()),
    ("miscible", pa.bool_()),    # point estimate chi < chi_c
    ("verdict", pa.string()),    # thermo.miscibility_verdict: miscible / immiscible / borderline, as predict says
    ("ad_score", pa.float32()),  # applicability-domain score of the pair (chiscreen.model.domain; NaN: model without it)
])


@dataclass
class SelectiveQuery:
    """Solvents that dissolve all of ``dissolve`` and none of ``exclude``.

    Polymers are named by catalog id, name, abbreviation or SMILES (matched by canonical
    identity). A polymer counts as dissolved at T when chi(T) < chi_c (``criterion: chi``) or
    P(soluble) >= 0.5 (``criterion: p_soluble``). The margin of a solvent is the smallest
    distance to the verdict boundary over all polymers involved (positive: all verdicts as
    wanted); solvents are ranked by margin, largest first.
    """

    name: str = "selective"
    dissolve: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    temperatures: list[str | float] = field(default_factory=list)  # empty: the screen's temperatures
    criterion: Literal["chi", "p_soluble"] = "chi"
    top_k: int = 20
    only_selective: bool = False  # True: drop solvents with a negative margin

    def __post_init__(self) -> None:
        if not self.dissolve:
            raise ConfigError(f"selective query {self.name!r}: 'dissolve' is empty; expected at least one polymer")
        if self.top_k < 1:
            raise ConfigError(f"selective query {self.name!r}: top_k={self.top_k}, expected >= 1")


@dataclass
class QueryConfig:
    """What a screen keeps. Units: chi dimensionless, temperatures in Kelvin elsewhere."""

    chi_max: float | None = None
    chi_min: float | None = None
    p_soluble_min: float | None = None
    chi_std_max: float | None = None
    miscible_only: bool = False
    top_k_per_polymer: int = 0
    top_k_per_solvent: int = 0
    rank_by: str = "chi"
    keep_all: bool = False
    selective: list[SelectiveQuery] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.rank_by not in RANK_KEYS:
            raise ConfigError(f"query.rank_by = {self.rank_by!r}, expected one of {RANK_KEYS.keys()}")
        for k in ("top_k_per_polymer", "top_k_per_solvent"):
            if getattr(self, k) < 0:
                raise ConfigError(f"query.{k} = {getattr(self, k)}, expected >= 0")
        if self.p_soluble_min is not None and not 0.0 <= self.p_soluble_min <= 1.0:
            raise ConfigError(f"query.p_soluble_min = {self.p_soluble_min}, expected a probability in [0, 1]")
        names = [s.name for s in self.selective]
        if len(set(names)) != len(names):
            raise ConfigError(f"query.selective: names {names} are not unique")

    @property
    def has_threshold(self) -> bool:
        return any(v is not None for v in (self.chi_max, self.chi_min, self.p_soluble_min, self.chi_std_max)) \
            or self.miscible_only

    def check_bounded(self) -> None:
        """Refuse a query that would write every pair (unless ``keep_all``)."""
        if not (self.keep_all or self.has_threshold or self.top_k_per_polymer or self.top_k_per_solvent
                or self.selective):
            raise ConfigError(
                "query keeps every pair (no threshold, top-k or selective query); set e.g. "
                "'top_k_per_polymer: 10' or 'chi_max: 0.5', or 'keep_all: true' to write the full product"
            )

    @property
    def needs_p_all(self) -> bool:
        """Whether P(soluble) is needed for every pair (a threshold or ranking on it)."""
        return self.p_soluble_min is not None or self.rank_by in RANK_NEEDS_P

    @property
    def allows_mean_first(self) -> bool:
        """Whether every decision (thresholds, ranking) reads only the ensemble mean of chi, so
        the scorer may compute the mean with one GEMM and the std only for kept / ranked rows."""
        return not self.needs_p_all and self.chi_std_max is None and self.rank_by in RANK_MEAN_ONLY

    @property
    def writes_pairs(self) -> bool:
        """Whether the per-shard pair files carry rows (thresholds, per-polymer top k or keep_all)."""
        return self.keep_all or self.has_threshold or self.top_k_per_polymer > 0


def _threshold_mask(r: BlockScores, q: QueryConfig, chi_c: float) -> torch.Tensor | None:
    """(P, T, S) bool mask of rows passing every threshold, or None when there is none."""
    mask = None

    def _and(m):
        nonlocal mask
        mask = m if mask is None else mask & m

    if q.chi_max is not None:
        _and(r.chi < q.chi_max)
    if q.miscible_only:
        _and(r.chi < chi_c)
    if q.chi_min is not None:
        _and(r.chi >= q.chi_min)
    if q.chi_std_max is not None:
        _and(r.chi_std <= q.chi_std_max)
    if q.p_soluble_min is not None:
        _and((r.p_soluble >= q.p_soluble_min)[:, None, :].expand_as(r.chi))
    return mask


def _rank_key(r: BlockScores, q: QueryConfig, mask: torch.Tensor | None) -> torch.Tensor:
    """(P, T, S) key where smaller is better; rows failing the thresholds get +inf."""
    p = r.p_soluble[:, None, :] if r.p_soluble is not None else None
    key = torch.broadcast_to(RANK_KEYS[q.rank_by](r.chi, r.chi_std, p), r.chi.shape).clone()
    if mask is not None:
        key.masked_fill_(~mask, math.inf)
    return key


def _rows(r: BlockScores, pi: torch.Tensor, ti: torch.Tensor, si: torch.Tensor, polymer_ids: np.ndarray,
          solvent_ids: np.ndarray, temperatures_K: list[float], chi_c: float, pair_p=None) -> pa.Table:
    chi = r.chi[pi, ti, si].cpu().numpy()
    chi_std, pm, ps = r.kept_stats(pi, ti, si, pair_p)
    cols = {
        POLYMER_ID: polymer_ids[pi.cpu().numpy()].astype(np.int64),
        SOLVENT_ID: solvent_ids[si.cpu().numpy()].astype(np.int64),
        T_K: np.asarray(temperatures_K, dtype=np.float32)[ti.cpu().numpy()],
        "chi": chi,
        "chi_std": chi_std.cpu().numpy(),
        "p_soluble": pm.cpu().numpy(),
        "p_soluble_std": ps.cpu().numpy(),
        "miscible": chi < chi_c,
    }
    cols["verdict"] = miscibility_verdict_array(chi, cols["chi_std"], chi_c).astype(str)
    cols["ad_score"] = r.ad_at(pi, si)
    return pa.table(cols, schema=PAIR_SCHEMA)


@torch.no_grad()
def filter_block(r: BlockScores, q: QueryConfig, polymer_ids: np.ndarray, solvent_ids: np.ndarray,
                 temperatures_K: list[float], chi_c: float, pair_p=None) -> tuple[pa.Table, pa.Table | None]:
    """Apply a query to one block.

    Args:
        r: scores of P polymers x S solvents x n_T temperatures.
        polymer_ids, solvent_ids: catalog ids of the block's rows (P,) and columns (S,).
        pair_p: ``(pi, si) -> (mean, std)`` of P(soluble) for kept pairs, used when ``r`` has no
            P(soluble) for every pair (:meth:`BlockScorer.pair_p`).
    Returns:
        (kept pair rows, per-solvent top-k candidates or None), both with :data:`PAIR_SCHEMA`,
        rows in (polymer, T, solvent) order.
    """
    P, T, S = r.shape
    mask = _threshold_mask(r, q, chi_c)
    kept = None
    if q.writes_pairs:
        if q.top_k_per_polymer:
            k = min(q.top_k_per_polymer, S)
            key = _rank_key(r, q, mask)
            vals, idx = torch.topk(key, k, dim=2, largest=False, sorted=False)
            sel = torch.zeros(P, T, S, dtype=torch.bool, device=key.device)
            sel.scatter_(2, idx, torch.isfinite(vals))
            keep = sel
        elif mask is not None:
            keep = mask
        else:
            keep = torch.ones(P, T, S, dtype=torch.bool, device=r.chi.device)
        pi, ti, si = keep.nonzero(as_tuple=True)
        kept = _rows(r, pi, ti, si, polymer_ids, solvent_ids, temperatures_K, chi_c, pair_p)
    else:
        kept = PAIR_SCHEMA.empty_table()
    cand = None
    if q.top_k_per_solvent:
        k = min(q.top_k_per_solvent, P)
        key = _rank_key(r, q, mask)
        vals, idx = torch.topk(key, k, dim=0, largest=False, sorted=False)  # (k, T, S)
        sel = torch.zeros(P, T, S, dtype=torch.bool, device=key.device)
        sel.scatter_(0, idx, torch.isfinite(vals))
        pi, ti, si = sel.nonzero(as_tuple=True)
        cand = _rows(r, pi, ti, si, polymer_ids, solvent_ids, temperatures_K, chi_c, pair_p)
    return kept, cand


def _with_rank_key(t: pa.Table, q: QueryConfig) -> pa.Table:
    """Append column ``_rank_key`` (smaller is better) computed by the rank_by function."""
    col = {c: t.column(c).to_numpy() for c in ("chi", "chi_std", "p_soluble")}   # float32, as the block path
    key = RANK_KEYS[q.rank_by](col["chi"], col["chi_std"], col["p_soluble"])
    return t.append_column("_rank_key", pa.array(np.asarray(key)))


def rank_key_frame(df, rank_by: str) -> np.ndarray:
    """The rank_by key (smaller is better) of a DataFrame of pair rows (columns chi, chi_std, p_soluble)."""
    col = {c: df[c].to_numpy() for c in ("chi", "chi_std", "p_soluble")}   # native dtype, as the block path
    return np.asarray(RANK_KEYS[rank_by](col["chi"], col["chi_std"], col["p_soluble"]))


_SORT_KEY = [("_rank_key", "ascending"), ("polymer_id", "ascending")]


def merge_top_per_solvent(tables: Iterable[pa.Table], q: QueryConfig) -> pa.Table:
    """Streaming merge of per-shard candidates into the global top k per (solvent, T).

    Holds at most k rows per (solvent, T) plus one shard's candidates at a time. Ties are broken
    by polymer id, so the result does not depend on shard order.
    """
    k = q.top_k_per_solvent
    best: pa.Table | None = None
    for t in tables:
        if t.num_rows == 0:
            continue
        t = _with_rank_key(t, q)
        cur = t if best is None else pa.concat_tables([best, t])
        best = _top_k_groups(cur, k, q)
    if best is None:
        return PAIR_SCHEMA.empty_table()
    best = best.sort_by([("solvent_id", "ascending"), ("T_K", "ascending")] + _SORT_KEY)
    best = best.drop_columns(["_rank_key"])
    rank = _group_rank(best)
    return best.append_column("rank", pa.array(rank, pa.int32()))


def _group_rank(t: pa.Table) -> np.ndarray:
    """1-based rank inside runs of equal (solvent_id, T_K) of a table sorted by them."""
    n = t.num_rows
    if n == 0:
        return np.zeros(0, dtype=np.int32)
    sid = t.column("solvent_id").to_numpy()
    tk = t.column("T_K").to_numpy()
    new = np.ones(n, dtype=bool)
    new[1:] = (sid[1:] != sid[:-1]) | (tk[1:] != tk[:-1])
    start = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    return (np.arange(n) - start + 1).astype(np.int32)


def _top_k_groups(t: pa.Table, k: int, q: QueryConfig) -> pa.Table:
    t = t.sort_by([("solvent_id", "ascending"), ("T_K", "ascending")] + _SORT_KEY)
    rank = _group_rank(t)
    return t.filter(pa.array(rank <= k))


def selective_dissolution(r: BlockScores, n_dissolve: int, labels: list[str], solvent_ids: np.ndarray,
                          temperatures_K: list[float], chi_c: float, sq: SelectiveQuery) -> pa.Table:
    """Rank solvents for selective dissolution.

    Args:
        r: scores of the query's polymers (rows: the ``n_dissolve`` targets first, then the
            excluded ones) x all solvents x temperatures.
        labels: a short label per polymer row (used in per-polymer column names).
    Returns:
        one row per (solvent, T), best first within the top_k per temperature: solvent_id, T_K,
        margin, selective (every verdict as wanted), n_dissolved, n_excluded_undissolved,
        worst_polymer, margin_std (ensemble std of chi of the worst polymer), and chi[label]
        per polymer.
    """
    P, T, S = r.shape
    if sq.criterion == "chi":
        val = r.chi.cpu().numpy().astype(np.float64)                  # (P, T, S)
        std = r.chi_std.cpu().numpy().astype(np.float64)
        m = np.empty_like(val)
        m[:n_dissolve] = chi_c - val[:n_dissolve]
        m[n_dissolve:] = val[n_dissolve:] - chi_c
    else:
        p = r.p_soluble.cpu().numpy().astype(np.float64)[:, None, :].repeat(T, 1)
        std = r.p_soluble_std.cpu().numpy().astype(np.float64)[:, None, :].repeat(T, 1)
        val = p
        m = np.empty_like(p)
        m[:n_dissolve] = p[:n_dissolve] - 0.5
        m[n_dissolve:] = 0.5 - p[n_dissolve:]
    worst = m.argmin(0)                                               # (T, S)
    margin = m.min(0)
    tt, ss = np.meshgrid(np.arange(T), np.arange(S), indexing="ij")
    cols = {
        SOLVENT_ID: np.asarray(solvent_ids, dtype=np.int64)[ss].ravel(),
        T_K: np.asarray(temperatures_K, dtype=np.float32)[tt].ravel(),
        "margin": margin.ravel().astype(np.float32),
        "selective": (margin > 0).ravel(),
        "n_dissolved": (m[:n_dissolve] > 0).sum(0).ravel().astype(np.int32),
        "n_excluded_undissolved": (m[n_dissolve:] > 0).sum(0).ravel().astype(np.int32),
        "worst_polymer": np.asarray(labels, dtype=object)[worst].ravel(),
        "worst_std": std[worst, tt, ss].ravel().astype(np.float32),
    }
    name = "chi" if sq.criterion == "chi" else "p_soluble"
    for i, lab in enumerate(labels):
        cols[f"{name}[{lab}]"] = val[i].ravel().astype(np.float32)
    t = pa.table(cols)
    if sq.only_selective:
        t = t.filter(t.column("selective"))
    t = t.sort_by([(T_K, "ascending"), ("margin", "descending"), (SOLVENT_ID, "ascending")])
    tk = t.column(T_K).to_numpy()
    n = t.num_rows
    new = np.ones(n, dtype=bool)
    new[1:] = tk[1:] != tk[:-1]
    start = np.maximum.accumulate(np.where(new, np.arange(n), 0)) if n else np.zeros(0, int)
    rank = (np.arange(n) - start + 1).astype(np.int32)
    t = t.append_column("rank", pa.array(rank))
    return t.filter(pa.array(rank <= sq.top_k))
