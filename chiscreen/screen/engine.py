"""Sharded execution of a screen: in-process or on Ray actors, one atomic Parquet file per shard.

Shards are consecutive blocks of ``shard_size`` scored polymers. A :class:`ShardWorker` holds
the ensemble, the polymer descriptors and the prepared solvent side (built once); for a shard it
encodes the block's polymers (towers once per molecule), scores the block against every solvent
and temperature (:class:`~chiscreen.screen.scoring.BlockScorer`), applies the query and writes

    pairs/shard-NNNNNN.parquet          kept rows (written last: the shard's "done" marker)
    solvent_topk/shard-NNNNNN.parquet   per-solvent top-k candidates (when asked)

Both paths use the same worker:
- :func:`run_plain`: this process (no Ray); on a CPU ``plain_shard_threads`` shards side by side
  in threads with one torch thread each (``engine.shard_threads``), reported in shard order;
- :func:`run_ray`: restartable actors (``max_restarts=-1, max_task_retries=-1``), one per GPU
  when the cluster has GPUs, else one per ``cpus_per_actor`` CPUs, with a bounded number of
  shards in flight. Resource requests are derived from ``ray.cluster_resources()``: asking for a
  GPU on a cluster without one would leave the actor pending forever. A killed actor is
  restarted and its shard retried; finished shards are files, so nothing is lost.

With ``featurize.where: cluster`` the actors also featurize (:meth:`RayPool.featurize` for
solvents; :meth:`RayPool.run` with ``block_for`` for polymers: each shard's missing descriptors
are computed by the actor that then scores it, in guarded worker processes of its own, see
:mod:`chiscreen.screen.featurize`).

Numerics: the worker's polymer towers (:class:`~chiscreen.screen.scoring.PolymerTowers`) and the
kept-row statistics (:meth:`~chiscreen.screen.scoring.BlockScores.kept_stats`) compute the same
expressions as ``ens.encode_polymers`` / :meth:`BlockScorer.pair_p` in another summation order:
float32 differences of ~1e-7 relative (tests: rtol 1e-5 on latents and P(soluble), 1e-4 on
stds); a pair whose chi lies within that of a query threshold can change side. The plain and
Ray paths run the same worker, so their tables are identical.

With ``engine.keep_warm`` a closed :class:`RayPool` keeps its actors for the next pool of the
driver (same Ray session and resources); they reload the model when it differs.

Ray is imported only inside :func:`run_ray` / :func:`ensure_ray`, never at import time.
"""
from __future__ import annotations

import logging
import os
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import torch

from chiscreen.errors import ScreenError
from chiscreen.screen.queries import QueryConfig, filter_block
from chiscreen.screen.scoring import BlockScorer, PolymerTowers
from chiscreen.screen.sinks import OutputDir

if TYPE_CHECKING:
    from chiscreen.features.batch import FeaturizeSpec

log = logging.getLogger("chiscreen.screen")

PAIRS_DIR = "pairs"
CAND_DIR = "solvent_topk"


def _cpu_total() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def shard_name(i: int) -> str:
    return f"shard-{i:06d}.parquet"


@dataclass
class ScreenTask:
    """Everything a worker needs besides the ensemble (picklable; arrays go to Ray's object store).

    Attributes:
        Xp: (N, F_p) float32 raw descriptors of the scored polymers (catalog rows with status ok).
        polymer_ids: (N,) catalog ids of those rows; solvent_ids: (S,) likewise for solvents.
        Us: (E, S, 2d) float32 solvent latents (encoded once by the driver).
        temperatures_K: Kelvin. head: a chi head name ("exp", "comp"). chi_c: miscibility threshold.
    """

    Xp: np.ndarray
    polymer_ids: np.ndarray
    solvent_ids: np.ndarray
    Us: np.ndarray
    temperatures_K: list[float]
    head: str
    chi_c: float
    query: QueryConfig
    out: str
    shard_size: int = 2000
    chunk: int = 128
    gpu_chunk: int = 2048
    task_id: str = ""  # set per run; Ray actors rebuild their worker when it changes
    table_meta: dict | None = None  # Parquet metadata of every shard file (model hash, versions)

    @property
    def n_shards(self) -> int:
        return (len(self.polymer_ids) + self.shard_size - 1) // self.shard_size

    @property
    def n_pairs(self) -> int:
        return len(self.polymer_ids) * len(self.solvent_ids) * len(self.temperatures_K)

    def bounds(self, i: int) -> tuple[int, int]:
        p0 = i * self.shard_size
        return p0, min(len(self.polymer_ids), p0 + self.shard_size)


class ShardWorker:
    """Scores and writes shards. Used in-process and inside each Ray actor.

    Args:
        ens: the ChiEnsemble (moved to ``device``).
        task: the :class:`ScreenTask`.
        device: "cpu", "cuda", "cuda:0" or "auto".
        threads: torch intra-op threads (None: leave as is).
    """

    def __init__(self, ens: Any, task: ScreenTask, device: str = "cpu", threads: int | None = None) -> None:
        if threads:
            torch.set_num_threads(int(threads))
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.ens = ens.to(self.device)
        self.task = task
        self.out = OutputDir(task.out)
        self.out.metadata = task.table_meta
        Us = torch.tensor(np.asarray(task.Us), device=self.device)
        chunk = task.gpu_chunk if self.device.type == "cuda" else task.chunk  # big GEMMs feed a GPU
        self.scorer = BlockScorer.for_ensemble(ens, Us, task.temperatures_K, head=task.head, chunk=chunk,
                                               p_all=task.query.needs_p_all,
                                               mean_first=task.query.allows_mean_first)
        self.towers = PolymerTowers(self.ens)  # the ensemble's polymer towers, per member over chunks (CPU)

    def pid(self) -> int:
        return os.getpid()

    def peak_rss_bytes(self) -> int:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)

    def cpu_total(self) -> float:
        """CPU seconds (user + system, all threads) of this process since it started."""
        return _cpu_total()

    def done(self, i: int) -> bool:
        return self.out.exists(PAIRS_DIR, shard_name(i))

    @torch.no_grad()
    def run(self, i: int, X: np.ndarray | None = None, ok: np.ndarray | None = None) -> dict:
        """Score shard ``i`` unless its file exists. Returns stats (pairs, kept rows, seconds).

        ``X`` (n, F) / ``ok`` (n,) bool: the shard's descriptors when they were featurized for
        this call (cluster featurization; ``task.Xp`` is then empty); rows not ok are left out.
        """
        t = self.task
        p0, p1 = t.bounds(i)
        ids = np.asarray(t.polymer_ids[p0:p1])
        if X is None:
            X = t.Xp[p0:p1]
        elif ok is not None and not ok.all():
            X, ids = X[ok], ids[ok]
        n_pairs = len(ids) * len(t.solvent_ids) * len(t.temperatures_K)
        if self.done(i):
            return {"shard": i, "skipped": True, "pairs": n_pairs, "kept": 0, "seconds": 0.0}
        t0 = time.perf_counter()
        # CPU of this shard: its thread's when torch runs single-threaded (shards side by side in
        # threads of one process would count each other with the process clock)
        clock = time.thread_time if torch.get_num_threads() == 1 else time.process_time
        c0 = clock()
        if len(ids) == 0:  # every polymer of the shard failed featurization: an empty shard file
            from chiscreen.screen.queries import PAIR_SCHEMA

            if t.query.top_k_per_solvent:
                self.out.write_parquet(PAIR_SCHEMA.empty_table(), CAND_DIR, shard_name(i))
            self.out.write_parquet(PAIR_SCHEMA.empty_table(), PAIRS_DIR, shard_name(i))
            return {"shard": i, "skipped": False, "pairs": 0, "kept": 0, "seconds": time.perf_counter() - t0,
                    "encode_seconds": 0.0, "cpu_seconds": clock() - c0, "pid": os.getpid()}
        Up = self.towers(np.ascontiguousarray(X))
        t_enc = time.perf_counter() - t0
        c_enc = clock() - c0
        r = self.scorer.score(Up)
        kept, cand = filter_block(r, t.query, ids, np.asarray(t.solvent_ids),
                                  t.temperatures_K, t.chi_c, pair_p=lambda pi, si: self.scorer.pair_p(Up, pi, si))
        if cand is not None:
            self.out.write_parquet(cand, CAND_DIR, shard_name(i))
        self.out.write_parquet(kept, PAIRS_DIR, shard_name(i))  # last: marks the shard done
        return {"shard": i, "skipped": False, "pairs": n_pairs, "kept": kept.num_rows,
                "seconds": time.perf_counter() - t0, "encode_seconds": t_enc,
                "cpu_seconds": clock() - c0, "encode_cpu_seconds": c_enc, "pid": os.getpid()}


@dataclass
class EngineConfig:
    """How shards run.

    Attributes:
        kind: "ray" (actors; embedded local Ray when none is running) or "plain" (this process).
        shard_size: polymers per shard (one output file each).
        num_actors: actors to start (None: one per GPU, else CPUs // cpus_per_actor).
        cpus_per_actor: CPUs (= torch threads) per CPU actor.
        in_flight_per_actor: shards queued per actor (bounded; 2 hides scheduling latency).
        use_gpus: use GPUs when the cluster has them.
        threads: torch threads for the plain path (None: torch's default).
        shard_threads: plain path on a CPU: shards scored at once in this many threads of this
            process, each with one torch thread (None: torch's thread count, unless ``threads``
            is set; 1: one shard at a time on ``threads`` torch threads). The GEMMs of one shard
            are too small to keep two cores busy and the gathers, the query and the Parquet write
            run on one core; two shards side by side do (~1.2x the pairs per CPU-second).
        chunk: polymers per GEMM inside a shard on CPU; gpu_chunk: the same on a GPU.
        keep_warm: Ray: when the screen ends, keep its actors (process, torch, ensemble) for the
            next :class:`RayPool` of this driver with the same resources on the same Ray session
            instead of killing them (a second screen then starts in ~0.1 s instead of several
            seconds of actor start-up). Off by default: warm actors hold their CPUs (or GPUs) until
            reused, :func:`close_warm_actors` or the end of the driver, so other Ray work of the
            session could wait for them.
    """

    kind: str = "ray"
    shard_size: int = 2000
    num_actors: int | None = None
    cpus_per_actor: int = 1
    in_flight_per_actor: int = 2
    use_gpus: bool = True
    threads: int | None = None
    shard_threads: int | None = None
    chunk: int = 128
    gpu_chunk: int = 2048
    keep_warm: bool = False

    def __post_init__(self) -> None:
        from chiscreen.errors import ConfigError

        if self.kind not in ("ray", "plain"):
            raise ConfigError(f"engine.kind = {self.kind!r}, expected 'ray' or 'plain'")
        if self.shard_threads is not None and self.shard_threads < 1:
            raise ConfigError(f"engine.shard_threads = {self.shard_threads}, expected >= 1 or null")
        for k in ("shard_size", "cpus_per_actor", "in_flight_per_actor", "chunk", "gpu_chunk"):
            if getattr(self, k) < 1:
                raise ConfigError(f"engine.{k} = {getattr(self, k)}, expected >= 1")
        if self.num_actors is not None and self.num_actors < 1:
            raise ConfigError(f"engine.num_actors = {self.num_actors}, expected >= 1 or null")


@dataclass
class EngineHooks:
    """Callbacks for tests and tools: ``on_workers(handles)`` once, ``on_shard(stats)`` per shard."""

    on_workers: Callable[[list], None] | None = None
    on_shard: Callable[[dict], None] | None = None


@dataclass
class RunStats:
    n_shards: int
    written: int = 0
    skipped: int = 0
    pairs: int = 0
    kept: int = 0
    seconds: float = 0.0
    worker_seconds: float = 0.0   # summed over shards (all workers)
    encode_seconds: float = 0.0   # of which polymer towers
    startup_seconds: float = 0.0  # starting workers (Ray actors) before the first shard
    cpu_seconds: float = 0.0      # CPU time of the shards (process time of the worker(s), all threads)
    encode_cpu_seconds: float = 0.0  # of which polymer towers
    worker_cpu_total: list[float] = field(default_factory=list)  # each worker process's CPU since it started
    engine: str = ""
    workers: int = 1
    peak_rss_bytes: list[int] = field(default_factory=list)

    @property
    def pairs_per_s(self) -> float:
        return self.pairs / self.seconds if self.seconds > 0 else float("nan")

    def to_dict(self) -> dict:
        return {"n_shards": self.n_shards, "written": self.written, "skipped": self.skipped,
                "pairs_scored": self.pairs, "rows_kept": self.kept, "seconds": round(self.seconds, 3),
                "pairs_per_s": self.pairs_per_s, "worker_seconds": round(self.worker_seconds, 3),
                "tower_share": round(self.encode_seconds / self.worker_seconds, 3) if self.worker_seconds else None,
                "startup_seconds": round(self.startup_seconds, 3), "engine": self.engine, "workers": self.workers,
                "cpu_seconds": round(self.cpu_seconds, 3), "encode_cpu_seconds": round(self.encode_cpu_seconds, 3),
                "worker_cpu_total": [round(c, 3) for c in self.worker_cpu_total],
                "worker_peak_rss_bytes": self.peak_rss_bytes}


def _bar(total: int, desc: str, progress: bool):
    from chiscreen.runtime import bar

    return bar(total, desc, progress, unit="shard")


def _account(st: RunStats, s: dict, bar, t0: float, hooks: EngineHooks | None) -> None:
    if s.get("skipped"):
        st.skipped += 1
    else:
        st.written += 1
        st.pairs += s["pairs"]
        st.kept += s["kept"]
        st.worker_seconds += s.get("seconds", 0.0)
        st.encode_seconds += s.get("encode_seconds", 0.0)
        st.cpu_seconds += s.get("cpu_seconds", 0.0)
        st.encode_cpu_seconds += s.get("encode_cpu_seconds", 0.0)
    el = time.perf_counter() - t0
    bar.update(1)
    if st.pairs:
        bar.set_postfix_str(f"{st.pairs / max(el, 1e-9):.3g} pairs/s, kept {st.kept}")
    if hooks and hooks.on_shard:
        hooks.on_shard(s)


def _log_done(st: RunStats) -> None:
    msg = (f"screen [{st.engine}, {st.workers} worker(s)]: {st.written} shard(s) written, {st.skipped} skipped; "
           f"{st.pairs:,} pairs in {st.seconds:.2f} s = {st.pairs_per_s:.3g} pairs/s; {st.kept:,} rows kept")
    log.info(msg)


def plain_shard_threads(cfg: EngineConfig, device: str) -> int:
    """Shards the plain path scores at once (see ``EngineConfig.shard_threads``): 1 on an
    accelerator or when ``cfg.threads`` asks for a number of torch threads."""
    if device != "cpu":
        return 1
    if cfg.shard_threads is not None:
        return int(cfg.shard_threads)
    if cfg.threads is not None:
        return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, min(torch.get_num_threads(), cpus))


def run_plain(ens: Any, task: ScreenTask, cfg: EngineConfig | None = None, progress: bool = True,
              hooks: EngineHooks | None = None, device: str = "auto") -> RunStats:
    """Run every shard in this process (no Ray): one at a time, or ``plain_shard_threads``
    shards side by side in threads with one torch thread each (torch's thread count is restored
    afterwards). Shards are reported (hooks, progress) in order."""
    from collections import deque
    from concurrent.futures import ThreadPoolExecutor

    cfg = cfg or EngineConfig(kind="plain")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    n_thr = plain_shard_threads(cfg, torch.device(device).type)
    st = RunStats(n_shards=task.n_shards, engine="plain", workers=n_thr)
    t0 = time.perf_counter()
    threads_before = torch.get_num_threads()
    bar = None
    try:
        if n_thr > 1:
            torch.set_num_threads(1)
        w = ShardWorker(ens, task, device=device, threads=cfg.threads if n_thr == 1 else None)
        if hooks and hooks.on_workers:
            hooks.on_workers([w])
        bar = _bar(task.n_shards, "screen shards", progress)
        if n_thr == 1:
            for i in range(task.n_shards):
                _account(st, w.run(i), bar, t0, hooks)
        else:
            # each thread sets its own thread count: OpenMP's (and so MKL's) is per thread, and a new
            # thread would otherwise run every GEMM on all cores again, whatever the main thread set
            ex = ThreadPoolExecutor(n_thr, thread_name_prefix="chiscreen-shard", initializer=torch.set_num_threads,
                                    initargs=(1,))
            pending: deque = deque()
            todo = iter(range(task.n_shards))

            def submit(i: int):
                # descriptors are read here, in this thread (task.Xp may be a lazy reader), while
                # the threads score earlier shards; a finished shard is not read at all
                X = None if w.done(i) else np.asarray(task.Xp[slice(*task.bounds(i))])
                return ex.submit(w.run, i, X)

            try:
                for i in todo:
                    pending.append(submit(i))
                    if len(pending) >= n_thr + 1:
                        break
                while pending:
                    s = pending.popleft().result()
                    for i in todo:
                        pending.append(submit(i))
                        break
                    _account(st, s, bar, t0, hooks)
            finally:
                ex.shutdown(wait=True, cancel_futures=True)  # running shards finish (whole files), queued ones do not start
    finally:
        if bar is not None:
            bar.close()
        if torch.get_num_threads() != threads_before:
            torch.set_num_threads(threads_before)
    st.seconds = time.perf_counter() - t0
    st.peak_rss_bytes = [w.peak_rss_bytes()]
    st.worker_cpu_total = [w.cpu_total()]
    _log_done(st)
    return st


def ensure_ray(address: str | None = None, num_cpus: int | None = None) -> None:
    """Connect to Ray if not yet connected, with chiscreen's one set of session settings
    (:func:`chiscreen.runtime.connect_ray`): ``address`` given -> that cluster ("auto" under
    ``ray job submit``); None -> the current job's cluster, else an embedded local Ray."""
    from chiscreen.runtime import connect_ray

    connect_ray(address=address, num_cpus=num_cpus)


def actor_resources(resources: dict, cfg: EngineConfig) -> tuple[int, dict, str]:
    """(number of actors, ``.options`` resources, device) from ``ray.cluster_resources()``.

    GPU actors only when the cluster has GPUs; CPU actors otherwise (num_gpus=0 explicitly, so
    nothing waits for a GPU that does not exist).
    """
    from chiscreen.runtime import ray_options

    gpus = int(resources.get("GPU", 0) or 0)
    cpus = int(resources.get("CPU", 1) or 1)
    if cfg.use_gpus and gpus > 0:
        n = cfg.num_actors or gpus
        return n, ray_options(threads=min(cfg.cpus_per_actor, max(1, cpus // max(n, 1))), num_gpus=1), "cuda"
    n = cfg.num_actors or max(1, cpus // cfg.cpus_per_actor)
    # threads per actor via its options (OMP_NUM_THREADS = its CPUs; passive OpenMP waits when > 1):
    # never inherited from whoever started the Ray session
    return n, ray_options(threads=cfg.cpus_per_actor, num_gpus=0), "cpu"


def _node_id() -> str:
    import ray

    try:
        return ray.get_runtime_context().get_node_id()
    except Exception:  # reporting only
        return "?"


_WARM: dict[tuple, list] = {}  # warm actors of closed pools (EngineConfig.keep_warm), by session and resources


def _session_key() -> str:
    import ray

    try:
        return ray.get_runtime_context().get_session_name()
    except Exception:
        return "?"


def _take_warm(key: tuple) -> list:
    """Warm actors for ``key`` that still answer (removed from the registry), else []."""
    import ray

    actors = _WARM.pop(key, None) or []
    if not actors:
        return []
    try:
        ray.get([a.pid.remote() for a in actors], timeout=10)
        return actors
    except Exception:
        for a in actors:
            try:
                ray.kill(a)
            except Exception:
                pass
        return []


def close_warm_actors() -> int:
    """Kill every warm actor kept by ``EngineConfig.keep_warm``; returns how many."""
    import ray

    n = 0
    for actors in list(_WARM.values()):
        for a in actors:
            try:
                ray.kill(a)
                n += 1
            except Exception:
                pass
    _WARM.clear()
    return n


class _ActorBody:
    """The Ray actor. Its constructor takes only scalars; the ensemble comes as a nested reference
    (``[ref]``) with :meth:`load` (sent right after creation, so the actor starts and loads it while
    the driver still featurizes) and again with every shard call, so a restarted actor reloads it
    on its first call. (A reference among the constructor arguments of a restartable actor is what
    Ray reports as "constructor arguments in the object store"; the pool holds the reference for
    its whole life.) The task arrives with each shard call (zero-copy from the object store) and
    the :class:`ShardWorker` built from it is kept per task id."""

    def __init__(self, device: str, threads: int) -> None:
        if threads:
            torch.set_num_threads(int(threads))
        self.ens: Any = None
        self._ens_key: str | None = None
        self.device, self.threads = device, threads
        self._worker: ShardWorker | None = None
        self._task_id: str | None = None
        self._featurizer: Any = None

    def featurize(self, spec: "FeaturizeSpec", kind: str, keys: list[str]) -> dict:
        """Featurize canonical ``keys`` here (guarded worker processes, one per CPU of this actor)
        and append them to the spec's cache; returns
        :meth:`chiscreen.features.batch.NodeFeaturizer.run`'s dict plus ``node`` (the Ray node id)."""
        out = self._featurizer_for(spec).run(kind, keys)
        out["node"] = _node_id()
        return out

    def run_block(self, task: ScreenTask, i: int, ens_box: list, block: dict) -> dict:
        """Featurize the shard's molecules that are not cached yet (``block["todo"]``), then score
        the shard as :meth:`run`. The result carries ``feat``: the outcome of the featurized rows."""
        X, ok = block["X"], block["ok"]
        feat = None
        if block["todo"]:
            feat = self.featurize(block["spec"], "polymer", block["keys"])
            X = np.array(X, copy=True)
            ok = np.array(ok, copy=True)
            pos = np.asarray(block["todo"], dtype=np.int64)
            X[pos] = feat.pop("X")
            ok[pos] = np.asarray([st == "ok" for st in feat["status"]], dtype=bool)
        out = self.run(task, i, ens_box, X=X, ok=ok)
        out["feat"] = feat
        return out

    def load(self, ens_box: list, spec: "FeaturizeSpec | None" = None) -> int:
        """Load the ensemble; with ``spec``, also start the guarded featurization workers (one
        molecule each), so that the first shard does not wait for their interpreters."""
        import ray

        key = ens_box[0].hex()
        if self.ens is None or self._ens_key != key:  # a warm actor of an earlier pool: maybe another model
            self.ens = ray.get(ens_box[0])
            self._ens_key = key
            self._worker, self._task_id = None, None
        if spec is not None and self._featurizer is None:
            self._featurizer_for(spec).warm()
        return os.getpid()

    def _featurizer_for(self, spec: "FeaturizeSpec"):
        if self._featurizer is None or self._featurizer.spec != spec:
            if self._featurizer is not None:
                self._featurizer.close()
            from chiscreen.features.batch import NodeFeaturizer

            self._featurizer = NodeFeaturizer(spec, workers=max(1, int(self.threads or 1)))
        return self._featurizer

    def pid(self) -> int:
        return os.getpid()

    def peak_rss_bytes(self) -> int:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)

    def cpu_total(self) -> float:
        """CPU seconds of this actor's process since it started (imports and start-up included)."""
        return _cpu_total()

    def park(self) -> int:
        """Drop the last task's worker (and its object-store views) before waiting warm for the
        next pool; the ensemble stays loaded."""
        self._worker, self._task_id = None, None
        return os.getpid()

    def run(self, task: ScreenTask, i: int, ens_box: list, X: np.ndarray | None = None,
            ok: np.ndarray | None = None) -> dict:
        self.load(ens_box)
        if self._worker is None or self._task_id != task.task_id:
            self._worker = ShardWorker(self.ens, task, device=self.device, threads=self.threads)
            self._task_id = task.task_id
        return self._worker.run(i, X=X, ok=ok)


class RayPool:
    """Screen actors on Ray, started early (see :class:`_ActorBody`) and used by :meth:`run`.

    Args:
        ens: the ChiEnsemble (put into the object store once).
        cfg: engine settings; actor count and resources come from ``ray.cluster_resources()``.
        address: Ray address for :func:`ensure_ray` (None: embedded local Ray).
        featurize: the actors will featurize (:meth:`featurize`, ``block_for`` of :meth:`run`):
            their guarded worker processes start with them.
    """

    def __init__(self, ens: Any, cfg: EngineConfig | None = None, address: str | None = None,
                 featurize: "FeaturizeSpec | None" = None) -> None:
        import ray

        self.cfg = cfg or EngineConfig()
        ensure_ray(address)
        self.t_created = time.perf_counter()
        self.n, opts, device = actor_resources(ray.cluster_resources(), self.cfg)
        Actor = ray.remote(max_restarts=-1, max_task_retries=-1)(_ActorBody)
        self._ens_ref = ray.put(ens.to("cpu"))  # held for the pool's life: restarts need it
        self._warm_key = (_session_key(), self.n, device, tuple(sorted((k, repr(v)) for k, v in opts.items())))
        self.actors = _take_warm(self._warm_key)
        self.reused_warm = bool(self.actors)
        if not self.actors:
            self.actors = [Actor.options(**opts).remote(device, int(opts["num_cpus"])) for _ in range(self.n)]
        self._loading = [a.load.remote([self._ens_ref], featurize) for a in self.actors]

    def featurize(self, spec: "FeaturizeSpec", kind: str, keys: list[str], batch: int = 64) -> list[dict]:
        """Featurize ``keys`` on the actors (batches of ``batch`` spread over every actor, so over
        every node they run on); returns the batch results in order (see :meth:`_ActorBody.featurize`),
        each with ``start``: its first position in ``keys``."""
        import ray

        if not keys:
            return []
        try:
            ray.get(self._loading)
        except ray.exceptions.RayError as exc:
            raise ScreenError(f"screen actors could not start: {exc}") from exc
        starts = list(range(0, len(keys), batch))
        refs = [self.actors[k % self.n].featurize.remote(spec, kind, keys[p:p + batch]) for k, p in enumerate(starts)]
        try:
            outs = ray.get(refs)
        except ray.exceptions.RayError as exc:
            msg = str(exc).splitlines()[0] if str(exc) else repr(exc)
            raise ScreenError(f"featurizing {kind}s on Ray failed: {msg}") from exc
        for p, o in zip(starts, outs):
            o["start"] = p
        return outs

    def close(self) -> None:
        """Kill the actors, or with ``cfg.keep_warm`` keep them for the next pool (see
        :class:`EngineConfig`)."""
        import ray

        if self.cfg.keep_warm and self.actors:
            try:
                ray.get([a.park.remote() for a in self.actors], timeout=30)
                _WARM[self._warm_key] = list(self.actors)
                self.actors = []
                return
            except Exception:  # an actor that does not answer is not kept
                pass
        for a in self.actors:
            try:
                ray.kill(a)
            except Exception:
                pass
        self.actors = []

    def __enter__(self) -> "RayPool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def run(self, task: ScreenTask, progress: bool = True, hooks: EngineHooks | None = None,
            block_for: Callable[[int], dict] | None = None, on_result: Callable[[int, dict], None] | None = None) -> RunStats:
        """Run every shard of ``task`` (finished shards are skipped by the workers).

        ``block_for(i)``: the shard's descriptor block (``X``, ``ok``, ``todo`` positions, their
        ``keys``, the featurization ``spec``), built just before the shard is sent: the actor
        featurizes the missing rows and then scores the shard (:meth:`_ActorBody.run_block`), so
        featurization runs on the actors' nodes and overlaps with scoring. ``on_result(i, stats)``
        sees every shard's result (with ``feat``) before the hooks.
        """
        import ray

        if not task.task_id:
            task.task_id = uuid.uuid4().hex
        st = RunStats(n_shards=task.n_shards, engine="ray", workers=self.n)
        t0 = time.perf_counter()
        task_ref = ray.put(task)
        try:
            ray.get(self._loading)  # actors up, ensemble loaded (usually already: started early)
        except ray.exceptions.RayError as exc:
            raise ScreenError(f"screen actors could not start: {exc}") from exc
        st.startup_seconds = time.perf_counter() - t0
        if hooks and hooks.on_workers:
            hooks.on_workers(self.actors)
        todo = list(range(task.n_shards))
        pending: dict[Any, tuple[int, int]] = {}
        load = [0] * self.n
        cap = self.cfg.in_flight_per_actor
        bar = _bar(task.n_shards, "screen shards", progress)
        try:
            while todo or pending:
                while todo and min(load) < cap:
                    a = int(np.argmin(load))
                    i = todo.pop(0)
                    if block_for is None:
                        ref = self.actors[a].run.remote(task_ref, i, [self._ens_ref])
                    else:
                        ref = self.actors[a].run_block.remote(task_ref, i, [self._ens_ref], block_for(i))
                    pending[ref] = (i, a)
                    load[a] += 1
                ready, _ = ray.wait(list(pending), num_returns=1)
                for ref in ready:
                    i, a = pending.pop(ref)
                    load[a] -= 1
                    try:
                        s = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # task error, or an actor that cannot start
                        msg = str(exc).splitlines()[0] if str(exc) else repr(exc)
                        raise ScreenError(f"shard {i} failed on Ray: {msg}; finished shards are kept, "
                                          "rerun to resume") from exc
                    if on_result is not None:
                        on_result(i, s)
                    _account(st, s, bar, t0, hooks)
            st.seconds = time.perf_counter() - t0
            try:
                st.peak_rss_bytes = ray.get([a.peak_rss_bytes.remote() for a in self.actors], timeout=30)
                st.worker_cpu_total = ray.get([a.cpu_total.remote() for a in self.actors], timeout=30)
            except Exception:  # reporting only
                st.peak_rss_bytes = []
        finally:
            bar.close()
        _log_done(st)
        return st


def run_ray(ens: Any, task: ScreenTask, cfg: EngineConfig | None = None, progress: bool = True,
            hooks: EngineHooks | None = None, address: str | None = None, pool: RayPool | None = None,
            block_for: Callable[[int], dict] | None = None,
            on_result: Callable[[int, dict], None] | None = None) -> RunStats:
    """Run the shards on Ray actors (connecting to / starting Ray via :func:`ensure_ray`).

    ``pool``: actors started earlier (:class:`RayPool`), e.g. while the driver featurized; it is
    left open for the caller to close. Without it a pool is started and closed here.
    ``block_for`` / ``on_result``: featurization on the actors (:meth:`RayPool.run`).
    """
    if pool is not None:
        return pool.run(task, progress=progress, hooks=hooks, block_for=block_for, on_result=on_result)
    with RayPool(ens, cfg, address) as p:
        return p.run(task, progress=progress, hooks=hooks, block_for=block_for, on_result=on_result)
