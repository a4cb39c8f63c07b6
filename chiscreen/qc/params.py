"""Versioned COSMO-SAC parameter sets that act on stored sigma profiles.

A stored profile is keyed by its quantum-chemistry method (``ProfileSpec.method_version``); a
:class:`CosmoSacParams` is versioned separately (its ``name``), so refitting the activity model
never invalidates a profile and every chi carries both versions in its provenance.

Why these parameters (and not others):

* ``es_scale`` multiplies the electrostatic misfit constants (A_ES + B_ES/T^2) and ``hb_scale``
  the three hydrogen-bond constants c_OH-OH, c_OT-OT, c_OH-OT. The 2010 constants were fitted to
  DFT (BP86/TZVP) screening charges; GFN2-xTB charges give a differently shaped, narrower sigma
  distribution, so the energy scale per (sigma)^2 is the first thing to refit. A global sigma
  scaling factor s is not fitted separately: both the misfit term (s_m + s_n)^2 and the HB term
  (s_m - s_n)^2 are quadratic in sigma, so s is (up to binning) the same as multiplying both
  energy scales by s^2.
* ``ot_scale`` multiplies c_OT-OT and c_OH-OT on top of ``hb_scale``: non-hydroxyl donors and
  acceptors (ethers, esters, amides, nitriles) behave differently from OH groups with xtb charges.
* ``sigma_hb`` is the width sigma_0 (e/A^2) of the HB probability P_hb(sigma) = 1 -
  exp(-sigma^2 / 2 sigma_0^2) that decides which share of an OH/OT segment may hydrogen-bond. Stored
  profiles were split with sigma_0 = 0.007; they are re-split exactly for another width
  (:func:`resplit`).
* ``combinatorial`` chooses the combinatorial term: ``"sg"`` (Staverman-Guggenheim, as in the
  2010 model) or ``"fh"`` (Flory-Huggins volume fractions, no Staverman correction). With
  ``fv_ln_ratio`` != 0 the Flory-Huggins term uses free volumes V_f = f V in place of cavity
  volumes, with ln(f_solvent / f_polymer) = ``fv_ln_ratio``: the free-volume (Elbro/
  Kontogeorgis-type) form. In chi at infinite dilution it adds ln(f_s/f_p) + (V_s/V_p)(1 -
  f_s/f_p), i.e. (nearly) a constant, the classic entropic/free-volume part of chi that
  COSMO-SAC does not carry. Since the Staverman term depends only on each molecule's
  area/volume ratio, a repeat-unit cavity and the 10-mer ring give the same combinatorial term.
* ``t_hb`` switches on the temperature dependence of the HB constants, c_hb (298.15/T)^t_hb: in
  COSMO-SAC 2010 HB is temperature independent, yet the measured chi of water and alcohols
  falls with T faster than the electrostatic 1/T term gives.
* The water split (``water_self_scale``, ``water_cross_scale``, ``sigma_hb_water``): the
  hydroxyl segments of water-type oxygens (an O bonded to two H, and those H; found from the
  stored segment table's atoms, so a pure function of molecule + method) become a fourth
  profile kind OW. OW-OW hydrogen bonds get c_OH-OH x ``water_self_scale``, OW with the OH/OT
  of other molecules c_OH-OH / c_OH-OT x ``water_cross_scale``, and the OW candidates are
  weighted with their own HB width ``sigma_hb_water`` (None: ``sigma_hb``). One HB scale
  fitted to alcohols over-binds liquid water (each water molecule carries two donors and two
  acceptor lobes on a tiny surface), which is where the largest error (water, chi far too
  high) comes from. At the defaults (1, 1, None) OW interacts exactly like OH, the model is
  the three-kind 2010 model and is evaluated as such.

The literature set :data:`SAC2010` reproduces the 2010 model exactly (and the oracle's numbers
before parameter sets existed). Temperatures are in Kelvin.
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from chiscreen.errors import ArtifactError, ConfigError, OracleError
from chiscreen.qc.sigma import SIGMA_GRID, SIGMA_HB, SigmaProfile

FORMAT = "chiscreen-cosmosac-params/1"
COMBINATORIAL = ("sg", "fh", "sg_fv")
#: 2010 constants (kcal A^4 / (mol e^2)); see :mod:`chiscreen.qc.cosmosac`.
_A_ES, _B_ES = 6525.69, 1.4859e8
_C_OHOH, _C_OTOT, _C_OHOT = 4013.78, 932.31, 3016.43
R_KCAL = 0.0019872043011606513


@dataclass(frozen=True)
class CosmoSacParams:
    """One COSMO-SAC parameter set (see the module docstring for the meaning of each).

    Attributes:
        name: version id, e.g. ``"sac2010"`` or ``"xtbfit-1"``; part of every chi's provenance.
        es_scale, hb_scale, ot_scale: multipliers (> 0) on the 2010 electrostatic, HB and
            OT-HB constants.
        sigma_hb: HB probability width sigma_0, e/A^2 (> 0).
        combinatorial: "sg", "fh" or "sg_fv" (Staverman-Guggenheim plus the free-volume term).
        fv_ln_ratio: ln(f_solvent/f_polymer) of the free-volume FH term (only with "fh").
        t_hb: exponent of the HB temperature factor (298.15/T)^t_hb (0 = 2010 model).
        water_self_scale, water_cross_scale: multipliers (> 0) on the HB constants of water-type
            hydroxyl segments (OW) with each other and with other OH/OT segments.
        sigma_hb_water: HB width of the OW segments, e/A^2 (None: ``sigma_hb``).
        profile_method: the profile method version the set was fitted on (None: literature).
        provenance: facts about the fit (data, folds, CV error, date, ...).
    """

    name: str = "sac2010"
    es_scale: float = 1.0
    hb_scale: float = 1.0
    ot_scale: float = 1.0
    sigma_hb: float = SIGMA_HB
    combinatorial: str = "sg"
    fv_ln_ratio: float = 0.0
    t_hb: float = 0.0
    water_self_scale: float = 1.0
    water_cross_scale: float = 1.0
    sigma_hb_water: float | None = None
    profile_method: str | None = None
    provenance: dict = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        if self.combinatorial not in COMBINATORIAL:
            raise ConfigError(f"combinatorial must be one of {COMBINATORIAL}, "
                              f"got {self.combinatorial!r}")
        for k in ("es_scale", "hb_scale", "ot_scale", "sigma_hb", "water_self_scale",
                  "water_cross_scale"):
            v = getattr(self, k)
            if not (np.isfinite(v) and v > 0):
                raise ConfigError(f"COSMO-SAC parameter {k} must be a finite number > 0, got {v!r}")
        if self.sigma_hb_water is not None and not (np.isfinite(self.sigma_hb_water)
                                                    and self.sigma_hb_water > 0):
            raise ConfigError(f"COSMO-SAC parameter sigma_hb_water must be None or a finite "
                              f"number > 0, got {self.sigma_hb_water!r}")
        if self.combinatorial == "sg" and self.fv_ln_ratio != 0.0:
            raise ConfigError("fv_ln_ratio (free-volume term) needs combinatorial='fh' or 'sg_fv'")
        if not self.name or not isinstance(self.name, str):
            raise ConfigError("a parameter set needs a non-empty name")

    # ------------------------------------------------------------------ identity
    def numeric_dict(self) -> dict:
        """The fields that change numbers (no name, no provenance). The water-split fields are
        left out at their defaults, so sets made before they existed keep their digest."""
        d = asdict(self)
        for k in ("name", "provenance", "profile_method"):
            d.pop(k)
        for k, v in _WATER_DEFAULTS.items():
            if d[k] == v:
                d.pop(k)
        return d

    @property
    def water_split(self) -> bool:
        """True when water-type hydroxyls (OW) are a kind of their own (4 x 51 profiles)."""
        return any(getattr(self, k) != v for k, v in _WATER_DEFAULTS.items())

    @property
    def n_kinds(self) -> int:
        """Profile kinds the set works on: 3 (NHB, OH, OT) or 4 (+ OW)."""
        return 4 if self.water_split else 3

    @property
    def sigma_hb_ow(self) -> float:
        """HB width of the OW segments, e/A^2."""
        return self.sigma_hb if self.sigma_hb_water is None else self.sigma_hb_water

    @property
    def digest(self) -> str:
        """Short hash of the numeric fields: two sets with the same digest give the same chi."""
        return hashlib.sha1(json.dumps(self.numeric_dict(), sort_keys=True).encode()).hexdigest()[:10]

    @property
    def version(self) -> str:
        """``name@digest``: what chi provenance records."""
        return f"{self.name}@{self.digest}"

    # ------------------------------------------------------------------ model pieces
    def c_hb(self, t_kelvin: float) -> np.ndarray:
        """HB constants (k, k) over (NHB, OH, OT[, OW]), kcal A^4/(mol e^2), at T (K); k =
        :attr:`n_kinds`."""
        f = self.hb_scale * (298.15 / t_kelvin) ** self.t_hb
        ot = self.ot_scale
        c = f * np.array([[0.0, 0.0, 0.0], [0.0, _C_OHOH, ot * _C_OHOT],
                          [0.0, ot * _C_OHOT, ot * _C_OTOT]])
        if not self.water_split:
            return c
        out = np.zeros((4, 4))
        out[:3, :3] = c
        out[3, 1:3] = out[1:3, 3] = self.water_cross_scale * c[1, 1:3]
        out[3, 3] = self.water_self_scale * c[1, 1]
        return out

    def es_coefficient(self, t_kelvin: float) -> float:
        """Electrostatic misfit constant (A_ES + B_ES/T^2) x es_scale, kcal A^4/(mol e^2)."""
        return self.es_scale * (_A_ES + _B_ES / t_kelvin**2)

    def minus_dw(self, t_kelvin: float) -> np.ndarray:
        """-Delta W(m, n) / RT, shape (51 k, 51 k) with k = :attr:`n_kinds` (153 or 204),
        read-only (cached per set and T)."""
        return _minus_dw(self.digest, self.es_scale, self.hb_scale, self.ot_scale, self.t_hb,
                         float(t_kelvin), self.water_self_scale if self.water_split else None,
                         self.water_cross_scale)

    # ------------------------------------------------------------------ I/O
    def to_dict(self) -> dict:
        return {"format": FORMAT, **asdict(self)}

    @classmethod
    def from_dict(cls, d: dict) -> "CosmoSacParams":
        """Build from a mapping (the ``format`` key is optional); unknown keys raise ConfigError."""
        d = dict(d)
        fmt = d.pop("format", FORMAT)
        if fmt != FORMAT:
            raise ConfigError(f"not a COSMO-SAC parameter set: format {fmt!r}")
        names = {f.name for f in fields(cls)}
        bad = sorted(set(d) - names)
        if bad:
            raise ConfigError(f"unknown COSMO-SAC parameter(s) {bad}; expected some of {sorted(names)}")
        return cls(**d)

    def save(self, path: str | os.PathLike) -> Path:
        from chiscreen.io import atomic_write_text

        return atomic_write_text(path, json.dumps(self.to_dict(), indent=1, default=float) + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "CosmoSacParams":
        """Read a parameter-set JSON; raises ArtifactError if it is not one."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, ValueError, TypeError, ConfigError) as exc:
            raise ArtifactError(f"{path} is not a chiscreen COSMO-SAC parameter set: {exc}") from exc

    def with_values(self, **kw) -> "CosmoSacParams":
        return replace(self, **kw)


_WATER_DEFAULTS = {"water_self_scale": 1.0, "water_cross_scale": 1.0, "sigma_hb_water": None}


@lru_cache(maxsize=256)
def _minus_dw(digest: str, es: float, hb: float, ot: float, t_hb: float, t: float,
              ww: float | None = None, wx: float = 1.0) -> np.ndarray:
    if not t > 0:
        raise OracleError(f"temperature must be > 0 K, got {t}")
    if ww is None:
        p = CosmoSacParams("tmp", es, hb, ot, t_hb=t_hb)
    else:  # any non-default water field makes 4 kinds; sigma_hb_water only marks the split
        p = CosmoSacParams("tmp", es, hb, ot, t_hb=t_hb, water_self_scale=ww,
                           water_cross_scale=wx, sigma_hb_water=1.0)
    es_m = np.add.outer(SIGMA_GRID, SIGMA_GRID) ** 2
    hb_m = (np.outer(SIGMA_GRID, SIGMA_GRID) < 0) * np.subtract.outer(SIGMA_GRID, SIGMA_GRID) ** 2
    a = p.es_coefficient(t)
    c = p.c_hb(t)
    k = p.n_kinds
    w = np.block([[a * es_m - c[s, u] * hb_m for u in range(k)] for s in range(k)])
    out = -w / (R_KCAL * t)
    out.setflags(write=False)
    return out


def p_hb(sigma_hb: float) -> np.ndarray:
    """HB probability over the grid, shape (51,)."""
    return 1.0 - np.exp(-0.5 * (SIGMA_GRID / sigma_hb) ** 2)


def resplit(profile: SigmaProfile, sigma_hb: float, stored_sigma_hb: float = SIGMA_HB) -> SigmaProfile:
    """The profile as if split with HB width ``sigma_hb`` instead of ``stored_sigma_hb``.

    Exact: the stored OH/OT rows are the HB candidates times P_hb(stored), the rest of the
    candidates sits in NHB, so the candidates are recovered bin by bin (at sigma = 0, where
    P_hb = 0 for every width, nothing moves).
    """
    if sigma_hb == stored_sigma_hb:
        return profile
    old, new = p_hb(stored_sigma_hb), p_hb(sigma_hb)
    p = profile.p
    safe = old > 0
    cand = np.zeros((2, p.shape[1]))
    cand[:, safe] = p[1:, safe] / old[safe]
    hb_new = cand * new
    nhb = p[0] + (p[1:] - hb_new).sum(axis=0)
    return SigmaProfile(np.vstack([nhb, hb_new]), profile.area, profile.volume)


def water_split_profile(profile: SigmaProfile, ow_candidates: np.ndarray, sigma_hb: float,
                        sigma_hb_water: float, stored_sigma_hb: float = SIGMA_HB) -> SigmaProfile:
    """The four-kind profile (NHB, OH, OT, OW; A^2, shape (4, 51)) of a stored three-kind
    ``profile`` split with ``stored_sigma_hb``: ``ow_candidates`` (51,) are the areas of its
    water-type hydroxyl HB candidates before P_hb (:func:`chiscreen.qc.sigma.water_candidates`);
    they leave the OH row and are weighted with ``sigma_hb_water``, the other OH/OT candidates
    with ``sigma_hb``. Exact in the same way as :func:`resplit`. Raises OracleError if the
    water candidates exceed the stored OH candidates (a table from another profile)."""
    old = p_hb(stored_sigma_hb)
    p = profile.p
    safe = old > 0
    cand = np.zeros((2, p.shape[1]))
    cand[:, safe] = p[1:3, safe] / old[safe]
    ow = np.where(safe, np.asarray(ow_candidates, dtype=float), 0.0)
    if np.any(ow > cand[0] * (1 + 1e-6) + 1e-9):
        raise OracleError("water-type hydroxyl areas exceed the profile's OH candidates")
    ow = np.minimum(ow, cand[0])
    cand[0] -= ow
    hb = cand * p_hb(sigma_hb)
    hb_w = ow * p_hb(sigma_hb_water)
    nhb = p[0] + p[1:3].sum(axis=0) - hb.sum(axis=0) - hb_w
    return SigmaProfile(np.vstack([nhb, hb, hb_w[None, :]]), profile.area, profile.volume)


#: The 2010 literature parameter set (Hsieh, Sandler, Lin 2010) on SG combinatorial.
SAC2010 = CosmoSacParams("sac2010", provenance={
    "source": "Hsieh, Sandler, Lin, Fluid Phase Equilib. 2010, 297, 90 (fitted to DFT charges)"})

_SHIPPED_DIR = Path(__file__).with_name("paramsets")


def shipped_names() -> list[str]:
    """Names of the parameter sets that ship with the package (plus ``sac2010``)."""
    names = ["sac2010"]
    if _SHIPPED_DIR.is_dir():
        names += sorted(p.stem for p in _SHIPPED_DIR.glob("*.json"))
    return names


#: The parameter set the oracle uses unless told otherwise.
DEFAULT_PARAMS_NAME = "xtbfit-2"


def get_params(name_or_path: str | os.PathLike | CosmoSacParams | None = None) -> CosmoSacParams:
    """A parameter set by name (``sac2010`` or a shipped JSON's stem), by JSON path, or the
    default (None: the shipped fitted set when present, else ``sac2010``). Raises ConfigError
    for an unknown name, ArtifactError for a bad file."""
    if isinstance(name_or_path, CosmoSacParams):
        return name_or_path
    if name_or_path is None:
        path = _SHIPPED_DIR / f"{DEFAULT_PARAMS_NAME}.json"
        return CosmoSacParams.load(path) if path.is_file() else SAC2010
    s = str(name_or_path)
    if s == "sac2010":
        return SAC2010
    path = _SHIPPED_DIR / f"{s}.json"
    if path.is_file():
        return CosmoSacParams.load(path)
    if s.endswith(".json") or os.sep in s:
        return CosmoSacParams.load(s)
    raise ConfigError(f"unknown COSMO-SAC parameter set {s!r}; known: {shipped_names()} "
                      f"(or a path to a parameter-set JSON)")
