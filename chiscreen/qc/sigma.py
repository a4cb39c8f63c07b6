"""Sigma profiles for COSMO-SAC 2010 (Hsieh, Sandler, Lin, Fluid Phase Equilib. 2010, 297, 90).

A sigma profile ``p(sigma)`` is the surface area (Angstrom^2) of a molecule's COSMO cavity per
bin of averaged screening-charge density sigma (e/Angstrom^2), on a grid of 51 bins from -0.025
to +0.025 e/A^2. The 2010 model splits it in three: NHB (segments that cannot hydrogen-bond),
OH (hydroxyl O and H) and OT (other N, O, F and H on N/F), with the hydrogen-bonding part
weighted by ``P_hb(sigma) = 1 - exp(-sigma^2 / (2 sigma_0^2))``, the remainder moved to NHB.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.distance import cdist

from chiscreen.errors import OracleError
from chiscreen.qc.cavity import Surface

#: Sigma grid, e/Angstrom^2, shape (51,).
SIGMA_GRID = np.linspace(-0.025, 0.025, 51)
N_BINS = len(SIGMA_GRID)
#: Effective contact area a_eff (Angstrom^2) of COSMO-SAC 2010.
A_EFF = 7.25
#: Averaging radius r_av (Angstrom) and decay factor of the 2010 sigma averaging.
R_AV = float(np.sqrt(A_EFF / np.pi))
F_DECAY = 3.57
#: Width sigma_0 (e/A^2) of the hydrogen-bonding probability.
SIGMA_HB = 0.007
#: Row order of a 2010 profile.
PROFILE_KINDS = ("NHB", "OH", "OT")

# Covalent radii (Angstrom) to detect bonds from a geometry (bond if d < 1.3 (r_i + r_j)).
_COVALENT = {1: 0.31, 5: 0.84, 6: 0.76, 7: 0.71, 8: 0.66, 9: 0.57, 14: 1.11, 15: 1.07,
             16: 1.05, 17: 1.02, 35: 1.20, 53: 1.39}


@dataclass(slots=True)
class SigmaProfile:
    """A three-part COSMO-SAC 2010 sigma profile of one molecule (one conformer or an average).

    Attributes:
        p: areas per bin, Angstrom^2, shape (3, 51): rows NHB, OH, OT over ``SIGMA_GRID``
            (shape (4, 51) with a fourth row OW, water-type hydroxyls, where a parameter set
            splits them off: :func:`chiscreen.qc.params.water_split_profile`).
        area: total cavity area, Angstrom^2 (equals ``p.sum()``).
        volume: cavity volume, Angstrom^3.
    """

    p: np.ndarray
    area: float
    volume: float

    def __post_init__(self) -> None:
        self.p = np.asarray(self.p, dtype=float).reshape(-1, N_BINS)
        if self.p.shape[0] not in (3, 4):
            raise OracleError(f"a sigma profile has 3 or 4 rows of {N_BINS} bins, got "
                              f"{self.p.shape[0]}")

    @property
    def merged(self) -> np.ndarray:
        """The total profile (NHB + OH + OT), Angstrom^2, shape (51,)."""
        return self.p.sum(axis=0)

    @property
    def net_charge(self) -> float:
        """Net surface charge sum(sigma * p), e; about minus the molecular charge."""
        return float(np.sum(self.merged * SIGMA_GRID))


def average_sigma(
    positions: np.ndarray, areas: np.ndarray, sigma: np.ndarray,
    r_av: float = R_AV, f_decay: float = F_DECAY,
) -> np.ndarray:
    """Locally averaged sigma (e/A^2), shape (n_seg,), of segments at ``positions`` (n_seg, 3) A.

    sigma_m = sum_n sigma_n w_mn / sum_n w_mn with
    w_mn = r_n^2 r_av^2 / (r_n^2 + r_av^2) exp(-f_decay d_mn^2 / (r_n^2 + r_av^2)), r_n^2 = a_n/pi.
    """
    r2 = np.asarray(areas) / np.pi
    d2 = cdist(positions, positions, "sqeuclidean")
    s = r2[None, :] + r_av**2
    w = (r2[None, :] * r_av**2 / s) * np.exp(-f_decay * d2 / s)
    return (w @ np.asarray(sigma)) / w.sum(axis=1)


def bin_profile(sigma: np.ndarray, areas: np.ndarray) -> np.ndarray:
    """Distribute ``areas`` (n,) A^2 onto ``SIGMA_GRID`` by linear interpolation in ``sigma`` (n,).

    Values beyond the grid go to the end bins. Returns shape (51,); its sum equals areas.sum().
    """
    sigma = np.asarray(sigma, dtype=float)
    areas = np.asarray(areas, dtype=float)
    prof = np.zeros(N_BINS)
    step = SIGMA_GRID[1] - SIGMA_GRID[0]
    idx = np.clip(((sigma - SIGMA_GRID[0]) // step).astype(int), 0, N_BINS - 2)
    w = np.clip((SIGMA_GRID[idx + 1] - sigma) / step, 0.0, 1.0)
    np.add.at(prof, idx, areas * w)
    np.add.at(prof, idx + 1, areas * (1.0 - w))
    return prof


def hb_classes(numbers: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Hsieh 2010 atom classes, shape (n_atoms,): 0 NHB, 1 OH (O and H of a hydroxyl), 2 OT.

    OT: N, O, F not in a hydroxyl, and H bonded to N or F. Bonds are detected from the geometry
    (distance < 1.3 x the sum of covalent radii).
    """
    num = np.asarray(numbers, dtype=int)
    cls = np.where(np.isin(num, [7, 8, 9]), 2, 0)
    rc = np.array([_COVALENT.get(int(z), 0.8) for z in num]) * 1.3
    d = cdist(positions, positions)
    bonded = (d < rc[:, None] + rc[None, :]) & ~np.eye(len(num), dtype=bool)
    for i, j in zip(*np.nonzero(np.triu(bonded))):
        pair = {int(num[i]), int(num[j])}
        if pair == {1, 8}:
            cls[i] = cls[j] = 1
        elif pair in ({1, 7}, {1, 9}):
            cls[i] = cls[j] = 2
    return cls


def segment_table(numbers: np.ndarray, positions: np.ndarray, surface: Surface) -> dict:
    """Per-segment data of a solved ``surface``, enough to rebuild any sigma profile of it
    (other HB splits, sigma scalings) without re-running xtb.

    Returns a dict of arrays: ``sigma`` (averaged, e/A^2, float64, (n_seg,)), ``sigma_raw``
    (unaveraged, (n_seg,)), ``area`` (A^2, (n_seg,)), ``atom`` (owner atom index, int32,
    (n_seg,)), ``seg_pos`` (A, float32, (n_seg, 3)), ``numbers`` (int16, (n_atoms,)),
    ``atom_pos`` (A, float32, (n_atoms, 3)) and ``hb_class`` (int8, (n_atoms,): 0 NHB, 1 OH, 2 OT).
    """
    sig = average_sigma(surface.positions, surface.areas, surface.sigma)
    return {"sigma": sig, "sigma_raw": np.asarray(surface.sigma, dtype=float),
            "area": np.asarray(surface.areas, dtype=float),
            "atom": np.asarray(surface.atoms, dtype=np.int32),
            "seg_pos": np.asarray(surface.positions, dtype=np.float32),
            "numbers": np.asarray(numbers, dtype=np.int16),
            "atom_pos": np.asarray(positions, dtype=np.float32),
            "hb_class": hb_classes(numbers, positions).astype(np.int8)}


def profile_from_segments(seg: dict, area: float, volume: float,
                          sigma_hb: float = SIGMA_HB) -> SigmaProfile:
    """The three-part 2010 profile of a :func:`segment_table` (area A^2, volume A^3 of the
    cavity), split with HB width ``sigma_hb`` (e/A^2). Same numbers as :func:`sigma_profile` of
    the surface the table came from."""
    sig = np.asarray(seg["sigma"], dtype=float)
    areas = np.asarray(seg["area"], dtype=float)
    atoms = np.asarray(seg["atom"])
    cls = np.asarray(seg["hb_class"])[atoms]
    is_h = np.asarray(seg["numbers"])[atoms] == 1
    return _split_profile(sig, areas, cls, is_h, area, volume, sigma_hb)


def _bonded(numbers: np.ndarray, positions: np.ndarray) -> np.ndarray:
    num = np.asarray(numbers, dtype=int)
    rc = np.array([_COVALENT.get(int(z), 0.8) for z in num]) * 1.3
    d = cdist(positions, positions)
    return (d < rc[:, None] + rc[None, :]) & ~np.eye(len(num), dtype=bool)


def water_atoms(numbers: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """Water-type hydroxyl atoms, bool (n_atoms,): an O bonded to exactly two H and nothing
    else, and those two H (bonds from the geometry as in :func:`hb_classes`)."""
    num = np.asarray(numbers, dtype=int)
    b = _bonded(num, np.asarray(positions, dtype=float))
    out = np.zeros(len(num), dtype=bool)
    for i in np.flatnonzero(num == 8):
        nb = np.flatnonzero(b[i])
        if len(nb) == 2 and np.all(num[nb] == 1):
            out[i] = True
            out[nb] = True
    return out


def water_candidates(seg: dict) -> np.ndarray:
    """HB candidate areas (A^2, shape (51,), before P_hb) of the water-type hydroxyl segments of
    a :func:`segment_table`: the part of the OH candidates that :func:`water_atoms` own
    (negative-sigma segments of their H, positive-sigma segments of their O)."""
    sig = np.asarray(seg["sigma"], dtype=float)
    areas = np.asarray(seg["area"], dtype=float)
    atoms = np.asarray(seg["atom"])
    num = np.asarray(seg["numbers"])
    wat = water_atoms(num, np.asarray(seg["atom_pos"], dtype=float))[atoms]
    cls = np.asarray(seg["hb_class"])[atoms]
    cand = ((num[atoms] == 1) == (sig < 0)) & (cls == 1) & wat
    return bin_profile(sig[cand], areas[cand])


def sigma_profile(numbers: np.ndarray, positions: np.ndarray, surface: Surface,
                  segments: dict | None = None) -> SigmaProfile:
    """The three-part 2010 sigma profile of a solved ``surface`` of atoms ``numbers`` at
    ``positions`` (Angstrom). ``segments``: its :func:`segment_table`, if already made.

    Hydrogen-bonding candidates: negative-sigma segments of H atoms (donors) and positive-sigma
    segments of non-H atoms (acceptors) of the OH/OT classes.
    """
    seg = segments if segments is not None else segment_table(numbers, positions, surface)
    return profile_from_segments(seg, surface.total_area, surface.volume)


def _split_profile(sig: np.ndarray, areas: np.ndarray, cls: np.ndarray, is_h: np.ndarray,
                   total_area: float, volume: float, sigma_hb: float = SIGMA_HB) -> SigmaProfile:
    cand = is_h == (sig < 0)
    m_oh = cand & (cls == 1)
    m_ot = cand & (cls == 2)
    m_n = ~(m_oh | m_ot)
    p_oh = bin_profile(sig[m_oh], areas[m_oh])
    p_ot = bin_profile(sig[m_ot], areas[m_ot])
    p_hb = 1.0 - np.exp(-0.5 * (SIGMA_GRID / sigma_hb) ** 2)
    p_n = bin_profile(sig[m_n], areas[m_n]) + (p_oh + p_ot) * (1.0 - p_hb)
    return SigmaProfile(np.vstack([p_n, p_oh * p_hb, p_ot * p_hb]), total_area, volume)


def combine_profiles(profiles: list[SigmaProfile], weights: np.ndarray) -> SigmaProfile:
    """Weighted average of conformer profiles (weights normalised to sum 1), shape-preserving."""
    if not profiles:
        raise OracleError("no profiles to combine")
    w = np.asarray(weights, dtype=float)
    if w.shape != (len(profiles),) or np.any(w < 0) or w.sum() <= 0:
        raise OracleError(f"bad conformer weights {w!r} for {len(profiles)} profiles")
    w = w / w.sum()
    p = np.einsum("i,ijk->jk", w, np.stack([pr.p for pr in profiles]))
    area = float(np.dot(w, [pr.area for pr in profiles]))
    volume = float(np.dot(w, [pr.volume for pr in profiles]))
    return SigmaProfile(p, area, volume)
