"""Predictions as DataFrames, with a status per row.

    from chiscreen.model import load_ensemble
    from chiscreen.model.predict import predict_pairs, predict_table
    ens = load_ensemble()
    df = predict_pairs(ens, ["*CC(*)c1ccccc1"], ["Cc1ccccc1"], [298.15])
    out = predict_table(ens, pd.read_csv("pairs.csv"))   # keeps every input row, in order

Output columns (per pair; temperatures in Kelvin; derived from the model's tasks, see
:mod:`chiscreen.model.tasks` and :func:`result_columns`):
    chi_mean, chi_std          experimental-chi head at T; std = raw ensemble std x std_scale["chi_exp"]
                               x the applicability-domain inflation (1 + slope x min(ad_score, cap))
    chi_lo95, chi_hi95         calibrated 95 % interval of chi: chi_mean -+ k95 x chi_std (k95 fitted on
                               held-out rows; errors are heavy-tailed, so k95 > 1.96); NaN for models
                               without domain statistics
    ad_score                   applicability-domain score of the pair, max(ad_polymer, ad_solvent):
                               0 = both molecules in training, ~1 = as near the training set as training
                               molecules are to each other, >~2 = outside the model's experience
                               (chiscreen.model.domain); NaN for models without domain statistics
    ad_polymer, ad_solvent     the two molecules' scores (normalised nearest-training-molecule latent distance)
    A_mean, A_std, B_mean, B_std   chi(T) = A + B/T of the experimental head (B in K)
    chi_comp_mean, chi_comp_std    computed-chi (COSMO-RS-like) head at T (likewise every
                               other chi task: {result_prefix}_mean / _std)
    p_soluble, p_soluble_std       ensemble mean / std of sigmoid(logit) (every binary task)
    chi_c                      critical chi: 0.5 (1 + 1/sqrt(N))^2 from n_ratio / molecular weight, else 0.5
    verdict                    "miscible" (chi_mean + chi_std < chi_c), "immiscible" (chi_mean - chi_std
                               > chi_c) or "borderline" (chiscreen.thermo.verdict.miscibility_verdict)
    dissolves                  "yes" / "no" / "borderline" / "unknown" (thermo.verdict.dissolution_verdict:
                               chi, chi_c, std and, for semicrystalline polymers, the depressed melting point;
                               "unknown" when a needed fact is missing, e.g. the crystallinity)
    T_dissolve_K, T_dissolve_lo_K, T_dissolve_hi_K   predicted dissolution temperature (and with chi -+ std)
    above_boiling              "yes" (T above the solvent's boiling point: needs pressure) / "no" / "unknown"
    dissolve_reason            why (empty when it dissolves without caveat)
    status, reason             "ok", "invalid" (bad SMILES / temperature) or "failed" (featurization)
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from rdkit.Chem import Descriptors

import chiscreen.model.tasks as _tasks
from chiscreen.chem import RepeatUnit, Solvent
from chiscreen.data.tables import normalize_pairs
from chiscreen.errors import ChiscreenError
from chiscreen.model.ensemble import ChiEnsemble
from chiscreen.model.posterior import EnsemblePrediction
from chiscreen.schema import POLYMER_KEY, POLYMER_SMILES, REASON, SOLVENT_KEY, SOLVENT_SMILES, STATUS, TEMPERATURE_K
from chiscreen.thermo import CHI_C_LONG_CHAIN, chi_critical_array, miscibility_verdict


def _result_sources(tasks) -> list[tuple[str, str, str]]:
    """(column, quantity, statistic) for every result column but chi_c / verdict. Statistic:
    "mean", "std" (raw), "cal" (calibrated std), "lo95" / "hi95" (calibrated 95 % interval) or
    "ad" / "ad_polymer" / "ad_solvent" (applicability-domain scores; quantity unused)."""
    out = []
    primary = _tasks.get_task(_tasks.PRIMARY_TASK)
    order = [t for t in _tasks.ordered(tasks) if t != primary.name]
    if primary.name in tasks:
        order.insert(0, primary.name)
    for t in order:
        spec = _tasks.get_task(t)
        mcol, scol = spec.result_columns()
        out += [(mcol, spec.prediction_key, "mean"), (scol, spec.prediction_key, "cal" if spec.is_chi else "std")]
        if spec.name == primary.name:
            a, b = spec.outputs
            out += [("A_mean", a, "mean"), ("A_std", a, "std"), ("B_mean", b, "mean"), ("B_std", b, "std")]
    # the reference column order (format-v1 models): chi, A, B, chi_comp, p_soluble, then others
    ref = ["chi_mean", "chi_std", "A_mean", "A_std", "B_mean", "B_std", "chi_comp_mean", "chi_comp_std",
           "p_soluble", "p_soluble_std"]
    out = sorted(out, key=lambda c: (ref.index(c[0]) if c[0] in ref else len(ref)))
    if primary.name in tasks:   # calibrated 95 % interval of the primary chi
        mcol = primary.result_columns()[0]
        pre = mcol[: -len("_mean")] if mcol.endswith("_mean") else mcol
        out += [(f"{pre}_lo95", primary.prediction_key, "lo95"), (f"{pre}_hi95", primary.prediction_key, "hi95")]
    # applicability domain (chiscreen.model.domain)
    return out + [("ad_score", "", "ad"), ("ad_polymer", "", "ad_polymer"), ("ad_solvent", "", "ad_solvent")]


def result_columns(tasks=_tasks.V1_TASKS) -> list[str]:
    """Result columns of :func:`predict_table` for a model with ``tasks``."""
    return [c for c, _, _ in _result_sources(tasks)] + ["chi_c", "verdict"]


RESULT_COLUMNS = result_columns()  # those of a model with the reference tasks


def result_values(post: EnsemblePrediction, tasks) -> dict[str, np.ndarray]:
    """Result columns (N,) from an :class:`EnsemblePrediction` (see :func:`result_columns`)."""
    stat = {"mean": post.mean_of, "std": post.std_of, "cal": post.calibrated_std_of,
            "lo95": lambda q: post.interval_of(q)[0], "hi95": lambda q: post.interval_of(q)[1],
            "ad": lambda q: post.ad, "ad_polymer": lambda q: post.ad_polymer, "ad_solvent": lambda q: post.ad_solvent}
    return {col: np.asarray(stat[s](q), dtype=np.float64) for col, q, s in _result_sources(tasks)}


DISSOLUTION_COLUMNS = ["dissolves", "T_dissolve_K", "T_dissolve_lo_K", "T_dissolve_hi_K", "above_boiling",
                       "dissolve_reason"]


def repeat_unit_mass(smiles: str) -> float:
    """Molar mass of one repeat unit (g/mol), attachment points excluded."""
    return float(Descriptors.MolWt(RepeatUnit.from_smiles(smiles).linear_oligomer(1, cap="H"))) - 2 * 1.008


def n_ratio_estimate(polymer_smiles: str, solvent_smiles: str, mw: float | None = None, dp: float | None = None,
                     polymer_density: float = 1.0, solvent_density: float = 1.0) -> float | None:
    """N = (M_polymer / rho_polymer) / (M_solvent / rho_solvent); densities default to 1 g/cm3.

    ``mw`` is the polymer molar mass (g/mol); ``dp`` a degree of polymerisation (M = dp x repeat
    unit mass). None when neither is given (long-chain limit)."""
    if mw is None and dp is None:
        return None
    m_p = float(mw) if mw is not None else float(dp) * repeat_unit_mass(polymer_smiles)
    m_s = float(Descriptors.MolWt(Solvent.from_smiles(solvent_smiles).mol))
    return (m_p / polymer_density) / (m_s / solvent_density)


def _predict_valid(ens: ChiEnsemble, pkeys: list[str], skeys: list[str], T: np.ndarray, progress: bool,
                   featurize_kwargs: dict | None) -> tuple[dict[str, np.ndarray], np.ndarray, list[str], list[str]]:
    from chiscreen.features import featurize

    kw = {"progress": progress, **(featurize_kwargs or {})}
    up = list(dict.fromkeys(pkeys))
    us = list(dict.fromkeys(skeys))
    fp = featurize(up, kind="polymer", featurizer=ens.featurizer, representation=ens.polymer_representation, **kw)
    fs = featurize(us, kind="solvent", featurizer=ens.featurizer, **kw)
    if fp.version != ens.featurizer_version:
        from chiscreen.errors import ArtifactError

        raise ArtifactError(f"model needs featurizer {ens.featurizer} v{ens.featurizer_version}, got v{fp.version}")
    pi = {k: i for i, k in enumerate(up)}
    si = {k: i for i, k in enumerate(us)}
    ip = np.array([pi[k] for k in pkeys], dtype=np.int64)
    is_ = np.array([si[k] for k in skeys], dtype=np.int64)
    ok = np.array([fp.status[a] == "ok" and fs.status[b] == "ok" for a, b in zip(ip, is_)], dtype=bool)
    status = ["ok" if o else "failed" for o in ok]
    reason = ["" if o else (fp.reason[a] if fp.status[a] != "ok" else fs.reason[b]) for o, a, b in zip(ok, ip, is_)]
    out: dict[str, np.ndarray] = {}
    if ok.any():
        out = result_values(ens.posterior(fp.X[ip[ok]], fs.X[is_[ok]], T[ok]), ens.tasks)
    return out, ok, status, reason


def predict_pairs(ens: ChiEnsemble, polymers: Sequence[str], solvents: Sequence[str], temperatures_K,
                  n_ratio=None, mw=None, dp=None, progress: bool = False,
                  featurize_kwargs: dict | None = None, dissolution: bool = True,
                  polymer_facts=None) -> pd.DataFrame:
    """Predict aligned (polymer, solvent, temperature in Kelvin) triples.

    ``temperatures_K`` may be a scalar (used for every pair). ``n_ratio`` (N), ``mw`` (g/mol) or
    ``dp`` (scalars or per-pair sequences) set chi_c; otherwise the long-chain limit 0.5.
    Bad rows never raise: they get status "invalid" or "failed" and a reason. ``polymer_facts``
    (one ``thermo.PolymerFacts`` or one per pair) overrides the catalog facts looked up by SMILES,
    e.g. for a named grade such as isotactic PP.
    """
    n = len(polymers)
    if len(solvents) != n:
        from chiscreen.errors import InvalidInputError

        raise InvalidInputError(f"{n} polymers but {len(solvents)} solvents: expected aligned lists")
    T = np.broadcast_to(np.asarray(temperatures_K, dtype=float), (n,)).copy()
    df = pd.DataFrame({POLYMER_SMILES: list(polymers), SOLVENT_SMILES: list(solvents), TEMPERATURE_K: T})
    for name, val in (("n_ratio", n_ratio), ("mw", mw), ("dp", dp)):
        if val is not None:
            df[name] = np.broadcast_to(np.asarray(val, dtype=float), (n,))
    if polymer_facts is not None and not isinstance(polymer_facts, (list, tuple)):
        polymer_facts = [polymer_facts] * n
    return predict_table(ens, df, progress=progress, featurize_kwargs=featurize_kwargs, dissolution=dissolution,
                         polymer_facts=polymer_facts)


def _dissolution_columns(out: pd.DataFrame, status, polymer_facts=None) -> pd.DataFrame:
    """The dissolution verdict per ok row (thermo.verdict.dissolution_verdict with catalog facts)."""
    from chiscreen.catalogs.facts import polymer_facts_for_smiles, solvent_facts_for_smiles
    from chiscreen.thermo import ChiT, dissolution_verdict

    n = len(out)
    cols = {c: [""] * n if c in ("dissolves", "above_boiling", "dissolve_reason") else np.full(n, np.nan)
            for c in DISSOLUTION_COLUMNS}
    pcache: dict[str, object] = {}
    scache: dict[str, object] = {}
    for i in np.flatnonzero(np.asarray(status) == "ok"):
        ps, ss = str(out[POLYMER_SMILES].iat[i]), str(out[SOLVENT_SMILES].iat[i])
        pf = polymer_facts[i] if polymer_facts is not None else None
        if pf is None:
            if ps not in pcache:
                try:
                    pcache[ps] = polymer_facts_for_smiles(ps)
                except ChiscreenError:
                    pcache[ps] = None
            pf = pcache[ps]
        if ss not in scache:
            try:
                scache[ss] = solvent_facts_for_smiles(ss)
            except ChiscreenError:
                scache[ss] = None
        v = dissolution_verdict(float(out["chi_mean"].iat[i]), float(out["chi_std"].iat[i]),
                                float(out[TEMPERATURE_K].iat[i]), float(out["chi_c"].iat[i]),
                                ChiT(float(out["A_mean"].iat[i]), float(out["B_mean"].iat[i])), pf, scache[ss])
        cols["dissolves"][i], cols["above_boiling"][i], cols["dissolve_reason"][i] = v.dissolves, v.above_boiling, v.reason
        cols["T_dissolve_K"][i], cols["T_dissolve_lo_K"][i], cols["T_dissolve_hi_K"][i] = \
            v.T_dissolve_K, v.T_dissolve_lo_K, v.T_dissolve_hi_K
    for c, v in cols.items():
        out[c] = v
    return out


def predict_table(ens: ChiEnsemble, table: pd.DataFrame, progress: bool = False, featurize_kwargs: dict | None = None,
                  source: str = "input", dissolution: bool = True, polymer_facts=None) -> pd.DataFrame:
    """Predict every row of a pair table (polymer_smiles, solvent_smiles, temperature_K or
    temperature_C; optional n_ratio, mw or dp). Returns the input rows in order with the result
    columns, ``status`` and ``reason`` added. Raises MissingColumnError for missing columns."""
    norm = normalize_pairs(table, strict=False, source=source)
    n = len(norm)
    columns = result_columns(ens.tasks)
    res = {c: np.full(n, np.nan) for c in columns if c != "verdict"}
    status = norm[STATUS].to_numpy(dtype=object).copy()
    reason = norm[REASON].to_numpy(dtype=object).copy()
    valid = np.flatnonzero(status == "ok")
    if len(valid):
        out, ok, st, rs = _predict_valid(ens, list(norm[POLYMER_KEY].iloc[valid]), list(norm[SOLVENT_KEY].iloc[valid]),
                                         norm[TEMPERATURE_K].to_numpy(dtype=float)[valid], progress, featurize_kwargs)
        status[valid] = st
        reason[valid] = rs
        good = valid[ok]
        for k, v in out.items():
            res[k][good] = v
    # chi_c
    nr = np.full(n, np.nan)
    for i in np.flatnonzero(status == "ok"):
        try:
            if "n_ratio" in norm and np.isfinite(norm["n_ratio"].iloc[i]):
                nr[i] = float(norm["n_ratio"].iloc[i])
            else:
                mw = norm["mw"].iloc[i] if "mw" in norm else np.nan
                dp = norm["dp"].iloc[i] if "dp" in norm else np.nan
                v = n_ratio_estimate(norm[POLYMER_KEY].iloc[i], norm[SOLVENT_KEY].iloc[i],
                                     mw=mw if np.isfinite(mw) else None, dp=dp if np.isfinite(dp) else None)
                nr[i] = np.nan if v is None else v
            if np.isfinite(nr[i]) and nr[i] <= 0:
                raise ValueError(f"chain-length ratio {nr[i]} must be positive")
        except (ChiscreenError, ValueError, TypeError) as exc:
            status[i], reason[i] = "invalid", f"n_ratio / mw / dp: {exc}"
    not_ok = status != "ok"  # a row found invalid late (n_ratio / mw / dp) carries no prediction
    for k in res:
        res[k][not_ok] = np.nan
    res["chi_c"] = np.where(status == "ok", chi_critical_array(nr), np.nan)
    verdict = [miscibility_verdict(res["chi_mean"][i], res["chi_std"][i], res["chi_c"][i]) if status[i] == "ok" else ""
               for i in range(n)]
    out = table.reset_index(drop=True).copy()
    if TEMPERATURE_K not in out.columns:
        out[TEMPERATURE_K] = norm[TEMPERATURE_K]
    for c in columns:
        out[c] = verdict if c == "verdict" else res[c]
    out[STATUS] = status
    out[REASON] = reason
    if dissolution:
        out = _dissolution_columns(out, status, polymer_facts)
    return out


__all__ = ["predict_pairs", "predict_table", "n_ratio_estimate", "repeat_unit_mass", "result_columns",
           "CHI_C_LONG_CHAIN", "DISSOLUTION_COLUMNS"]
