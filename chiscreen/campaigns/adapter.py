"""The one place campaigns call the model (so the EnsemblePrediction refactor touches only this file).

- :func:`predict_grid`: ensemble mean / calibrated std of chi, A, B per (polymer, solvent, T), via
  the public :func:`chiscreen.model.predict.predict_pairs` (thermo verdicts are applied by callers).
- :func:`member_chi_curves`: every member's chi(T) for one pair (phase-diagram bands);
  :func:`pair_domain`: the pair's applicability-domain scores, which :func:`calibrated_chi_std`
  takes to inflate the std as the posterior does.
All read the model's one posterior (:class:`chiscreen.model.posterior.EnsemblePrediction`).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd


def predict_grid(ens, polymers: Sequence[str], solvents: Sequence[str], temperatures_K: Sequence[float],
                 progress: bool = False) -> pd.DataFrame:
    """Every polymer x solvent x temperature (SMILES, Kelvin). Columns polymer_smiles, solvent_smiles,
    temperature_K, chi_mean, chi_std, A_mean, B_mean, p_soluble, status, reason, ..."""
    from chiscreen.model.predict import predict_pairs

    P, S, T = list(polymers), list(solvents), [float(t) for t in temperatures_K]
    pp = [p for p in P for _ in S for _ in T]
    ss = [s for _ in P for s in S for _ in T]
    tt = [t for _ in P for _ in S for t in T]
    return predict_pairs(ens, pp, ss, tt, progress=progress, dissolution=False)


def member_chi_curves(ens, polymer: str, solvent: str, temperatures_K: Sequence[float]) -> np.ndarray:
    """(n_members, n_T) chi(T) of each ensemble member (experimental head, no std scaling)."""
    from chiscreen.errors import FeaturizationError
    from chiscreen.features import featurize

    T = np.asarray(temperatures_K, dtype=float)
    fp = featurize([polymer], kind="polymer", featurizer=ens.featurizer, representation=ens.polymer_representation,
                   progress=False)
    fs = featurize([solvent], kind="solvent", featurizer=ens.featurizer, progress=False)
    if fp.status[0] != "ok" or fs.status[0] != "ok":
        raise FeaturizationError(f"cannot featurize {polymer} / {solvent}: {fp.reason[0] or fs.reason[0]}")
    n = len(T)
    post = ens.posterior(np.repeat(fp.X[:1], n, 0), np.repeat(fs.X[:1], n, 0), T)
    return post["chi_exp"]


def pair_domain(ens, polymer: str, solvent: str) -> tuple[float, float, float]:
    """(ad_score, ad_polymer, ad_solvent) of one pair (chiscreen.model.domain); NaN without domain statistics."""
    from chiscreen.features import featurize

    if getattr(ens, "domain", None) is None:
        return float("nan"), float("nan"), float("nan")
    fp = featurize([polymer], kind="polymer", featurizer=ens.featurizer, representation=ens.polymer_representation,
                   progress=False)
    fs = featurize([solvent], kind="solvent", featurizer=ens.featurizer, progress=False)
    if fp.status[0] != "ok" or fs.status[0] != "ok":
        return float("nan"), float("nan"), float("nan")
    post = ens.posterior(fp.X[:1], fs.X[:1], np.array([298.15]))
    return float(post.ad[0]), float(post.ad_polymer[0]), float(post.ad_solvent[0])


def calibrated_chi_std(ens, members: np.ndarray, ad_polymer: float | None = None,
                       ad_solvent: float | None = None) -> np.ndarray:
    """Calibrated ensemble std (n_T,) of member chi curves (E, n_T), as the model's posterior computes it
    (with the pair's domain scores, :func:`pair_domain`, the AD inflation included)."""
    from chiscreen.model.posterior import EnsemblePrediction

    dom = getattr(ens, "domain", None) if ad_polymer is not None and ad_solvent is not None else None
    return EnsemblePrediction.from_members(("chi_exp",), members[:, :, None], ens.std_scale, domain=dom,
                                           ad_polymer=ad_polymer if dom is not None else None,
                                           ad_solvent=ad_solvent if dom is not None else None).calibrated_std[:, 0]


def polymer_pair_chi(ens, polymers: Sequence[str], T_K: float) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """UNCALIBRATED polymer-polymer chi estimate: the pair head applied to two polymer-tower latents.

    The head was trained on polymer x solvent latents only; a polymer latent in the solvent slot is
    outside its training, and chi is per solvent-sized site, not per blend reference volume. Returns
    (mean (P, P), std (P, P), featurization status per polymer); rows of failed polymers are NaN."""
    from chiscreen.features import featurize

    fp = featurize(list(polymers), kind="polymer", featurizer=ens.featurizer,
                   representation=ens.polymer_representation, progress=False)
    P = len(polymers)
    ok = np.array([s == "ok" for s in fp.status])
    mean = np.full((P, P), np.nan)
    std = np.full((P, P), np.nan)
    if ok.sum() == 0:
        return mean, std, list(fp.status)
    idx = np.flatnonzero(ok)
    U = ens.encode_polymers(fp.X[idx])                            # (E, n, 2d)
    n = len(idx)
    ii, jj = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    post = ens.posterior_pool(U, U, ii.ravel(), jj.ravel(), np.full(n * n, float(T_K)))
    mean[np.ix_(idx, idx)] = post.mean_of("chi_exp").reshape(n, n)
    std[np.ix_(idx, idx)] = post.calibrated_std_of("chi_exp").reshape(n, n)
    return mean, std, list(fp.status)
