"""A screening job end to end: config -> catalogs -> descriptors -> shards -> merged results.

    from chiscreen.screen import ScreenConfig, run_screen
    cfg = load_config("configs/screen-demo.yaml", ScreenConfig)
    res = run_screen(cfg, out="runs/demo")
    res.out, res.stats.pairs_per_s

Results folder (local path or pyarrow filesystem URI)::

    manifest.json          pins: model hash, catalog hashes, query hash, shard plan
    config.yaml            the resolved config
    polymers.parquet       the polymer catalog + feature_status / feature_reason / scored
    solvents.parquet       the solvent catalog (+ gsk_g_score where the reference data has it)
    pairs/shard-*.parquet  kept (polymer_id, solvent_id, T_K, chi, chi_std, p_soluble, ...) rows
    solvent_topk/...       per-shard candidates of the per-solvent top k
    top_per_solvent.parquet, selective-<name>.parquet, summary.json

The CLI (``chiscreen screen``) and ``jobs/screen.py`` (``ray job submit``) both call
:func:`run_screen`.
"""
from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import torch
import yaml

from chiscreen.catalogs.catalog import CatalogSource, join_greenness, load_catalog, lookup, open_catalog
from chiscreen.errors import InvalidInputError, ScreenError
from chiscreen.model.artifact import artifact_hash
from chiscreen.schema import POLYMER_ID, POLYMER_NAME, POLYMER_SMILES, SOLVENT_ID, SOLVENT_NAME, SOLVENT_SMILES
from chiscreen.screen.engine import (
    CAND_DIR, PAIRS_DIR, EngineConfig, EngineHooks, RunStats, ScreenTask, run_plain, run_ray, shard_name,
)
from chiscreen.screen.manifest import Manifest, claim, hash_catalog, hash_json
from chiscreen.screen.queries import QueryConfig, SelectiveQuery, merge_top_per_solvent, selective_dissolution
from chiscreen.screen.scoring import BlockScorer
from chiscreen.screen.sinks import OutputDir

log = logging.getLogger("chiscreen.screen")


@dataclass
class FeaturizeOptions:
    """Descriptor computation for catalog molecules (cached per canonical identity).

    Attributes:
        where: "driver" (a guarded process pool on the machine that runs the screen, as before)
            or "cluster" (on the screen's Ray actors, on every node they run on: each shard's
            polymers are featurized by the actor that then scores it, so scoring starts as soon
            as the first shard's polymers are done; needs ``engine.kind: ray``).
        n_jobs: guarded worker processes of the driver's pool (where: driver). On the cluster
            each actor runs one worker per CPU it holds (``engine.cpus_per_actor``).
        timeout_s: wall-time limit per molecule, seconds; mem_limit_mb: address-space cap per
            worker process, MB (null: none). A molecule past either is a failed row with the reason.
        cache_uri: descriptor cache as a pyarrow filesystem URI that every node reaches
            (``file:///shared/cache``, ``s3://bucket/chiscreen-cache``, ...).
        cache: the same as a local folder (null and no cache_uri: the user cache, CHISCREEN_CACHE,
            which on a multi-node cluster is each node's own folder).
        batch_size: molecules per remote call when solvents (and selective-query polymers) are
            featurized on the cluster.
    """

    where: str = "driver"
    n_jobs: int = 2
    timeout_s: float = 30.0
    mem_limit_mb: int | None = 3000
    cache_uri: str | None = None
    cache: str | None = None
    batch_size: int = 64

    def __post_init__(self) -> None:
        from chiscreen.errors import ConfigError

        if self.where not in ("driver", "cluster"):
            raise ConfigError(f"featurize.where = {self.where!r}, expected 'driver' or 'cluster'")
        for k in ("n_jobs", "batch_size"):
            if getattr(self, k) < 1:
                raise ConfigError(f"featurize.{k} = {getattr(self, k)}, expected >= 1")
        if not self.timeout_s > 0:
            raise ConfigError(f"featurize.timeout_s = {self.timeout_s}, expected > 0 (seconds per molecule)")
        if self.mem_limit_mb is not None and self.mem_limit_mb <= 0:
            raise ConfigError(f"featurize.mem_limit_mb = {self.mem_limit_mb}, expected > 0 or null (no cap)")
        if self.cache_uri is not None and self.cache is not None:
            raise ConfigError("featurize.cache_uri and featurize.cache are both set; give one (cache_uri: a "
                              "filesystem URI all nodes reach, cache: a local folder)")
        if self.cache_uri is not None:
            scheme, sep, rest = str(self.cache_uri).partition("://")
            if not sep or not scheme or not rest:
                raise ConfigError(f"featurize.cache_uri = {self.cache_uri!r} is not a filesystem URI; expected e.g. "
                                  "'file:///shared/chiscreen-cache' or 's3://bucket/cache' (a local folder goes "
                                  "in featurize.cache)")

    @property
    def root(self) -> str | None:
        """The descriptor cache root (URI, local folder or None: the user cache)."""
        return self.cache_uri if self.cache_uri is not None else self.cache


_CLUSTER_NEEDS_RAY = ("featurize.where = 'cluster' runs on the screen's Ray actors and needs engine.kind = 'ray' "
                      "(got {kind!r}); use featurize.where = 'driver' with the plain engine")


@dataclass
class ScreenConfig:
    """A screen: every polymer x every solvent x every temperature, filtered by ``query``.

    Attributes:
        polymers, solvents: catalog paths (a built catalog Parquet, or CSV/SMILES lists that are
            built on the fly); relative paths are tried from the working directory, then the project.
        model: model artifact directory (None: the shipped default).
        temperatures: with units ("25C", "298.15K"); bare numbers are Kelvin.
        head: chi head, a name from :func:`chiscreen.model.tasks.head_names` ("exp":
            experimental chi, default; "comp": computed chi).
        chi_c: miscibility threshold (None: chiscreen.thermo.chi_critical(), 0.5).
        out: results folder or filesystem URI (the CLI's --out overrides it).
        ray_address: Ray cluster address for the ray engine (None: embedded local Ray).
    """

    polymers: str = "catalogs/polymers.csv"
    solvents: str = "catalogs/solvents.csv"
    model: str | None = None
    temperatures: list[str | float] = field(default_factory=lambda: ["25C"])
    head: str = "exp"
    chi_c: float | None = None
    query: QueryConfig = field(default_factory=lambda: QueryConfig(top_k_per_polymer=10))
    engine: EngineConfig = field(default_factory=EngineConfig)
    featurize: FeaturizeOptions = field(default_factory=FeaturizeOptions)
    out: str = "runs/screen"
    ray_address: str | None = None

    def __post_init__(self) -> None:
        from chiscreen.errors import ConfigError
        from chiscreen.model.tasks import head_names

        if self.head not in head_names():
            raise ConfigError(f"head = {self.head!r}, expected one of {head_names()}")
        if self.featurize.where == "cluster" and self.engine.kind != "ray":
            raise ConfigError(_CLUSTER_NEEDS_RAY.format(kind=self.engine.kind))


@dataclass
class ScreenResult:
    out: OutputDir
    stats: RunStats
    manifest: Manifest
    resumed: bool
    files: dict[str, str]
    summary: dict
    seconds_featurize: float = 0.0
    replaced: list[str] = field(default_factory=list)  # pins that changed when earlier results were replaced

    def pairs(self) -> pd.DataFrame:
        return read_pairs(self.out)


# ------------------------------------------------------------------ helpers
def _query_pins(cfg: ScreenConfig, temps: list[float], chi_c: float) -> dict:
    """What the shard files depend on. Selective queries are evaluated after the shards, from
    the model and catalogs alone, so changing one does not invalidate finished shards."""
    q = asdict(cfg.query)
    q.pop("selective", None)
    return {"query": q, "temperatures_K": temps, "head": cfg.head, "chi_c": chi_c,
            "shard_size": cfg.engine.shard_size}


def _catalog_table(df: pd.DataFrame) -> pa.Table:
    d = df.copy()
    for c in d.columns:
        if d[c].dtype == object:
            d[c] = d[c].map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    return pa.Table.from_pandas(d, preserve_index=False)


def _polymer_tables(prows: Any):
    """polymers.parquet batch by batch: the catalog's rows with feature_status / feature_reason /
    scored. A column that is all null in the first batch takes the type of a later batch's
    source column (string when unknown), so that every batch fits one schema."""
    schema = None
    for _, df in prows.frames():
        t = _catalog_table(df)
        if schema is None:
            fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) and not prows.source.in_memory
                      else f for f in t.schema]
            schema = pa.schema(fields, metadata=t.schema.metadata)
        yield t if t.schema.equals(schema, check_metadata=False) else t.cast(schema)


def _hash_polymers(prows: Any, pi: np.ndarray) -> str:
    """:func:`hash_catalog` of the scored rows, reading their identities in chunks."""
    import hashlib

    h = hashlib.sha256()
    h.update(np.ascontiguousarray(prows.ids[pi].astype(np.int64)).tobytes())
    for s in range(0, len(pi), 65536):
        for k in prows.keys(pi[s:s + 65536]):
            h.update(k.encode())
            h.update(b"\0")
    return h.hexdigest()[:16]


#: every file a screen writes (relative glob patterns): what ``--overwrite`` may remove
SCREEN_FILES = ["manifest.json", "config.yaml", "polymers.parquet", "solvents.parquet", f"{PAIRS_DIR}/shard-*.parquet",
                f"{CAND_DIR}/shard-*.parquet", "top_per_solvent.parquet", "selective-*.parquet", "summary.json"]


@dataclass
class PreparedInputs:
    """Everything a screen scores, built once (catalogs, descriptors, solvent latents); active
    learning and other callers reuse it for more scoring without re-featurizing.

    Attributes:
        pol: the polymer catalog as :class:`~chiscreen.screen.featurize.PolymerRows` (rows read
            batch by batch from their source; ids, identity and feature status per row);
            ``pol.frame(rows)`` is a DataFrame of a few rows with ``feature_status`` /
            ``feature_reason`` / ``scored``.
        sol: the solvent catalog (DataFrame) with those columns.
        Xp, Xs: (N_p, F) / (N_s, F) float32 raw descriptors aligned with the catalog rows (NaN
            rows where not scored); ``Xp`` is read from the descriptor cache rows at a time
            (:class:`~chiscreen.screen.featurize.CachedRows`) when the screen featurized, an
            array when descriptors were given.
        pi, si: positions of the scored rows; pids, sids: their catalog ids (int64).
        Us: (E, S, 2d) float32 latents of the scored solvents (encoded once).
        temperatures_K, head, chi_c: what is scored (Kelvin; "exp" / "comp"; threshold).
        selective_rows: per selective query name, the polymer row positions (dissolve + exclude).
    """

    pol: Any
    sol: pd.DataFrame
    Xp: np.ndarray
    Xs: np.ndarray
    pi: np.ndarray
    si: np.ndarray
    pids: np.ndarray
    sids: np.ndarray
    Us: np.ndarray
    temperatures_K: list[float]
    head: str
    chi_c: float
    selective_rows: dict[str, list[int]] = field(default_factory=dict)
    seconds_featurize: float = 0.0
    features: Any = None  # FeatureLog: where featurization ran
    deferred: Any = None  # DeferredPolymers: polymers featurized shard by shard on the actors

    def scorer(self, ens: Any, temperatures_K: list[float] | None = None, chunk: int = 128,
               p_all: bool = False) -> BlockScorer:
        """A :class:`BlockScorer` over every scored solvent (reuses :attr:`Us`)."""
        return BlockScorer.for_ensemble(ens, torch.tensor(self.Us), temperatures_K or self.temperatures_K,
                                        head=self.head, chunk=chunk, p_all=p_all)

    def polymer_latents(self, ens: Any, rows: np.ndarray | list[int]) -> torch.Tensor:
        """Encoded polymers of catalog row positions ``rows`` (for :meth:`BlockScorer.score`)."""
        with torch.no_grad():
            return ens.encode_polymers(np.ascontiguousarray(self.Xp[np.asarray(rows, dtype=np.int64)]))


def run_screen(cfg: ScreenConfig, out: str | None = None, overwrite: bool = False, progress: bool = True,
               ensemble: Any = None, descriptors: tuple[np.ndarray, np.ndarray] | None = None,
               catalogs: tuple[pd.DataFrame, pd.DataFrame] | None = None,
               hooks: EngineHooks | None = None, device: str = "auto", take_over: bool = False,
               trust_unsigned: bool = False, job: str = "screen", replace_own: bool = False) -> ScreenResult:
    """Run (or resume) a screen and merge its results: validate -> :func:`prepare_inputs` ->
    :func:`run_shards` -> :func:`finalize`, inside the output folder's lock.

    Args:
        cfg: the job.
        out: results location (overrides ``cfg.out``).
        overwrite: replace a folder holding a different job, or write into a non-empty folder
            chiscreen does not own; only files a screen writes are removed, others are kept.
        take_over: take over the stale lock of an interrupted run (:class:`~chiscreen.runtime.OwnedDir`).
        job: what runs the screen, recorded in the manifest ("screen"; "demo" for ``chiscreen demo``).
        replace_own: replace earlier results of the same ``job`` whose pins differ (e.g. the demo
            after the shipped model changed) instead of raising; the pins that changed are in
            ``ScreenResult.replaced``. Other screens' folders and foreign folders are still refused.
        ensemble: a ChiEnsemble to use instead of loading ``cfg.model`` (tests, benchmarks).
        descriptors: precomputed raw descriptors (Xp aligned with the polymer catalog rows, Xs with
            the solvent rows) instead of featurizing (benchmarks with synthetic descriptors).
        catalogs: (polymers, solvents) catalog DataFrames instead of reading ``cfg.polymers`` /
            ``cfg.solvents``.
    Raises:
        ScreenError (different job in ``out``, nothing to score, unknown polymer in a selective
        query, failed shard), OutputDirError / OutputLockedError (``out`` is a file, foreign, or
        being written), ArtifactError, ConfigError, InvalidInputError.
    """
    from chiscreen.runtime import OwnedDir, table_metadata
    from chiscreen.thermo import chi_critical
    from chiscreen.units import parse_temperatures

    t_start = time.perf_counter()
    location = out or cfg.out
    temps = parse_temperatures(cfg.temperatures)
    if not temps:
        raise ScreenError("no temperatures given; expected e.g. temperatures: ['25C', '80C']")
    for sq in cfg.query.selective:
        if sq.temperatures:
            parse_temperatures(sq.temperatures)
    chi_c = float(cfg.chi_c) if cfg.chi_c is not None else chi_critical()
    cfg.query.check_bounded()
    if cfg.featurize.where == "cluster" and cfg.engine.kind != "ray":  # e.g. --engine plain after loading
        from chiscreen.errors import ConfigError

        raise ConfigError(_CLUSTER_NEEDS_RAY.format(kind=cfg.engine.kind))
    with OwnedDir(location, "screen", SCREEN_FILES, overwrite=overwrite, take_over=take_over) as owned:
        odir = OutputDir(location)
        if ensemble is None:
            from chiscreen.model import load_ensemble

            ensemble = load_ensemble(cfg.model, trust_unsigned=trust_unsigned)
        ens = ensemble
        odir.metadata = table_metadata(artifact_hash(ens), writer="screen")  # on every table written
        pool = None
        on_cluster = cfg.featurize.where == "cluster" and descriptors is None
        if cfg.engine.kind == "ray" and (_sharded(cfg) or on_cluster):
            from chiscreen.screen.engine import RayPool

            from chiscreen.screen.featurize import spec_for

            # actors start (and their featurization workers, when they featurize) while the driver
            # reads the catalogs, or featurizes
            pool = RayPool(ens, cfg.engine, cfg.ray_address, featurize=spec_for(ens, cfg.featurize) if on_cluster else None)
        try:
            prep = prepare_inputs(cfg, ens, temps, chi_c, catalogs=catalogs, descriptors=descriptors,
                                  progress=progress, pool=pool, defer=on_cluster and _sharded(cfg))
            man, resumed, replaced = _claim(cfg, ens, prep, owned, odir, job=job, replace_own=replace_own)
            task, stats = run_shards(cfg, ens, prep, odir, progress=progress, hooks=hooks, device=device, pool=pool)
        finally:
            if pool is not None:
                pool.close()
        res = finalize(cfg, ens, prep, odir, man, task, stats, resumed, t_start)
        res.replaced = replaced
        return res


def _sharded(cfg: ScreenConfig) -> bool:
    return cfg.query.writes_pairs or cfg.query.top_k_per_solvent > 0


def prepare_inputs(cfg: ScreenConfig, ens: Any, temps: list[float], chi_c: float,
                   catalogs: tuple[pd.DataFrame, pd.DataFrame] | None = None,
                   descriptors: tuple[np.ndarray, np.ndarray] | None = None, progress: bool = True,
                   pool: Any = None, defer: bool = False) -> PreparedInputs:
    """Catalogs (read and built, or given), the polymer names of selective queries checked, raw
    descriptors (featurized and cached, or given) and the solvent latents.

    ``featurize.where: cluster`` featurizes on the actors of ``pool`` (a
    :class:`~chiscreen.screen.engine.RayPool`; one is started and closed here when None).
    ``defer``: polymers are not featurized here but shard by shard by the actors that score them
    (:class:`~chiscreen.screen.featurize.DeferredPolymers` in ``.deferred``; ``Xp`` then holds only
    the selective queries' rows, and ``pi`` the catalog's ok rows until the shards are done).

    Raises ScreenError for an unknown or unscorable polymer in a selective query (before any
    scoring) and when nothing can be scored; InvalidInputError for unreadable catalogs.
    """
    from chiscreen.screen.featurize import (
        DeferredPolymers, FeatureLog, PolymerRows, RowStore, featurize_cluster, featurize_driver,
        featurize_polymers_driver, spec_for,
    )

    if catalogs is None:
        psrc, prep = open_catalog(cfg.polymers, "polymer", progress=progress)
        sol, srep = load_catalog(cfg.solvents, "solvent", progress=progress)
        log.info("catalogs: %s; %s", prep, srep)
    else:
        pol_df, sol = catalogs
        psrc = CatalogSource.from_frame(pol_df, "polymer")
    prows = PolymerRows(psrc)
    sol = sol.reset_index(drop=True)
    selective_rows = {}
    for sq in cfg.query.selective:  # names checked before featurizing and scoring
        try:
            selective_rows[sq.name] = prows.lookup(list(sq.dissolve) + list(sq.exclude), "polymer")
        except InvalidInputError as exc:
            raise ScreenError(f"selective query {sq.name!r}: {exc}") from None

    t_feat = time.perf_counter()
    opts = cfg.featurize
    flog = FeatureLog(where="cluster" if opts.where == "cluster" else "driver")
    deferred = None
    own_pool = None
    n_p = len(prows)
    if descriptors is None and opts.where == "cluster":
        if pool is None:
            from chiscreen.screen.engine import RayPool

            pool = own_pool = RayPool(ens, cfg.engine, cfg.ray_address, featurize=spec_for(ens, opts))
        try:
            spec = spec_for(ens, opts)
            Xs, sst, srs = featurize_cluster(sol, "solvent", spec, pool, flog, batch=opts.batch_size)
            if defer:
                sel = sorted({r for rows in selective_rows.values() for r in rows})
                sel_df = psrc.take(sel, ["status", "canonical"])
                Xsel, pst, prs = featurize_cluster(sel_df, "polymer", spec, pool, flog, batch=opts.batch_size)
                Xp = RowStore.aligned(Xsel, sel, n_p)
                ok_rows = np.flatnonzero(prows.ok)
                deferred = DeferredPolymers(prows, spec, ok_rows, cfg.engine.shard_size, flog)
                prows.set(ok_rows, 3, "featurized with its shard")  # pending until their shard reports
                for j, r in enumerate(sel):
                    if pst[j] == "ok":
                        prows.set([r], 0)
                    elif pst[j] == "failed":
                        prows.set([r], 2, [prs[j]])
            else:  # no shards (selective queries only): every polymer here, in memory
                Xall, pst, prs = featurize_cluster(psrc.take(np.arange(n_p), ["status", "canonical"]), "polymer",
                                                   spec, pool, flog, batch=opts.batch_size)
                Xp = Xall
                _set_status(prows, pst, prs)
        finally:
            if own_pool is not None:
                own_pool.close()
    elif descriptors is None:
        flog.cache = _cache_label(opts.root)
        Xp = featurize_polymers_driver(prows, ens, opts, progress, flog)
        Xs, sst, srs = featurize_driver(sol, "solvent", ens, opts, progress, flog)
    else:
        Xp, Xs = (np.asarray(x, dtype=np.float32) for x in descriptors)
        if len(Xp) != n_p or len(Xs) != len(sol):
            raise ScreenError(f"descriptors ({len(Xp)}, {len(Xs)}) do not match the catalogs ({n_p}, {len(sol)})")
        sst = np.where(sol["status"] == "ok", "ok", "not scored").tolist()
        srs = ["" if s == "ok" else "catalog row is not ok" for s in sst]
    seconds_featurize = time.perf_counter() - t_feat
    if descriptors is None and deferred is None:
        flog.emit()
    sol["feature_status"], sol["feature_reason"] = sst, srs
    sol["scored"] = sol["feature_status"] == "ok"
    pi = np.flatnonzero(prows.scored)
    si = np.flatnonzero(sol["scored"].to_numpy())
    if len(pi) == 0 or len(si) == 0:
        raise ScreenError(f"nothing to score: {len(pi)} usable polymers and {len(si)} usable solvents "
                          "(see feature_status / reason in the catalogs)")
    for name, rows in selective_rows.items():
        bad = [n for n, ok in zip(prows.frame(rows)["name"], prows.scored[rows]) if not ok]
        if bad:
            raise ScreenError(f"selective query {name!r}: polymer(s) {bad} could not be featurized; "
                              "see feature_reason in polymers.parquet")
    if "cas" in sol.columns or "canonical" in sol.columns:
        sol = join_greenness(sol)
    with torch.no_grad():
        Us = ens.to("cpu").encode_solvents(Xs[si]).cpu().numpy()
    return PreparedInputs(pol=prows, sol=sol, Xp=Xp, Xs=Xs, pi=pi, si=si,
                          pids=prows.ids[pi].astype(np.int64), sids=sol["id"].to_numpy()[si].astype(np.int64),
                          Us=Us, temperatures_K=temps, head=cfg.head, chi_c=chi_c, selective_rows=selective_rows,
                          seconds_featurize=seconds_featurize, features=flog if descriptors is None else None,
                          deferred=deferred)


def _set_status(prows: Any, status: list[str], reason: list[str]) -> None:
    codes = {"ok": 0, "not scored": 1, "failed": 2, "pending": 3}
    for r, (st, why) in enumerate(zip(status, reason)):
        if st != "not scored":
            prows.set([r], codes.get(st, 2), None if st == "ok" else [why])


def _cache_label(root: str | None) -> str:
    if root is not None:
        return str(root)
    from chiscreen.paths import cache_dir

    return str(cache_dir("descriptors"))


def _claim(cfg: ScreenConfig, ens: Any, prep: PreparedInputs, owned: Any, odir: OutputDir, job: str = "screen",
           replace_own: bool = False) -> tuple[Manifest, bool, list[str]]:
    """The manifest of this job, checked against the folder's (resume) or written (new run)."""
    pins = _query_pins(cfg, prep.temperatures_K, prep.chi_c)
    n_shards = (len(prep.pi) + cfg.engine.shard_size - 1) // cfg.engine.shard_size
    man = Manifest(
        model_hash=artifact_hash(ens),
        polymers_hash=_hash_polymers(prep.pol, prep.pi),
        solvents_hash=hash_catalog(prep.sids, prep.sol["canonical"].to_numpy()[prep.si].tolist()),
        query_hash=hash_json(pins), n_shards=n_shards, shard_size=cfg.engine.shard_size,
        n_polymers=len(prep.pi), n_solvents=len(prep.si), temperatures_K=prep.temperatures_K, head=cfg.head,
        chi_c=prep.chi_c, query=asdict(cfg.query), model_source=getattr(ens, "source", "") or "", job=job,
    )
    resumed, replaced = claim(owned, man, overwrite=owned.overwrite, replace_job=job if replace_own else None)
    if not resumed or not odir.exists("solvents.parquet"):
        odir.write_parquet(_catalog_table(prep.sol), "solvents.parquet")
    if prep.deferred is None and (not resumed or not odir.exists("polymers.parquet")):
        odir.write_parquet_tables(_polymer_tables(prep.pol), "polymers.parquet")
    odir.write_text(yaml.safe_dump(asdict(cfg), sort_keys=False), "config.yaml")
    return man, resumed, replaced


def run_shards(cfg: ScreenConfig, ens: Any, prep: PreparedInputs, odir: OutputDir, progress: bool = True,
               hooks: EngineHooks | None = None, device: str = "auto", pool: Any = None) -> tuple[ScreenTask, RunStats]:
    """Score every shard not yet on disk (plain loop or Ray actors); finished shards are skipped.

    With polymers deferred to the cluster (``prep.deferred``) each shard is featurized by the
    actor that scores it; afterwards the polymer catalog gets its feature status, ``prep.pi`` /
    ``prep.pids`` the rows that were scored, and ``polymers.parquet`` is written.
    """
    from chiscreen.runtime import table_metadata

    from chiscreen.screen.featurize import CachedRows, ScoredView

    deferred = prep.deferred
    ss = cfg.engine.shard_size
    block_for, on_result = (deferred.block_for, deferred.on_result) if deferred is not None else (None, None)
    if deferred is not None:
        Xp = np.zeros((0, prep.Xs.shape[1]), np.float32)
    elif isinstance(prep.Xp, CachedRows):  # descriptors read from the cache shard by shard
        def done(p0: int) -> bool:
            return odir.exists(PAIRS_DIR, shard_name(p0 // ss))

        Xp = view = ScoredView(prep.Xp, prep.pi, skip=done)
        if cfg.engine.kind == "ray":  # the driver reads each shard's block as it sends it
            def block_for(i: int) -> dict:
                sl = slice(i * ss, min((i + 1) * ss, len(prep.pi)))
                X = view[sl]
                return {"X": X, "ok": np.ones(len(X), dtype=bool), "todo": [], "keys": [], "spec": None}

            Xp = np.zeros((0, prep.Xs.shape[1]), np.float32)
    else:
        Xp = prep.Xp[prep.pi]
    task = ScreenTask(Xp=Xp, polymer_ids=prep.pids, solvent_ids=prep.sids, Us=prep.Us,
                      temperatures_K=prep.temperatures_K, head=cfg.head, chi_c=prep.chi_c, query=cfg.query,
                      out=str(odir) if odir.local else odir.uri, shard_size=cfg.engine.shard_size,
                      chunk=cfg.engine.chunk, gpu_chunk=cfg.engine.gpu_chunk,
                      table_meta=table_metadata(artifact_hash(ens), writer="screen"))
    if not _sharded(cfg):  # only selective queries: nothing to stream over the full product
        stats = RunStats(n_shards=0, engine="none")
    elif cfg.engine.kind == "ray":
        stats = run_ray(ens, task, cfg.engine, progress=progress, hooks=hooks, address=cfg.ray_address, pool=pool,
                        block_for=block_for, on_result=on_result)
    else:
        stats = run_plain(ens, task, cfg.engine, progress=progress, hooks=hooks, device=device)
    if deferred is not None:
        _settle_deferred(prep, odir)
    return task, stats


def _settle_deferred(prep: PreparedInputs, odir: OutputDir) -> None:
    """After the shards: the polymers' feature status from the actors, the rows that were scored,
    ``polymers.parquet`` and the featurization log lines."""
    pol = prep.pol
    left = np.flatnonzero(pol.code == 3)
    if len(left):  # a shard that never reported (cannot happen after a complete run)
        pol.set(left, 2, "its shard did not report a featurization result")
    prep.pi = np.flatnonzero(pol.scored)
    prep.pids = pol.ids[prep.pi].astype(np.int64)
    odir.write_parquet_tables(_polymer_tables(pol), "polymers.parquet")
    prep.features.emit()


def finalize(cfg: ScreenConfig, ens: Any, prep: PreparedInputs, odir: OutputDir, man: Manifest, task: ScreenTask,
             stats: RunStats, resumed: bool, t_start: float) -> ScreenResult:
    """Check every shard is there, merge the per-solvent top k, run the selective queries and
    write the summary."""
    sharded = _sharded(cfg)
    pol, sol, si = prep.pol, prep.sol, prep.si
    files = {"pairs": odir.path(PAIRS_DIR), "manifest": odir.path("manifest.json")} if sharded else \
        {"manifest": odir.path("manifest.json")}
    missing = [i for i in range(man.n_shards) if sharded and not odir.exists(PAIRS_DIR, f"shard-{i:06d}.parquet")]
    if missing:
        raise ScreenError(f"{len(missing)} shard(s) missing after the run (first: {missing[:5]}); rerun to resume")
    if cfg.query.top_k_per_solvent:
        top = merge_top_per_solvent(odir.iter_parquet(CAND_DIR), cfg.query)
        files["top_per_solvent"] = odir.write_parquet(top, "top_per_solvent.parquet")
    for sq in cfg.query.selective:
        tab = run_selective(ens, sq, pol, prep.Xp, prep.sids, prep.Xs[si], prep.temperatures_K, cfg.head, prep.chi_c)
        if "gsk_g_score" in sol.columns:  # greenness beside the margin, for the recycling chemist
            g = dict(zip(sol["id"].astype(np.int64), sol["gsk_g_score"].astype(float)))
            tab = tab.append_column("gsk_g_score", pa.array([g.get(int(x), np.nan) for x in
                                                              tab.column(SOLVENT_ID).to_pylist()], pa.float32()))
        files[f"selective-{sq.name}"] = odir.write_parquet(tab, f"selective-{sq.name}.parquet")
    n_rows = count_rows(odir)
    summary = {
        "out": str(odir), "resumed": resumed, "manifest": man.to_dict(),
        "polymers": {"rows": len(pol), "scored": int(len(prep.pi)), "not_scored": pol.not_scored()},
        "solvents": {"rows": len(sol), "scored": int(len(si)), "not_scored": _not_scored(sol)},
        "pairs_total": int(len(prep.pi)) * int(len(si)) * len(prep.temperatures_K), "rows_in_pairs": n_rows, "run": stats.to_dict(),
        "seconds_featurize": round(prep.seconds_featurize, 3),
        "featurization": prep.features.to_dict() if prep.features is not None else None,
        "seconds_total": round(time.perf_counter() - t_start, 3),
    }
    files["summary"] = odir.write_json(summary, "summary.json")
    return ScreenResult(out=odir, stats=stats, manifest=man, resumed=resumed, files=files, summary=summary,
                        seconds_featurize=prep.seconds_featurize)


def _not_scored(df: pd.DataFrame, limit: int = 20) -> list[dict]:
    """The first ``limit`` catalog rows that were not scored, with the reason."""
    bad = df[~df["scored"]]
    return [{"id": int(r.id), "name": str(r.name), "status": str(r.feature_status),
             "reason": str(r.feature_reason if r.feature_status != "not scored" else r.reason)[:300]}
            for r in bad.head(limit).itertuples()]


def run_selective(ens: Any, sq: SelectiveQuery, pol: pd.DataFrame, Xp_all: np.ndarray, solvent_ids: np.ndarray,
                  Xs: np.ndarray, temps: list[float], head: str, chi_c: float) -> pa.Table:
    """Evaluate one selective-dissolution query on its few polymers x every scored solvent."""
    from chiscreen.units import parse_temperatures

    t_q = parse_temperatures(sq.temperatures) if sq.temperatures else temps
    if isinstance(pol, pd.DataFrame):
        rows = lookup(pol, sq.dissolve, "polymer") + lookup(pol, sq.exclude, "polymer")
        sel = pol.iloc[rows].reset_index(drop=True)
    else:  # PolymerRows
        rows = pol.lookup(list(sq.dissolve) + list(sq.exclude), "polymer")
        sel = pol.frame(rows)
    bad = [sel["name"].iat[j] for j in range(len(rows)) if not bool(sel["scored"].iat[j])]
    if bad:
        raise ScreenError(f"selective query {sq.name!r}: polymer(s) {bad} could not be featurized; "
                          "see feature_reason in polymers.parquet")
    labels = []
    for j in range(len(rows)):
        ab = sel["abbreviation"].iat[j] if "abbreviation" in sel.columns else None
        labels.append(str(ab) if isinstance(ab, str) and ab else str(sel["name"].iat[j]))
    with torch.no_grad():
        sc = BlockScorer.for_ensemble(ens, ens.encode_solvents(Xs), t_q, head=head)
        r = sc.score(ens.encode_polymers(Xp_all[rows]))
    return selective_dissolution(r, len(sq.dissolve), labels, solvent_ids, t_q, chi_c, sq)


# ------------------------------------------------------------------ reading results
def count_rows(out: OutputDir | str) -> int:
    import pyarrow.parquet as pq

    odir = out if isinstance(out, OutputDir) else OutputDir(out)
    return sum(pq.ParquetFile(odir.path(PAIRS_DIR, n), filesystem=odir.fs).metadata.num_rows
               for n in odir.list(PAIRS_DIR))


def read_pairs(out: OutputDir | str, names: bool = True, filter_expr=None) -> pd.DataFrame:
    """The kept rows of a results folder as a DataFrame (with polymer_name / polymer_smiles and
    solvent_name / solvent_smiles of the run's catalogs joined, see :mod:`chiscreen.schema`)."""
    import pyarrow.dataset as ds

    odir = out if isinstance(out, OutputDir) else OutputDir(out)
    files = [odir.path(PAIRS_DIR, n) for n in odir.list(PAIRS_DIR)]
    if not files:
        raise ScreenError(f"{odir}: no shard files under {PAIRS_DIR}/")
    tab = ds.dataset(files, filesystem=odir.fs, format="parquet").to_table(filter=filter_expr)
    df = tab.to_pandas()
    if names:
        df = attach_names(odir, df)
    return df


def attach_names(out: OutputDir | str, df: pd.DataFrame) -> pd.DataFrame:
    odir = out if isinstance(out, OutputDir) else OutputDir(out)
    pol = odir.read_parquet("polymers.parquet").to_pandas()
    sol = odir.read_parquet("solvents.parquet").to_pandas()
    pcols = ["id", "name", "canonical"] + (["abbreviation"] if "abbreviation" in pol.columns else [])
    scols = ["id", "name", "canonical"] + (["gsk_g_score"] if "gsk_g_score" in sol.columns else [])
    p = pol[pcols].rename(columns={"id": POLYMER_ID, "name": POLYMER_NAME, "canonical": POLYMER_SMILES})
    s = sol[scols].rename(columns={"id": SOLVENT_ID, "name": SOLVENT_NAME, "canonical": SOLVENT_SMILES})
    return df.merge(p, on=POLYMER_ID, how="left").merge(s, on=SOLVENT_ID, how="left")
