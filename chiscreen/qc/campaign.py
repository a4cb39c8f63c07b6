"""Oracle data campaign: sigma profiles for many polymers and solvents, then a chi_oracle label table.

    cfg = load_campaign_config("configs/oracle-campaign.yaml")
    res = run_campaign(cfg, out="runs/oracle-campaign")        # resumable; writes DIR/chi_oracle.parquet
    table = relabel(out="runs/oracle-campaign", param_set="xtbfit-2", output="relabelled.parquet")

What a campaign does (``jobs/oracle_campaign.py`` is its Ray job entrypoint):

1. **Molecules** (:func:`resolve_molecules`): the reference polymers and solvents (those of the
   experimental chi data), the catalog polymers and solvents (``catalogs/``), and ``enumerated.n``
   enumerated polymers (``chiscreen.catalogs.enumerate_polymers``) chosen by descriptor-space
   diversity: greedy k-center (farthest point) on standardized descriptors (default the shipped
   model's ``rdkit2d_periodic``), starting from the reference and catalog polymers as existing
   centres (:func:`k_center`). Deterministic (ties by position; ``seed`` only matters when there are
   no centres). The resolved list is written once to ``DIR/molecules.parquet`` and reused on resume,
   so a resumed run never changes its molecules.
2. **Profiles**: every molecule without a stored profile is computed (one molecule per task; Ray
   actors, each supervising one single-threaded xtb worker process with a wall-time limit
   ``run.timeout_s`` and an address-space cap ``run.mem_limit_mb``, or the same supervised pool without
   Ray). Profiles go into the shared profile store as they finish (atomic per-key writes), so a
   killed campaign recomputes nothing it had finished. A molecule that fails is recorded with its
   reason (invalid input, embedding, SCF, timeout, memory, crash) in ``DIR/failures.parquet`` and the
   manifest; the campaign carries on.
3. **Labels**: chi for every (polymer, solvent, T) whose two profiles exist, from stored profiles
   with the parameter set ``params`` (default: the shipped one), ~ms per (pair, T). Written in
   parts (``DIR/labels/part-NNNNN.parquet``, one per ``part_polymers`` polymers, in molecule order,
   written as soon as all of their polymers are done); a part already on disk for the same parameter
   set and molecule list is kept on resume, so rows are never duplicated. At the end the parts are
   joined into ``DIR/chi_oracle.parquet`` (zstd) and ``DIR/manifest.json`` records molecules profiled,
   pairs, failures with reasons and wall time.

Relabelling (:func:`relabel`) recomputes the label table of a finished (or partial) campaign from
stored profiles only, for another parameter set: no xtb runs, seconds to a minute.

Label table columns: those of :func:`chiscreen.qc.results.label_rows` (polymer_smiles,
solvent_smiles, temperature_K (K), chi_oracle, chi_oracle_spread, source, source_row) plus
provenance: profile_engine, profile_method, param_set (``name@digest``), polymer_origin
(reference | catalog | enumerated | an arm name), solvent_origin (reference | catalog).

Layer: qc (imports catalogs and features below it; Ray only inside functions, via runtime).
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Literal, Optional, Sequence

import numpy as np
import pandas as pd

from chiscreen.config import load_config
from chiscreen.errors import ConfigError, InvalidInputError
from chiscreen.schema import CHI_ORACLE, POLYMER_SMILES, SOLVENT_SMILES, SOURCE_ROW, TEMPERATURE_K

log = logging.getLogger("chiscreen.qc.campaign")

KIND = "oracle-campaign"
ORIGINS = ("reference", "catalog", "enumerated")
NOT_RUN = "not_run"  #: outcome reason of a molecule left when run.max_wall_s was spent
PROVENANCE_COLUMNS = ["profile_engine", "profile_method", "param_set", "polymer_origin", "solvent_origin"]
LABEL_COLUMNS = [POLYMER_SMILES, SOLVENT_SMILES, TEMPERATURE_K, CHI_ORACLE, "chi_oracle_spread", "source",
                 SOURCE_ROW, *PROVENANCE_COLUMNS]
OWNED = ["manifest.json", "config.yaml", "profiled.jsonl", "molecules.parquet", "enumerated.parquet", "failures.parquet",
         "chi_oracle.parquet", "chi_oracle.json", "labels/part-*.parquet", "relabel/*.parquet"]
MOLECULE_COLUMNS = ["kind", "smiles", "origin", "name", "order"]


# ---------------------------------------------------------------------------- config
@dataclass
class PolymerSetConfig:
    """Which polymers the campaign profiles.

    Attributes:
        reference: the polymers of the experimental chi data (``mtl_chi/data_Chi.csv``).
        catalog: a polymer catalog CSV/Parquet with a ``smiles`` column (None: none).
        enumerated: how many enumerated polymers to add (0: none), chosen by k-center diversity.
        rules: polymerization rules to enumerate (``chiscreen.catalogs.RULES``; empty = all).
        max_atoms: enumerated repeat units with more atoms (hydrogens counted, the two '*' not)
            are left out before the diversity pick: profile cost grows steeply with size (measured
            one core: 22 atoms/unit 2.6 s CPU, 47 atoms/unit 17 s, 50 atoms/unit 37 s).
        featurizer / representation: descriptors of the diversity pick (standardized; NaN columns
            imputed by the median, constant columns dropped, z clipped to +-5).
        seed: first centre when there are no reference/catalog polymers (else unused).
        smiles: extra repeat units (origin "extra").
    """

    reference: bool = True
    catalog: Optional[str] = "catalogs/polymers.csv"
    enumerated: int = 300
    rules: list[str] = field(default_factory=list)
    max_atoms: int = 30
    featurizer: str = "rdkit2d_periodic"
    representation: str = "periodic"
    seed: int = 0
    smiles: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.enumerated < 0 or self.max_atoms < 1:
            raise ConfigError("polymers.enumerated must be >= 0 and polymers.max_atoms >= 1")


@dataclass
class SolventSetConfig:
    """Which solvents: the reference solvents, a catalog (None: none) and extra SMILES."""

    reference: bool = True
    catalog: Optional[str] = "catalogs/solvents.csv"
    smiles: list[str] = field(default_factory=list)


@dataclass
class CampaignRunConfig:
    """How profiles are computed.

    Attributes:
        backend: "ray" (Ray actors, one per worker, each supervising one xtb process) or
            "process" (the same supervised processes, no Ray).
        workers: parallel xtb processes (the shared machine allows 2).
        timeout_s: wall-clock limit per molecule and attempt, seconds.
        mem_limit_mb: address-space cap of each xtb process, MB.
        retries: extra attempts (shifted embedding seed) for embedding / SCF / crash failures.
        address: Ray address (None: the job's cluster inside ``ray job submit``, else a local Ray).
        num_cpus: CPUs of a local Ray (None: ``workers``).
        progress: tqdm bar (drawn only on a terminal; a log line every ``log_every_s`` otherwise).
        order: profile order of the polymers still to compute: "cheapest_first" (fewest atoms per
            repeat unit first: the most molecules for a given CPU budget, so a run cut short keeps
            the most; label parts are still written in list order as they complete) or "listed".
        max_wall_s: wall-time budget of the profile step of one run, seconds (None: none). When it is
            spent the workers are stopped, the molecules left are reported as ``not_run`` (not
            failures; a later run computes them) and the table is written from what is stored.
    """

    backend: Literal["ray", "process"] = "ray"
    workers: int = 2
    timeout_s: float = 600.0
    mem_limit_mb: int = 6000
    retries: int = 1
    address: Optional[str] = None
    num_cpus: Optional[int] = None
    progress: bool = True
    log_every_s: float = 60.0
    order: Literal["cheapest_first", "listed"] = "cheapest_first"
    max_wall_s: Optional[float] = None

    def __post_init__(self) -> None:
        if self.workers < 1 or self.retries < 0 or self.timeout_s <= 0 or self.mem_limit_mb <= 0:
            raise ConfigError("run: workers >= 1, retries >= 0, timeout_s > 0 and mem_limit_mb > 0 expected")


@dataclass
class CampaignConfig:
    """One oracle data campaign (YAML: ``configs/oracle-campaign.yaml``; unknown keys rejected).

    Attributes:
        name: written into the ``source`` column (``oracle-campaign:<name>``).
        temperatures_K: temperature grid, Kelvin (150-700).
        profile: :class:`~chiscreen.qc.profile.ProfileSpec` fields ({} = the default method).
        params: COSMO-SAC parameter set (shipped name or JSON path; None = the shipped default).
        store: profile store folder (None: ``$CHISCREEN_CACHE/oracle``).
        part_polymers: polymers per label part file.
    """

    name: str = "oracle-campaign"
    polymers: PolymerSetConfig = field(default_factory=PolymerSetConfig)
    solvents: SolventSetConfig = field(default_factory=SolventSetConfig)
    temperatures_K: list[float] = field(default_factory=lambda: [298.15, 323.15, 348.15])
    profile: dict = field(default_factory=dict)
    params: Optional[str] = None
    store: Optional[str] = None
    run: CampaignRunConfig = field(default_factory=CampaignRunConfig)
    part_polymers: int = 20

    def __post_init__(self) -> None:
        if not self.temperatures_K or any(not 150.0 <= t <= 700.0 for t in self.temperatures_K):
            raise ConfigError(f"temperatures_K = {self.temperatures_K}: expected Kelvin values in [150, 700]")
        if self.part_polymers < 1:
            raise ConfigError("part_polymers must be >= 1")
        from chiscreen.qc.profile import ProfileSpec

        ProfileSpec.from_dict(self.profile)  # ConfigError naming a bad profile key

    def spec(self):
        from chiscreen.qc.profile import ProfileSpec

        return ProfileSpec.from_dict(self.profile)

    def store_path(self) -> Path:
        if self.store:
            return Path(self.store).expanduser()
        from chiscreen.paths import cache_dir

        return cache_dir("oracle")


def load_campaign_config(source: str | os.PathLike | dict) -> CampaignConfig:
    """Load a :class:`CampaignConfig` from YAML or a mapping (ConfigError names a bad key)."""
    return load_config(source, CampaignConfig)


# ---------------------------------------------------------------------------- molecules
def reference_molecules() -> tuple[list[str], list[str]]:
    """(polymer keys, solvent keys) of the experimental chi data, canonical, in first-seen order.
    Raises DataNotFoundError when the reference data is absent."""
    from chiscreen.data import load_experimental_chi

    e = load_experimental_chi()
    return list(dict.fromkeys(e["polymer_key"])), list(dict.fromkeys(e["solvent_key"]))


def catalog_molecules(path: str, kind: str) -> list[tuple[str, str]]:
    """(canonical key, name) of the valid rows of a catalog CSV/Parquet (invalid rows reported)."""
    from chiscreen.chem import try_canonical_key
    from chiscreen.data import read_table

    p = Path(path)
    if not p.is_absolute() and not p.exists():
        from chiscreen.paths import project_root

        root = project_root()
        if root is not None and (root / p).exists():
            p = root / p
    t = read_table(str(p))
    col = next((c for c in ("canonical", "smiles", f"{kind}_smiles") if c in t.columns), None)
    if col is None:
        raise InvalidInputError(f"{path}: no 'smiles' column (got {list(t.columns)})")
    names = t["name"].astype(str).tolist() if "name" in t.columns else [f"{kind}-{i}" for i in range(len(t))]
    out = []
    for i, (s, n) in enumerate(zip(t[col], names)):
        key, why = try_canonical_key(kind, s)
        if key is None:
            log.warning("%s: row %d (%s): skipped: %s", path, i, n, why)
            continue
        out.append((key, n))
    return out


def unit_atoms(unit: str) -> int:
    """Atoms of a repeat unit, hydrogens counted, the '*' attachment points not (-1 when unparsable)."""
    from rdkit import Chem, rdBase

    with rdBase.BlockLogs():
        m = Chem.MolFromSmiles(unit)
    if m is None:
        return -1
    return sum(1 + a.GetTotalNumHs() for a in m.GetAtoms() if a.GetAtomicNum() > 0)


def descriptor_matrix(units: Sequence[str], featurizer: str, representation: str,
                      progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(X (N, F) float64 raw descriptors, ok (N,) bool) of canonical repeat units (cached)."""
    from chiscreen.features import featurize

    ft = featurize(list(units), kind="polymer", featurizer=featurizer, representation=representation,
                   assume_canonical=True, progress=progress, n_jobs=2, timeout_s=60.0)
    return ft.X.astype(np.float64), ft.ok


def standardize(X: np.ndarray, clip: float = 5.0) -> np.ndarray:
    """Column z-scores over the rows of X: NaN/inf imputed by the column median, constant (or
    all-NaN) columns dropped, values clipped to +-``clip``. Shape (N, F') with F' <= F."""
    X = np.array(X, dtype=np.float64)
    X[~np.isfinite(X)] = np.nan
    keep = ~np.all(np.isnan(X), axis=0)
    X = X[:, keep]
    med = np.nanmedian(X, axis=0)
    r, c = np.nonzero(np.isnan(X))
    X[r, c] = med[c]
    sd = X.std(axis=0)
    X = X[:, sd > 1e-12]
    Z = (X - X.mean(axis=0)) / X.std(axis=0)
    return np.clip(Z, -clip, clip)


def k_center(Z: np.ndarray, n: int, centers: np.ndarray | None = None, seed: int = 0) -> list[int]:
    """Greedy farthest-point (k-center) selection of ``n`` row indices of ``Z`` (N, F).

    Each pick is the row farthest (Euclidean) from every centre chosen so far and from the given
    ``centers`` (M, F) rows; with no centres the first pick is a seeded random row. Ties go to the
    lowest index, so the result is deterministic. Returns fewer than ``n`` when Z has fewer rows.
    """
    N = len(Z)
    n = min(int(n), N)
    if n <= 0:
        return []
    d = np.full(N, np.inf)
    if centers is not None and len(centers):
        for a in range(0, len(centers), 256):
            c = centers[a:a + 256]
            dd = ((Z[:, None, :] - c[None, :, :]) ** 2).sum(-1).min(1)
            d = np.minimum(d, dd)
        first = int(np.argmax(d))
    else:
        first = int(np.random.default_rng(seed).integers(N))
    picks = [first]
    d = np.minimum(d, ((Z - Z[first]) ** 2).sum(1))
    d[first] = -1.0
    while len(picks) < n:
        j = int(np.argmax(d))
        if d[j] < 0:
            break
        picks.append(j)
        d = np.minimum(d, ((Z - Z[j]) ** 2).sum(1))
        d[picks] = -1.0
    return picks


def enumerated_candidates(rules: Sequence[str] = (), max_atoms: int = 30, progress: bool = False,
                          cache: str | os.PathLike | None = None) -> pd.DataFrame:
    """The enumerated catalog (canonical, name, rule, atoms), units over ``max_atoms`` atoms
    (:func:`unit_atoms`) left out. ``cache``: a Parquet file holding the full enumeration (read if present, else written)."""
    from chiscreen.catalogs import RULES, enumerate_polymers
    from chiscreen.io import atomic_path

    rules = tuple(rules) or RULES
    df = None
    if cache is not None and Path(cache).is_file():
        df = pd.read_parquet(cache)
        if set(df["rule"].unique()) - set(rules):
            df = df[df["rule"].isin(rules)]
    if df is None:
        df, rep = enumerate_polymers(rules=rules, n_jobs=2, progress=progress)
        log.info("enumerated: %s", rep)
        df["atoms"] = [unit_atoms(s) for s in df["canonical"]]
        if cache is not None:
            with atomic_path(Path(cache)) as tmp:
                df.to_parquet(tmp, index=False)
    if "atoms" not in df.columns:
        df["atoms"] = [unit_atoms(s) for s in df["canonical"]]
    return df[(df["atoms"] >= 1) & (df["atoms"] <= max_atoms)].reset_index(drop=True)


def diverse_pick(candidates: Sequence[str], n: int, centers: Sequence[str], featurizer: str = "rdkit2d_periodic",
                 representation: str = "periodic", seed: int = 0, progress: bool = False) -> list[str]:
    """``n`` of ``candidates`` (canonical units) by k-center on standardized descriptors, the
    ``centers`` units counting as already chosen. Units whose descriptors fail are skipped."""
    cand = list(dict.fromkeys(candidates))
    cset = set(cand)
    cent = [c for c in dict.fromkeys(centers) if c not in cset]
    X, ok = descriptor_matrix(cand + cent, featurizer, representation, progress)
    okc, okk = ok[:len(cand)], ok[len(cand):]
    Z = standardize(np.concatenate([X[:len(cand)][okc], X[len(cand):][okk]]))
    zc = Z[:int(okc.sum())]
    zk = Z[int(okc.sum()):]
    idx = np.flatnonzero(okc)
    return [cand[idx[i]] for i in k_center(zc, n, zk, seed)]


def resolve_molecules(cfg: CampaignConfig, progress: bool = False,
                      enum_cache: str | os.PathLike | None = None) -> pd.DataFrame:
    """The campaign's molecules: kind, smiles (canonical), origin, name, order (DataFrame).

    Polymers first-seen wins: reference, catalog, extra, enumerated (diverse pick). Raises
    DataNotFoundError when ``reference`` is asked for and the reference data is absent."""
    rows: list[tuple[str, str, str, str]] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, key: str, origin: str, name: str) -> None:
        if (kind, key) not in seen:
            seen.add((kind, key))
            rows.append((kind, key, origin, name))

    from chiscreen.chem import try_canonical_key

    pc, sc = cfg.polymers, cfg.solvents
    if pc.reference or sc.reference:
        rp, rs = reference_molecules()
        if pc.reference:
            for k in rp:
                add("polymer", k, "reference", "")
        if sc.reference:
            for k in rs:
                add("solvent", k, "reference", "")
    if pc.catalog:
        for k, n in catalog_molecules(pc.catalog, "polymer"):
            add("polymer", k, "catalog", n)
    if sc.catalog:
        for k, n in catalog_molecules(sc.catalog, "solvent"):
            add("solvent", k, "catalog", n)
    for kind, items in (("polymer", pc.smiles), ("solvent", sc.smiles)):
        for s in items:
            key, why = try_canonical_key(kind, s)
            if key is None:
                raise InvalidInputError(f"{kind}s.smiles: {s!r}: {why}")
            add(kind, key, "extra", "")
    if pc.enumerated > 0:
        cand = enumerated_candidates(pc.rules, pc.max_atoms, progress, enum_cache)
        have = [k for kind, k in seen if kind == "polymer"]
        pool = [c for c in cand["canonical"] if ("polymer", c) not in seen]
        names = dict(zip(cand["canonical"], cand["name"]))
        for k in diverse_pick(pool, pc.enumerated, have, pc.featurizer, pc.representation, pc.seed, progress):
            add("polymer", k, "enumerated", names.get(k, ""))
    df = pd.DataFrame(rows, columns=["kind", "smiles", "origin", "name"])
    df["order"] = np.arange(len(df), dtype=np.int64)
    return df


def solvent_set(cfg: CampaignConfig) -> pd.DataFrame:
    """The campaign's solvents only (kind, smiles, origin, name): no enumeration, no polymers."""
    c = replace(cfg, polymers=PolymerSetConfig(reference=False, catalog=None, enumerated=0))
    m = resolve_molecules(c)
    return m[m["kind"] == "solvent"].reset_index(drop=True)


def arm_candidates(cfg: CampaignConfig, exclude: Iterable[str], enum_cache: str | os.PathLike | None = None,
                   progress: bool = False) -> pd.DataFrame:
    """Enumerated polymers eligible for a data-choice arm: the enumeration with the config's rules
    and ``max_atoms`` filter, minus ``exclude`` (canonical units: reference, catalog, a campaign's
    polymers). Columns canonical, name, rule, atoms; generation order."""
    pc = cfg.polymers
    cand = enumerated_candidates(pc.rules, pc.max_atoms, progress, enum_cache)
    ex = set(exclude)
    return cand[~cand["canonical"].isin(ex)].reset_index(drop=True)


def random_pick(candidates: Sequence[str], n: int, seed: int = 0) -> list[str]:
    """``n`` of ``candidates`` uniformly at random without replacement (numpy default_rng(seed))."""
    cand = list(candidates)
    idx = np.random.default_rng(seed).choice(len(cand), size=min(n, len(cand)), replace=False)
    return [cand[i] for i in idx]


def run_arms(cfg: CampaignConfig, out: str | os.PathLike, arms: dict[str, Sequence[str]],
             overwrite: bool = False, take_over: bool = False, param_set: str | None = None,
             command: str = "", names: dict[str, str] | None = None, subdir: str = "") -> dict[str, CampaignResult]:
    """Profile and label the polymers of each data-choice arm against the config's solvents.

    ``arms``: arm name -> canonical repeat units. Profiles of the union of all arms are computed first,
    arms interleaved (round robin), so an interrupted run leaves every arm about equally far; then
    each arm is a campaign folder ``out/<subdir>/<arm>`` (polymer_origin = the arm name) holding its
    ``chi_oracle.parquet``. Resumable like :func:`run_campaign`."""
    from chiscreen.qc.oracle import Oracle
    from chiscreen.qc.store import ProfileStore

    root = Path(out)
    root.mkdir(parents=True, exist_ok=True)
    solv = solvent_set(cfg)
    oracle = Oracle(cfg.spec(), ProfileStore(cfg.store_path()), params=param_set or cfg.params)
    lists = [list(v) for v in arms.values()]
    union: list[tuple[str, str]] = [("solvent", s) for s in solv["smiles"]]
    seen = set()
    for j in range(max((len(v) for v in lists), default=0)):
        for v in lists:
            if j < len(v) and v[j] not in seen:
                seen.add(v[j])
                union.append(("polymer", v[j]))
    t0 = time.time()
    print(f"oracle arms: profiling {len(seen)} distinct polymers of {len(arms)} arms "
          f"({', '.join(f'{k} {len(v)}' for k, v in arms.items())}) and {len(solv)} solvents",
          file=sys.stderr, flush=True)
    got = profile_molecules(oracle, union, cfg.run, progress=cfg.run.progress)
    known = {union[i]: o for i, o in got.items()}
    t_prof = time.time() - t0
    res = {}
    for name, polys in arms.items():
        mols = pd.concat([pd.DataFrame({"kind": "polymer", "smiles": list(polys), "origin": name,
                                        "name": [(names or {}).get(p, "") for p in polys]}), solv], ignore_index=True)
        c = replace(cfg, name=f"arm-{name}")
        res[name] = run_campaign(c, root / subdir / name, overwrite=overwrite, take_over=take_over, progress=False,
                                 param_set=param_set, command=command, molecules=mols, known=known)
        res[name].manifest["arm_profile_wall_s"] = round(t_prof, 1)
    return res


def molecules_digest(mols: pd.DataFrame) -> str:
    """Short hash of the molecule list (kind, smiles, origin in order): parts carry it."""
    text = "\n".join(f"{k}\t{s}\t{o}" for k, s, o in zip(mols["kind"], mols["smiles"], mols["origin"]))
    return hashlib.sha1(text.encode()).hexdigest()[:12]


# ---------------------------------------------------------------------------- profile runners
def _profile_item(args: tuple[str, str, dict, int]):
    """One attempt in a supervised worker process (what the runners call)."""
    from chiscreen.qc.profile import ProfileSpec, profile_task

    kind, smiles, spec_d, attempt = args
    return profile_task(kind, smiles, ProfileSpec.from_dict(spec_d), attempt)


_THREADS = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
            "OMP_STACKSIZE": os.environ.get("OMP_STACKSIZE", "512M")}


def _outcome_of(kind: str, smiles: str, pool_kind: str, value, reason: str, seconds: float, attempt: int,
                timeout_s: float, mem_mb: int):
    """A ProfileOutcome from one supervised-pool outcome."""
    from chiscreen.qc.profile import ProfileOutcome
    from chiscreen.qc.results import Reason

    if pool_kind == "ok":
        value.attempts = attempt
        return value
    if pool_kind == "timeout":
        return ProfileOutcome(kind, smiles, None, Reason.TIMEOUT.value, f"no result within {timeout_s:g} s",
                              seconds=seconds, attempts=attempt)
    if pool_kind == "memory":
        return ProfileOutcome(kind, smiles, None, "memory", f"out of memory (limit {mem_mb} MB): {reason}",
                              seconds=seconds, attempts=attempt)
    return ProfileOutcome(kind, smiles, None, Reason.WORKER_CRASHED.value, reason, seconds=seconds, attempts=attempt)


class _LocalRunner:
    """Supervised processes in this process (``backend: process``)."""

    def __init__(self, rc: CampaignRunConfig) -> None:
        from chiscreen.runtime import SupervisedPool

        self.pool = SupervisedPool(f"{__name__}:_profile_item", workers=rc.workers, timeout_s=rc.timeout_s,
                                   mem_limit_mb=rc.mem_limit_mb, env=_THREADS)
        self.slots = rc.workers

    def submit(self, key, item) -> None:
        self.pool.submit(key, item)

    def wait(self, timeout: float) -> list[tuple]:
        return [(o.index, o.kind, o.value, o.reason, o.seconds) for o in self.pool.wait(timeout)]

    @property
    def pending(self) -> int:
        return self.pool.pending

    def close(self) -> None:
        self.pool.close()


class ProfileWorker:
    """Body of a Ray actor: one supervised single-threaded xtb process (time and memory limits)."""

    def __init__(self, timeout_s: float, mem_limit_mb: int) -> None:
        from chiscreen.runtime import SupervisedPool

        self.pool = SupervisedPool(f"{__name__}:_profile_item", workers=1, timeout_s=timeout_s,
                                   mem_limit_mb=mem_limit_mb, env=_THREADS)

    def run(self, key, item) -> tuple:
        self.pool.submit(key, item)
        outs = []
        while self.pool.pending:
            outs += self.pool.wait()
        o = outs[0]
        return (key, o.kind, o.value, o.reason, o.seconds)

    def close(self) -> None:
        self.pool.close()


class _RayRunner:
    """``workers`` Ray actors (num_cpus=1, one thread), one molecule in flight each."""

    def __init__(self, rc: CampaignRunConfig) -> None:
        from chiscreen.runtime import connect_ray, ray_options

        ray = connect_ray(address=rc.address, num_cpus=rc.num_cpus or rc.workers)
        self.ray = ray
        Actor = ray.remote(ProfileWorker)   # max_concurrency 2: close() can stop a busy worker's xtb process
        self.actors = [Actor.options(max_concurrency=2, **ray_options(threads=1, env={"OMP_STACKSIZE": _THREADS["OMP_STACKSIZE"]}))
                       .remote(rc.timeout_s, rc.mem_limit_mb) for _ in range(rc.workers)]
        self.idle = list(self.actors)
        self.queue: list[tuple] = []
        self.inflight: dict = {}
        self.guard_s = rc.timeout_s + 300.0  # the actor's pool enforces timeout_s; this catches a lost actor
        self.rc = rc
        self.slots = rc.workers

    def submit(self, key, item) -> None:
        self.queue.append((key, item))

    def _dispatch(self) -> None:
        while self.queue and self.idle:
            key, item = self.queue.pop(0)
            a = self.idle.pop()
            self.inflight[a.run.remote(key, item)] = (a, key, time.monotonic())

    @property
    def pending(self) -> int:
        return len(self.queue) + len(self.inflight)

    def wait(self, timeout: float) -> list[tuple]:
        self._dispatch()
        if not self.inflight:
            return []
        ready, _ = self.ray.wait(list(self.inflight), num_returns=1, timeout=timeout)
        out = []
        for ref in ready:
            a, key, t0 = self.inflight.pop(ref)
            try:
                out.append(self.ray.get(ref))
                self.idle.append(a)
            except Exception as exc:  # the actor died: replace it
                out.append((key, "crashed", None, f"Ray actor failed: {type(exc).__name__}: {exc}"[:500],
                            time.monotonic() - t0))
                self.idle.append(self._replace(a))
        now = time.monotonic()
        for ref, (a, key, t0) in list(self.inflight.items()):
            if now - t0 > self.guard_s:
                self.inflight.pop(ref)
                out.append((key, "timeout", None, f"no answer from the Ray actor within {self.guard_s:g} s",
                            now - t0))
                self.idle.append(self._replace(a))
        self._dispatch()
        return out

    def _replace(self, a):
        from chiscreen.runtime import ray_options

        try:
            self.ray.kill(a)
        except Exception:
            pass
        self.actors.remove(a)
        b = (self.ray.remote(ProfileWorker)
             .options(max_concurrency=2, **ray_options(threads=1, env={"OMP_STACKSIZE": _THREADS["OMP_STACKSIZE"]}))
             .remote(self.rc.timeout_s, self.rc.mem_limit_mb))
        self.actors.append(b)
        return b

    def close(self) -> None:
        for a in self.actors:
            try:
                self.ray.get(a.close.remote(), timeout=30)
            except Exception:
                pass
            try:
                self.ray.kill(a)
            except Exception:
                pass


def make_runner(rc: CampaignRunConfig):
    return _RayRunner(rc) if rc.backend == "ray" else _LocalRunner(rc)


def profile_molecules(oracle, molecules: Sequence[tuple[str, str]], rc: CampaignRunConfig,
                      on_outcome: Callable[[int, object], None] | None = None, progress: bool = True,
                      runner=None, known: dict | None = None) -> dict[int, object]:
    """Make sure every (kind, smiles) has a stored profile; returns index -> ProfileOutcome.

    Stored profiles come back at once (``attempts=0``); a failure recorded in the store
    (invalid input, embedding, SCF) is not retried. Missing ones run on ``runner`` (default:
    :func:`make_runner` of ``rc``), retried up to ``rc.retries`` times for retryable reasons;
    each finished profile is written to the store before ``on_outcome(index, outcome)`` is called.
    ``known``: (kind, smiles) -> outcome of an earlier call in this process; a failed one is
    reported as it was instead of being run again (timeouts are not in the store). Nothing raises
    for a bad molecule.
    """
    from chiscreen.qc.parallel import RETRYABLE
    from chiscreen.qc.profile import ProfileOutcome
    from chiscreen.qc.results import Reason, reason_of
    from chiscreen.runtime import bar as progress_bar

    out: dict[int, object] = {}
    todo: dict = {}  # store key -> [indices]
    for i, (kind, smiles) in enumerate(molecules):
        try:
            key = oracle.key(kind, smiles)
        except Exception as exc:
            res = ProfileOutcome(kind, smiles, None, reason_of(exc).value, f"{type(exc).__name__}: {exc}", attempts=0)
            out[i] = res
            if on_outcome:
                on_outcome(i, res)
            continue
        rec = oracle.store.get(key)
        fail = None if rec is not None else oracle.store.get_failure(key)
        prior = (known or {}).get((kind, smiles))
        if rec is None and fail is None and prior is not None and prior.record is None:
            res = ProfileOutcome(kind, smiles, None, prior.reason, prior.message, attempts=0)
            out[i] = res
            if on_outcome:
                on_outcome(i, res)
            continue
        if rec is not None or fail is not None:
            res = (ProfileOutcome(kind, smiles, rec, attempts=0) if rec is not None else
                   ProfileOutcome(kind, smiles, None, fail["reason"], fail["message"], attempts=0))
            out[i] = res
            if on_outcome:
                on_outcome(i, res)
            continue
        todo.setdefault(key, []).append(i)
    if not todo:
        return out
    spec_d = oracle.spec.to_dict()
    keys = list(todo)
    own = runner is None
    runner = runner or make_runner(rc)
    attempts = {j: 1 for j in range(len(keys))}
    for j, k in enumerate(keys):
        kind, smiles = molecules[todo[k][0]]
        runner.submit(j, (kind, smiles, spec_d, 1))
    bar = progress_bar(len(keys), "profiles", progress, unit="mol")
    t0 = last = time.monotonic()
    n_done = n_fail = 0
    try:
        while runner.pending:
            for j, pkind, value, reason, secs in runner.wait(timeout=5.0):
                key = keys[j]
                kind, smiles = molecules[todo[key][0]]
                res = _outcome_of(kind, smiles, pkind, value, reason, secs, attempts[j], rc.timeout_s, rc.mem_limit_mb)
                if res.record is None and res.reason in RETRYABLE and attempts[j] <= rc.retries:
                    attempts[j] += 1
                    runner.submit(j, (kind, smiles, spec_d, attempts[j]))
                    continue
                if res.record is not None:
                    res.record.canonical = key[1]
                    oracle.store.put(res.record)
                else:
                    res.message = oracle.describe_failure(kind, smiles, res.message, res.reason, rc.timeout_s)
                    if res.reason not in (Reason.TIMEOUT.value, Reason.WORKER_CRASHED.value, "memory"):
                        oracle.store.put_failure(key, res.reason or Reason.ERROR.value, res.message, smiles)
                    n_fail += 1
                n_done += 1
                bar.update(1)
                for i in todo[key]:
                    out[i] = res
                    if on_outcome:
                        on_outcome(i, res)
            now = time.monotonic()
            if now - last >= rc.log_every_s:
                last = now
                print(f"oracle campaign: profiles {n_done}/{len(keys)} done ({n_fail} failed), "
                      f"{now - t0:.0f} s", file=sys.stderr, flush=True)
            if rc.max_wall_s is not None and now - t0 >= rc.max_wall_s and runner.pending:
                # budget spent: stop the workers; what is left is reported as not run (never stored
                # as a failure, so a later run computes it)
                runner.close()
                msg = f"not run: the campaign's profile wall-time budget run.max_wall_s = {rc.max_wall_s:g} s was spent"
                for j, key in enumerate(keys):
                    i0 = todo[key][0]
                    if i0 in out:
                        continue
                    kind, smiles = molecules[i0]
                    res = ProfileOutcome(kind, smiles, None, NOT_RUN, msg, attempts=0)
                    for i in todo[key]:
                        out[i] = res
                        if on_outcome:
                            on_outcome(i, res)
                print(f"oracle campaign: {msg}; {sum(1 for k in keys if todo[k][0] not in out or out[todo[k][0]].reason == NOT_RUN)} "
                      "molecules left for a later run", file=sys.stderr, flush=True)
                break
    finally:
        bar.close()
        if own:
            runner.close()
    return out


# ---------------------------------------------------------------------------- labels
def label_grid(oracle, polymers: Sequence[str], solvents: Sequence[str], temperatures_K: Sequence[float],
               polymer_origin: dict[str, str] | None = None, solvent_origin: dict[str, str] | None = None,
               source: str = "oracle-campaign") -> pd.DataFrame:
    """chi_oracle label rows for every polymer x solvent x T whose two profiles are stored.

    Never computes a profile: molecules without a stored record are left out (the caller counts
    them). Rows are polymer-major, then solvent, then temperature (K). Columns: :data:`LABEL_COLUMNS`
    (``source_row`` numbers the rows of this call from 0)."""
    from chiscreen.qc.results import label_rows
    from chiscreen.schema import CHI, SPREAD

    def stored(kind: str, items: Sequence[str]) -> list:
        recs = []
        for s in items:
            try:
                rec = oracle.store.get(oracle.key(kind, s))
            except Exception:  # an invalid molecule: its failure is recorded by the profile step
                continue
            if rec is not None:
                recs.append((s, rec))
        return recs

    P = stored("polymer", polymers)
    S = stored("solvent", solvents)
    temps = [float(t) for t in temperatures_K]
    if not P or not S:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LABEL_COLUMNS})
    chi, _, _ = oracle.chi_grid([p for p, _ in P], [s for s, _ in S], temps, spread=False)
    spread = np.zeros_like(chi)
    for i, (_, pr) in enumerate(P):
        for j, (_, sr) in enumerate(S):
            if pr.n_conformers > 1 or sr.n_conformers > 1:
                for k, t in enumerate(temps):
                    spread[i, j, k] = oracle.chi_from_records(pr, sr, t, True)[1]
    nP, nS, nT = chi.shape
    pi, si, ti = np.meshgrid(np.arange(nP), np.arange(nS), np.arange(nT), indexing="ij")
    pk = np.array([p for p, _ in P], dtype=object)
    sk = np.array([s for s, _ in S], dtype=object)
    raw = pd.DataFrame({POLYMER_SMILES: pk[pi.ravel()], SOLVENT_SMILES: sk[si.ravel()],
                        TEMPERATURE_K: np.asarray(temps)[ti.ravel()], CHI: chi.ravel(), SPREAD: spread.ravel()})
    lab = label_rows(raw, source=source)
    lab[SOURCE_ROW] = np.arange(len(lab), dtype=np.int64)
    prov = oracle.provenance()
    lab["profile_engine"] = prov["profile_engine"]
    lab["profile_method"] = prov["profile_method"]
    lab["param_set"] = prov["param_set"]
    lab["polymer_origin"] = lab[POLYMER_SMILES].map(polymer_origin or {}).fillna("")
    lab["solvent_origin"] = lab[SOLVENT_SMILES].map(solvent_origin or {}).fillna("")
    return lab[LABEL_COLUMNS]


def write_table(df: pd.DataFrame, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write a label table as zstd Parquet (atomically), with string columns as dictionaries and
    ``meta`` as Parquet key/value metadata (JSON under ``chiscreen.oracle_campaign``)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from chiscreen.io import atomic_path

    t = pa.Table.from_pandas(df, preserve_index=False)
    if meta:
        md = dict(t.schema.metadata or {})
        md[b"chiscreen.oracle_campaign"] = json.dumps(meta, default=str).encode()
        t = t.replace_schema_metadata(md)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(p) as tmp:
        pq.write_table(t, tmp, compression="zstd", compression_level=9, use_dictionary=True)
    return p


def read_part_meta(path: str | os.PathLike) -> dict:
    import pyarrow.parquet as pq

    md = pq.read_schema(path).metadata or {}
    raw = md.get(b"chiscreen.oracle_campaign")
    return json.loads(raw) if raw else {}


# ---------------------------------------------------------------------------- the campaign
@dataclass
class CampaignResult:
    out: str
    table: str
    manifest: dict


def _origin_maps(mols: pd.DataFrame) -> tuple[dict, dict, list[str], list[str]]:
    p = mols[mols["kind"] == "polymer"]
    s = mols[mols["kind"] == "solvent"]
    return dict(zip(p["smiles"], p["origin"])), dict(zip(s["smiles"], s["origin"])), list(p["smiles"]), list(s["smiles"])


def run_campaign(cfg: CampaignConfig, out: str | os.PathLike, overwrite: bool = False, take_over: bool = False,
                 progress: bool = True, param_set: str | None = None, enum_cache: str | os.PathLike | None = None,
                 command: str = "", molecules: pd.DataFrame | None = None, known: dict | None = None,
                 _stop_after_parts: int | None = None) -> CampaignResult:
    """Run (or resume) a campaign into ``out`` (an owned folder); see the module docstring.

    ``param_set`` overrides ``cfg.params`` (the label table's parameter set). ``enum_cache``: a
    Parquet file for the full enumeration, shared between runs (default ``out/enumerated.parquet``).
    ``molecules``: a ready molecule list (columns kind, smiles, origin, name) used instead of
    resolving the config's sets (the data-choice arms). Raises ConfigError / InvalidInputError / OutputDirError on bad input or a foreign folder."""
    from chiscreen.config import save_config
    from chiscreen.qc.oracle import Oracle
    from chiscreen.qc.store import ProfileStore
    from chiscreen.runtime import OwnedDir

    t_start = time.time()
    with OwnedDir(out, kind=KIND, owned=OWNED, overwrite=overwrite, take_over=take_over) as od:
        root = Path(od.path())
        if od.state == "new":
            od.write_manifest({"status": "running", "name": cfg.name, "started": _now()})
        prev = od.previous or {}
        oracle = Oracle(cfg.spec(), ProfileStore(cfg.store_path()), params=param_set or cfg.params)
        save_config(cfg, root / "config.yaml")
        mpath = root / "molecules.parquet"
        t_mol = time.time()
        if mpath.is_file():
            mols = pd.read_parquet(mpath)
            print(f"oracle campaign: resuming with the {len(mols)} molecules of {mpath}", file=sys.stderr, flush=True)
        else:
            if molecules is not None:
                mols = molecules[["kind", "smiles", "origin", "name"]].reset_index(drop=True).copy()
                mols["order"] = np.arange(len(mols), dtype=np.int64)
            else:
                mols = resolve_molecules(cfg, progress, enum_cache or root / "enumerated.parquet")
            write_table(mols, mpath)
        t_mol = time.time() - t_mol
        digest = molecules_digest(mols)
        porig, sorig, polys, solvs = _origin_maps(mols)
        n_by = mols.groupby(["kind", "origin"]).size().to_dict()
        print(f"oracle campaign: {len(polys)} polymers x {len(solvs)} solvents x {len(cfg.temperatures_K)} T "
              f"({', '.join(f'{k} {o} {n}' for (k, o), n in n_by.items())}); profile method "
              f"{oracle.spec.method_version}, parameter set {oracle.params.version}; store {oracle.store.root}",
              file=sys.stderr, flush=True)

        # parts: fixed chunks of the polymer list; a part on disk for the same molecules and
        # parameter set is kept (resume), else rewritten
        chunks = [polys[a:a + cfg.part_polymers] for a in range(0, len(polys), cfg.part_polymers)]
        ldir = root / "labels"
        ldir.mkdir(exist_ok=True)
        part_meta = {"molecules": digest, "param_set": oracle.params.version,
                     "profile_method": oracle.spec.method_version, "temperatures_K": list(cfg.temperatures_K)}
        done_parts: set[int] = set()
        for k in range(len(chunks)):
            p = ldir / f"part-{k:05d}.parquet"
            if p.is_file():
                m = read_part_meta(p)
                if all(m.get(x) == v for x, v in part_meta.items()) and m.get("polymers") == len(chunks[k]):
                    done_parts.add(k)
                else:
                    p.unlink()
        for p in ldir.glob("part-*.parquet"):  # parts of another chunking
            if int(p.stem.split("-")[1]) >= len(chunks):
                p.unlink()
        pending_of = {k: len(c) for k, c in enumerate(chunks)}
        chunk_of = {pk: k for k, c in enumerate(chunks) for pk in c}
        n_parts_written = [0]

        class _Stop(Exception):
            pass

        incomplete: set[int] = set()   # parts with a molecule left by run.max_wall_s: never persisted
        solvent_skipped = [False]
        partial: dict[int, pd.DataFrame] = {}

        def write_part(k: int) -> None:
            lab = label_grid(oracle, chunks[k], solvs, cfg.temperatures_K, porig, sorig, source=f"oracle-campaign:{cfg.name}")
            if k in incomplete or solvent_skipped[0]:
                partial[k] = lab   # in this run's table only; a later run writes the part when complete
                return
            write_table(lab, ldir / f"part-{k:05d}.parquet", {**part_meta, "part": k, "polymers": len(chunks[k])})
            done_parts.add(k)
            n_parts_written[0] += 1
            if _stop_after_parts is not None and n_parts_written[0] >= _stop_after_parts:
                raise _Stop()

        # molecule order: solvents first (every part needs all of them), then polymers in order
        order = list(mols[mols["kind"] == "solvent"].itertuples(index=False)) + \
            list(mols[mols["kind"] == "polymer"].itertuples(index=False))
        todo_mols = [(r.kind, r.smiles) for r in order if r.kind == "solvent" or chunk_of[r.smiles] not in done_parts]
        if cfg.run.order == "cheapest_first":
            todo_mols.sort(key=lambda m: (m[0] != "solvent", unit_atoms(m[1]) if m[0] == "polymer" else 0))
        n_solv = sum(1 for m in todo_mols if m[0] == "solvent")
        outcomes: dict[int, object] = {}
        solvents_left = [n_solv]
        ready_chunks: list[int] = []

        plog = open(root / "profiled.jsonl", "a")

        def on_outcome(i: int, res) -> None:
            outcomes[i] = res
            kind, smiles = todo_mols[i]
            if res.attempts > 0:  # computed by this campaign (any run): its cost, kept across kills
                meta = res.record.meta if res.record is not None else {}
                plog.write(json.dumps({"kind": kind, "smiles": smiles, "ok": res.record is not None,
                                       "reason": res.reason, "cpu_s": meta.get("t_cpu"),
                                       "wall_s": meta.get("t_total", res.seconds), "at": _now()}) + "\n")
                plog.flush()
            if res.reason == NOT_RUN:
                if kind == "solvent":
                    solvent_skipped[0] = True
                else:
                    incomplete.add(chunk_of[smiles])
            if kind == "solvent":
                solvents_left[0] -= 1
                if solvents_left[0] == 0:
                    for k in sorted(ready_chunks):
                        write_part(k)
                    ready_chunks.clear()
                return
            k = chunk_of[smiles]
            pending_of[k] -= 1
            if pending_of[k] == 0:
                if solvents_left[0] > 0:
                    ready_chunks.append(k)
                else:
                    write_part(k)

        for k in done_parts:
            pending_of[k] = -1
        t_prof = time.time()
        stopped = False
        try:
            profile_molecules(oracle, todo_mols, cfg.run, on_outcome, progress=progress, known=known)
        except _Stop:
            stopped = True
        finally:
            plog.close()
        t_prof = time.time() - t_prof
        if stopped:
            return CampaignResult(str(root), "", {"stopped_after_parts": n_parts_written[0]})
        for k in sorted(ready_chunks):
            write_part(k)
        missing = [k for k in range(len(chunks)) if k not in done_parts and k not in partial]
        for k in missing:  # every molecule of these parts came back (e.g. all failed): write anyway
            write_part(k)

        # failures (this run's outcomes, plus failures recorded in the store for our molecules)
        fails = []
        for i, res in outcomes.items():
            if res.record is None:
                kind, smiles = todo_mols[i]
                origin = (porig if kind == "polymer" else sorig).get(smiles, "")
                fails.append({"kind": kind, "smiles": smiles, "origin": origin, "reason": res.reason or "error",
                              "message": res.message, "attempts": int(res.attempts), "seconds": float(res.seconds)})
        fdf = pd.DataFrame(fails, columns=["kind", "smiles", "origin", "reason", "message", "attempts", "seconds"])
        not_run = fdf[fdf["reason"] == NOT_RUN]
        fdf = fdf[fdf["reason"] != NOT_RUN].reset_index(drop=True)
        write_table(fdf, root / "failures.parquet")

        t_lab = time.time()
        parts = [partial[k] if k in partial else pd.read_parquet(ldir / f"part-{k:05d}.parquet")
                 for k in range(len(chunks))]
        table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LABEL_COLUMNS)
        table[SOURCE_ROW] = np.arange(len(table), dtype=np.int64)
        dup = int(table.duplicated([POLYMER_SMILES, SOLVENT_SMILES, TEMPERATURE_K]).sum())
        if dup:
            raise InvalidInputError(f"{root}: {dup} duplicate (pair, T) rows in the label parts; rerun with --overwrite")
        sidecar = table_sidecar(table, oracle, cfg, command, fdf)
        tpath = write_table(table, root / "chi_oracle.parquet", sidecar)
        (root / "chi_oracle.json").write_text(json.dumps(sidecar, indent=1))
        t_lab = time.time() - t_lab

        computed = [r for r in outcomes.values() if r.attempts > 0]
        cpu = [float(r.record.meta.get("t_cpu", np.nan)) for r in computed if r.record is not None]
        prof_ok = {f"{k}_{o}": int(n) for (k, o), n in table_molecule_counts(table, mols).items()}
        logged = _read_jsonl(root / "profiled.jsonl")
        cost_all = {"molecules_computed": len(logged), "ok": sum(1 for r in logged if r["ok"]),
                    "cpu_s": round(sum(r["cpu_s"] or 0.0 for r in logged), 1),
                    "worker_wall_s": round(sum(r["wall_s"] or 0.0 for r in logged), 1)}
        manifest = {
            "status": "done" if not len(not_run) else "partial (run.max_wall_s spent; rerun to complete)",
            "name": cfg.name, "started": prev.get("started", _now()) if prev else _now(),
            "finished": _now(), "command": command,
            "profile_method": oracle.spec.method_version, "profile_engine": oracle.spec.engine,
            "param_set": oracle.params.version, "store": str(oracle.store.root),
            "temperatures_K": list(cfg.temperatures_K),
            "molecules": {"total": int(len(mols)), "by_kind_origin": {f"{k}_{o}": int(n) for (k, o), n in n_by.items()},
                          "with_profile": prof_ok,
                          "profiled_this_run": int(sum(1 for r in computed if r.record is not None)),
                          "failed": int(len(fdf)), "not_run": int(len(not_run)),
                          "not_run_list": not_run[["kind", "smiles", "origin"]].to_dict("records"),
                          "from_store": int(sum(1 for r in outcomes.values() if r.attempts == 0))},
            "profiles_computed_all_runs": cost_all,
            "profile_cpu_s_this_run": {"sum": float(np.nansum(cpu)) if cpu else 0.0,
                                       "median": float(np.nanmedian(cpu)) if cpu else None},
            "pairs": int(table[[POLYMER_SMILES, SOLVENT_SMILES]].drop_duplicates().shape[0]) if len(table) else 0,
            "rows": int(len(table)),
            "failures": fdf[["kind", "smiles", "origin", "reason", "message"]].to_dict("records"),
            "failure_reasons": fdf["reason"].value_counts().to_dict() if len(fdf) else {},
            "wall_s": {"total_this_run": round(time.time() - t_start, 1), "molecules": round(t_mol, 1),
                       "profiles": round(t_prof, 1), "labels": round(t_lab, 1)},
            "parts": len(chunks), "table": str(tpath), "molecules_digest": digest,
            "workers": cfg.run.workers, "backend": cfg.run.backend,
        }
        if prev.get("runs"):
            manifest["runs"] = prev["runs"] + [manifest["wall_s"]]
        else:
            manifest["runs"] = [manifest["wall_s"]]
        od.write_manifest(manifest)
        print(f"oracle campaign: wrote {tpath} ({len(table)} rows, {manifest['pairs']} pairs; "
              f"{manifest['molecules']['profiled_this_run']} profiles computed now, {len(fdf)} failed) in "
              f"{manifest['wall_s']['total_this_run']:.0f} s", file=sys.stderr, flush=True)
        return CampaignResult(str(root), str(tpath), manifest)


def table_molecule_counts(table: pd.DataFrame, mols: pd.DataFrame) -> dict:
    """(kind, origin) -> molecules of that kind/origin that have at least one label row."""
    have_p = set(table[POLYMER_SMILES]) if len(table) else set()
    have_s = set(table[SOLVENT_SMILES]) if len(table) else set()
    c: dict = {}
    for kind, s, o in zip(mols["kind"], mols["smiles"], mols["origin"]):
        if s in (have_p if kind == "polymer" else have_s):
            c[(kind, o)] = c.get((kind, o), 0) + 1
    return c


def table_sidecar(table: pd.DataFrame, oracle, cfg: CampaignConfig | None, command: str,
                  failures: pd.DataFrame | None = None) -> dict:
    """The small JSON that travels with a label table: command, counts, parameter set, method."""
    d = {"format": "chiscreen-oracle-labels/1", "command": command, "created": _now(),
         "rows": int(len(table)),
         "polymers": int(table[POLYMER_SMILES].nunique()) if len(table) else 0,
         "solvents": int(table[SOLVENT_SMILES].nunique()) if len(table) else 0,
         "pairs": int(table[[POLYMER_SMILES, SOLVENT_SMILES]].drop_duplicates().shape[0]) if len(table) else 0,
         "temperatures_K": sorted(float(t) for t in table[TEMPERATURE_K].unique()) if len(table) else [],
         "polymers_by_origin": (table.drop_duplicates(POLYMER_SMILES)["polymer_origin"].value_counts().to_dict()
                                if len(table) else {}),
         "param_set": oracle.params.version, "profile_method": oracle.spec.method_version,
         "profile_engine": oracle.spec.engine, "columns": list(table.columns)}
    if failures is not None:
        d["failed_molecules"] = int(len(failures))
    if cfg is not None:
        d["config"] = asdict(cfg)
    return d


def relabel(out: str | os.PathLike, param_set: str | None = None, output: str | os.PathLike | None = None,
            store: str | None = None, command: str = "", temperatures_K: Sequence[float] | None = None) -> tuple[Path, pd.DataFrame]:
    """Recompute a campaign's label table from stored profiles with another parameter set.

    Reads ``out/molecules.parquet`` and ``out/config.yaml``; never runs xtb (molecules without a
    stored profile are left out). Writes ``output`` (default ``out/relabel/chi_oracle-<name>.parquet``)
    with a JSON sidecar beside it. Returns (path, table)."""
    from chiscreen.qc.oracle import Oracle
    from chiscreen.qc.store import ProfileStore

    root = Path(out)
    mpath = root / "molecules.parquet"
    if not mpath.is_file():
        raise InvalidInputError(f"{root}: not an oracle campaign folder (no molecules.parquet)")
    cfg = load_campaign_config(root / "config.yaml")
    mols = pd.read_parquet(mpath)
    oracle = Oracle(cfg.spec(), ProfileStore(Path(store) if store else cfg.store_path()), params=param_set or cfg.params)
    porig, sorig, polys, solvs = _origin_maps(mols)
    temps = list(temperatures_K or cfg.temperatures_K)
    t0 = time.time()
    parts = [label_grid(oracle, polys[a:a + 50], solvs, temps, porig, sorig, source=f"oracle-campaign:{cfg.name}")
             for a in range(0, len(polys), 50)]
    table = pd.concat(parts, ignore_index=True)
    table[SOURCE_ROW] = np.arange(len(table), dtype=np.int64)
    side = table_sidecar(table, oracle, cfg, command)
    side["relabel_s"] = round(time.time() - t0, 1)
    dest = Path(output) if output else root / "relabel" / f"chi_oracle-{oracle.params.name}.parquet"
    write_table(table, dest, side)
    dest.with_suffix(".json").write_text(json.dumps(side, indent=1))
    return dest, table


def _read_jsonl(path: Path) -> list[dict]:
    """Rows of a JSON-lines file; a torn last line (a kill mid-write) is skipped."""
    out = []
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
    return out


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
