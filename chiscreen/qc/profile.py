"""Per-molecule pipeline: SMILES -> conformers -> xtb -> cavity -> conductor -> sigma profiles.

:class:`ProfileSpec` fixes every choice that changes a profile; its ``method_version`` string is
part of the profile-store key, so profiles made with different settings never mix.
:func:`compute_profile` raises on failure; :func:`profile_task` (what workers run) never does:
it returns a :class:`ProfileOutcome` with a record or a reason.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from chiscreen.errors import ConfigError, OracleError
from chiscreen.qc.cavity import build_cavity, multipole_potential, solve_conductor
from chiscreen.qc.engines import DEFAULT_ENGINE, ENGINES, make_engine
from chiscreen.qc.geometry import DEFAULT_SEED, embed_conformers, molecule_with_h, relax
from chiscreen.qc.results import Reason, reason_of
from chiscreen.qc.sigma import (SIGMA_HB, SigmaProfile, combine_profiles, segment_table,
                                sigma_profile, water_candidates)

#: Bump when the numerics change in a way that changes stored profiles.
PIPELINE_VERSION = "xtbcosmo-sac2010-v1"
HARTREE_KCAL = 627.509474
R_KCAL = 0.0019872043011606513
KINDS = ("polymer", "solvent", "molecule")
COMBINE = ("boltzmann", "lowest", "mean")


@dataclass(frozen=True, slots=True)
class ProfileSpec:
    """Every setting that determines a profile.

    Attributes:
        engine: xtb engine name (registry key: "tblite" or "xtb-python").
        n_conformers: conformers embedded per molecule.
        combine: how conformer profiles are combined: "boltzmann" (weights exp(-dE/RT) from
            the xtb energies at ``boltzmann_t`` K), "lowest" (lowest xtb energy only) or "mean".
        seed: RDKit embedding seed.
        ff_max_iter: MMFF optimisation iterations per conformer.
        n_units: repeat units in the cyclic polymer oligomer.
        area_per_point: cavity resolution, A^2 per surface point, molecules < ``large_atoms``.
        area_per_point_large: resolution for molecules with >= ``large_atoms`` atoms.
        large_atoms: atom count from which ``area_per_point_large`` applies.
        cavity_subdivision: basis points per segment of the cavity (1 = plain point removal,
            as in the reference prototype; 8 makes areas orientation-independent).
        dipoles: use atomic dipoles as well as charges for the surface potential (tblite only).
        relax: GFN2-relax each conformer before the single point (slow).
        solvent_model: implicit solvent of the xtb calculation.
        boltzmann_t: temperature of the Boltzmann weights, K.
    """

    engine: str = DEFAULT_ENGINE
    n_conformers: int = 1
    combine: str = "mean"
    seed: int = DEFAULT_SEED
    ff_max_iter: int = 5000
    n_units: int = 6
    area_per_point: float = 0.35
    area_per_point_large: float = 0.6
    large_atoms: int = 100
    cavity_subdivision: int = 8
    dipoles: bool = True
    relax: bool = False
    solvent_model: str = "water"
    boltzmann_t: float = 298.15

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ConfigError(f"unknown xtb engine {self.engine!r}; expected one of {ENGINES.keys()}")
        if self.combine not in COMBINE:
            raise ConfigError(f"combine must be one of {COMBINE}, got {self.combine!r}")
        if self.n_conformers < 1 or self.n_units < 2:
            raise ConfigError("n_conformers must be >= 1 and n_units >= 2")
        if self.area_per_point <= 0 or self.area_per_point_large <= 0:
            raise ConfigError("area_per_point values must be > 0")

    @classmethod
    def from_dict(cls, d: dict) -> "ProfileSpec":
        """Build from a mapping; unknown keys raise ConfigError."""
        names = {f.name for f in fields(cls)}
        bad = sorted(set(d) - names)
        if bad:
            raise ConfigError(f"unknown oracle setting(s) {bad}; expected some of {sorted(names)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def uses_dipoles(self) -> bool:
        return self.dipoles and self.engine == "tblite"

    @property
    def method_version(self) -> str:
        """Pipeline version + a short hash of the settings (the engine is keyed separately)."""
        d = self.to_dict()
        d.pop("engine")
        d["dipoles"] = self.uses_dipoles
        h = hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:10]
        return f"{PIPELINE_VERSION}-{h}"

    def engine_options(self) -> dict:
        opts: dict = {"solvent": self.solvent_model or None}
        if self.engine == "tblite":
            opts["dipoles"] = self.dipoles
        return opts


@dataclass(slots=True)
class ProfileRecord:
    """The stored result for one molecule.

    Attributes:
        kind: "polymer", "solvent" or "molecule".
        canonical: canonical identity SMILES (repeat unit with '*' for polymers).
        engine: engine name; method_version: :attr:`ProfileSpec.method_version`.
        conformers: per-conformer profiles, each areas in A^2 of shape (3, 51).
        energies: xtb energies of the conformers, hartree, shape (n_conf,).
        weights: combination weights, shape (n_conf,), sum 1.
        profile: the combined profile used for chi.
        meta: n_atoms, n_segments, timings (s: wall ``t_total`` and its parts, CPU ``t_cpu`` of
            this single-threaded process), engine version, spec, input SMILES.
        segments: per conformer, the :func:`~chiscreen.qc.sigma.segment_table` it was binned
            from (None for records stored before segments were kept). Lets a parameter set
            rebuild profiles (other HB splits, sigma scaling) without re-running xtb.
    """

    kind: str
    canonical: str
    engine: str
    method_version: str
    conformers: list[SigmaProfile]
    energies: np.ndarray
    weights: np.ndarray
    profile: SigmaProfile
    meta: dict = field(default_factory=dict)
    segments: list[dict] | None = None

    @property
    def n_conformers(self) -> int:
        return len(self.conformers)


@dataclass(slots=True)
class ProfileOutcome:
    """A record, or why there is none. ``seconds`` is wall time of the attempt."""

    kind: str
    smiles: str
    record: ProfileRecord | None = None
    reason: str | None = None
    message: str = ""
    seconds: float = 0.0
    attempts: int = 1

    @property
    def ok(self) -> bool:
        return self.record is not None


def conformer_weights(energies_hartree: np.ndarray, combine: str, t_kelvin: float) -> np.ndarray:
    """Combination weights (sum 1) of conformers with xtb energies (hartree), shape (n,)."""
    e = np.asarray(energies_hartree, dtype=float)
    n = len(e)
    if combine == "mean" or not np.all(np.isfinite(e)):
        return np.full(n, 1.0 / n)
    if combine == "lowest":
        w = np.zeros(n)
        w[int(np.argmin(e))] = 1.0
        return w
    de = (e - e.min()) * HARTREE_KCAL
    w = np.exp(-de / (R_KCAL * t_kelvin))
    return w / w.sum()


def compute_profile(kind: str, smiles: str, spec: ProfileSpec) -> ProfileRecord:
    """Compute the sigma profile(s) of one molecule. Raises ChiscreenError subclasses
    (InvalidInputError, EmbeddingError, SCFError, EngineUnavailableError, OracleError)."""
    t0, c0 = time.perf_counter(), time.process_time()
    canonical, mol = molecule_with_h(kind, smiles, spec.n_units)
    confs = embed_conformers(mol, spec.n_conformers, spec.seed, ff_max_iter=spec.ff_max_iter)
    t_embed = time.perf_counter() - t0
    engine = make_engine(spec.engine, **spec.engine_options())
    n_atoms = len(confs[0].numbers)
    app = spec.area_per_point if n_atoms < spec.large_atoms else spec.area_per_point_large
    profiles, energies, nseg, segments = [], [], [], []
    t_xtb = t_cav = t_relax = 0.0
    for conf in confs:
        if spec.relax:
            ta = time.perf_counter()
            conf = relax(engine, conf)
            t_relax += time.perf_counter() - ta
        ta = time.perf_counter()
        el = engine.compute(conf.numbers, conf.positions)
        tb = time.perf_counter()
        surf = build_cavity(conf.numbers, conf.positions, app, spec.cavity_subdivision)
        phi = multipole_potential(surf.positions, conf.positions, el.charges,
                                  el.dipoles if spec.uses_dipoles else None)
        solve_conductor(surf, phi)
        seg = segment_table(conf.numbers, conf.positions, surf)
        segments.append(seg)
        profiles.append(sigma_profile(conf.numbers, conf.positions, surf, seg))
        t_xtb += tb - ta
        t_cav += time.perf_counter() - tb
        energies.append(el.energy)
        nseg.append(surf.n_segments)
    energies_a = np.asarray(energies)
    weights = conformer_weights(energies_a, spec.combine, spec.boltzmann_t)
    combined = combine_profiles(profiles, weights)
    if not np.isfinite(combined.p).all() or combined.volume <= 0:
        raise OracleError(f"non-finite or empty profile for {smiles!r}")
    meta = {
        "input_smiles": smiles, "n_atoms": int(n_atoms), "n_segments": [int(n) for n in nseg],
        "area_per_point": app, "engine_version": ENGINES[spec.engine].version(),
        "t_embed": t_embed, "t_relax": t_relax, "t_xtb": t_xtb, "t_cavity": t_cav,
        "t_total": time.perf_counter() - t0, "t_cpu": time.process_time() - c0,
        "spec": spec.to_dict(),
        "ff_energies": [float(c.ff_energy) for c in confs],
    }
    return ProfileRecord(kind, canonical, spec.engine, spec.method_version, profiles,
                         energies_a, weights, combined, meta, segments)


def water_candidates_of(rec: ProfileRecord,
                        stored_sigma_hb: float = SIGMA_HB) -> tuple[np.ndarray, list[np.ndarray]]:
    """Water-type hydroxyl HB candidates (A^2 before P_hb, shape (51,)) of a record's combined
    profile and of each conformer, from its stored segment tables
    (:func:`chiscreen.qc.sigma.water_candidates`): a pure function of (molecule, method).

    Records stored without segment tables: a molecule without a water-type oxygen (RDKit: an O
    with two H and no other neighbour) has none; water itself has all its OH candidates. Any
    other such record raises OracleError (recompute it to get segment tables).
    """
    if rec.segments:
        per = [water_candidates(seg) for seg in rec.segments]
    else:
        from rdkit import Chem

        mol = Chem.MolFromSmiles(rec.canonical.replace("*", "[H]"))
        wat = mol is not None and any(a.GetAtomicNum() == 8 and a.GetTotalNumHs() == 2
                                      and a.GetDegree() == 0 for a in mol.GetAtoms())
        if not wat:
            per = [np.zeros(rec.profile.p.shape[1]) for _ in rec.conformers]
        elif mol.GetNumAtoms() == 1:
            ph = 1.0 - np.exp(-0.5 * (np.linspace(-0.025, 0.025, 51) / stored_sigma_hb) ** 2)
            per = [np.where(ph > 0, c.p[1] / np.where(ph > 0, ph, 1.0), 0.0)
                   for c in rec.conformers]
        else:
            raise OracleError(f"{rec.kind} {rec.canonical!r} was stored without segment tables; "
                              f"the water split needs them (recompute the profile)")
    comb = np.einsum("i,ij->j", np.asarray(rec.weights, dtype=float) / np.sum(rec.weights),
                     np.stack(per))
    return comb, per


def profile_task(kind: str, smiles: str, spec: ProfileSpec, attempt: int = 1) -> ProfileOutcome:
    """Run :func:`compute_profile`, catching every exception into a reason. Retries
    (``attempt`` > 1) shift the embedding seed so they see different starting geometries."""
    t0 = time.perf_counter()
    if attempt > 1:
        spec_run = ProfileSpec.from_dict({**spec.to_dict(), "seed": spec.seed + 7919 * (attempt - 1)})
    else:
        spec_run = spec
    try:
        rec = compute_profile(kind, smiles, spec_run)
        if attempt > 1:  # store under the requested spec, note the shifted seed
            rec.method_version = spec.method_version
            rec.meta["seed_used"] = spec_run.seed
        return ProfileOutcome(kind, smiles, rec, seconds=time.perf_counter() - t0, attempts=attempt)
    except Exception as exc:  # a failed molecule never aborts a batch
        return ProfileOutcome(kind, smiles, None, reason_of(exc).value,
                              f"{type(exc).__name__}: {exc}"[:500],
                              seconds=time.perf_counter() - t0, attempts=attempt)


__all__ = ["ProfileSpec", "ProfileRecord", "ProfileOutcome", "compute_profile", "profile_task",
           "conformer_weights", "water_candidates_of", "PIPELINE_VERSION", "Reason"]
