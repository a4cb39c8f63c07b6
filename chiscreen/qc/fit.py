"""Fit a COSMO-SAC parameter set to experimental chi on stored sigma profiles.

Every evaluation of the model acts on stored profiles only (no xtb): for each liquid (a pure
polymer or solvent at one temperature) the segment activity coefficients are solved once per
parameter vector, warm-started from the previous solution, and a (pair, T) row then costs a dot
product. Fitting uses :func:`scipy.optimize.least_squares` (robust ``soft_l1`` loss) over a few
global parameters in a transformed space (logs of the scale factors and of sigma_hb).

Cross-validation is grouped by polymer (:func:`grouped_folds`): a polymer's rows are either all
in training or all held out, so an out-of-fold chi never saw its polymer.

    data = FitData.build(rows, profiles)     # rows: (polymer_id, solvent_id, T_K, chi_exp)
    res = fit_params(data, free=("es", "hb", "sigma_hb", "fv"), base=SAC2010)
    oof = cross_validate(data, groups, free=..., k=5)    # out-of-fold chi per row
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Hashable, Sequence

import numpy as np

from chiscreen.errors import ConfigError, OracleError
from chiscreen.qc.chi import combinatorial_chi
from chiscreen.qc.cosmosac import segment_ln_gamma
from chiscreen.qc.params import SAC2010, CosmoSacParams, p_hb
from chiscreen.qc.sigma import A_EFF, SIGMA_HB, SigmaProfile

#: Fittable quantities -> (field of CosmoSacParams, transform to the fit variable, inverse).
FREE: dict[str, tuple[str, str]] = {
    "es": ("es_scale", "log"), "hb": ("hb_scale", "log"), "ot": ("ot_scale", "log"),
    "sigma_hb": ("sigma_hb", "log"), "fv": ("fv_ln_ratio", "id"), "t_hb": ("t_hb", "id"),
    "ww": ("water_self_scale", "log"), "wx": ("water_cross_scale", "log"),
    "sigma_hb_w": ("sigma_hb_water", "log"),
}
#: Bounds of the fit variables (in transformed space).
BOUNDS: dict[str, tuple[float, float]] = {
    "es": (np.log(0.25), np.log(4.0)), "hb": (np.log(0.05), np.log(5.0)),
    "ot": (np.log(0.05), np.log(5.0)), "sigma_hb": (np.log(0.003), np.log(0.03)),
    "fv": (-2.0, 2.0), "t_hb": (-6.0, 6.0),
    "ww": (np.log(0.05), np.log(5.0)), "wx": (np.log(0.05), np.log(5.0)),
    "sigma_hb_w": (np.log(0.003), np.log(0.03)),
}


@dataclass
class FitData:
    """Rows and the profiles they need, arranged for fast repeated evaluation.

    Attributes:
        mol_ids: molecule identities, length M (polymers and solvents).
        nhb: per molecule, profile areas that never hydrogen-bond (A^2), shape (M, 51).
        cand: per molecule, OH and OT HB candidates before P_hb (A^2), shape (M, 2, 51).
        area, volume: cavity area (A^2) and volume (A^3), shape (M,).
        ip, js: row -> polymer / solvent molecule index, shape (n,).
        t: row temperatures, K, shape (n,). y: experimental chi, shape (n,).
        liquids: unique (molecule index, T) pure liquids; row_lp / row_ls: row -> liquid index
            of the polymer and of the solvent.
        ow: per molecule, the water-type hydroxyl share of the OH candidates (A^2), shape
            (M, 51); zeros unless ``water`` was given to :meth:`build`.
    """

    mol_ids: list
    nhb: np.ndarray
    cand: np.ndarray
    area: np.ndarray
    volume: np.ndarray
    ip: np.ndarray
    js: np.ndarray
    t: np.ndarray
    y: np.ndarray
    liquids: list[tuple[int, float]]
    row_lp: np.ndarray
    row_ls: np.ndarray
    ow: np.ndarray | None = None
    _warm: dict = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls, rows: Sequence[tuple[Hashable, Hashable, float, float]],
              profiles: dict[Hashable, SigmaProfile],
              stored_sigma_hb: float = SIGMA_HB,
              water: dict[Hashable, np.ndarray] | None = None) -> "FitData":
        """``rows``: (polymer id, solvent id, T in K, experimental chi); ``profiles`` maps every
        id to its combined stored profile (split with ``stored_sigma_hb``); ``water`` (optional)
        maps ids to their water-type hydroxyl candidates (51,) A^2
        (:func:`chiscreen.qc.profile.water_candidates_of`; missing ids have none), needed by
        parameter sets with a water split. Raises OracleError for a row whose profile is
        missing or a non-positive temperature."""
        if not rows:
            raise OracleError("no rows to fit")
        ids: dict[Hashable, int] = {}
        for p, s, _, _ in rows:
            for m in (p, s):
                if m not in profiles:
                    raise OracleError(f"no stored profile for {m!r}")
                ids.setdefault(m, len(ids))
        mol_ids = list(ids)
        old = p_hb(stored_sigma_hb)
        safe = old > 0
        M = len(mol_ids)
        nhb, cand = np.zeros((M, 51)), np.zeros((M, 2, 51))
        area, vol = np.zeros(M), np.zeros(M)
        for k, m in enumerate(mol_ids):
            pr = profiles[m]
            c = np.zeros((2, 51))
            c[:, safe] = pr.p[1:, safe] / old[safe]
            cand[k] = c
            nhb[k] = pr.p[0] + pr.p[1:].sum(axis=0) - c.sum(axis=0)  # as resplit() does
            area[k], vol[k] = pr.area, pr.volume
        ip = np.array([ids[r[0]] for r in rows])
        js = np.array([ids[r[1]] for r in rows])
        t = np.array([float(r[2]) for r in rows])
        if np.any(~(t > 0)):
            raise OracleError("temperatures must be > 0 K")
        y = np.array([float(r[3]) for r in rows])
        liq: dict[tuple[int, float], int] = {}
        lp = np.array([liq.setdefault((int(a), float(b)), len(liq)) for a, b in zip(ip, t)])
        ls = np.array([liq.setdefault((int(a), float(b)), len(liq)) for a, b in zip(js, t)])
        ow = np.zeros((M, 51))
        for k, m in enumerate(mol_ids):
            if water is not None and m in water:
                ow[k] = np.minimum(np.where(safe, np.asarray(water[m], dtype=float), 0.0),
                                   cand[k, 0])
        return cls(mol_ids, nhb, cand, area, vol, ip, js, t, y, list(liq), lp, ls, ow)

    @property
    def n_rows(self) -> int:
        return len(self.y)

    def subset(self, rows: np.ndarray) -> "FitData":
        """The same molecules with only ``rows`` (indices); shares the warm-start cache."""
        rows = np.asarray(rows)
        liq_used = sorted(set(self.row_lp[rows]) | set(self.row_ls[rows]))
        remap = {old: new for new, old in enumerate(liq_used)}
        sub = FitData(self.mol_ids, self.nhb, self.cand, self.area, self.volume, self.ip[rows],
                      self.js[rows], self.t[rows], self.y[rows],
                      [self.liquids[i] for i in liq_used],
                      np.array([remap[i] for i in self.row_lp[rows]]),
                      np.array([remap[i] for i in self.row_ls[rows]]), self.ow)
        sub._warm = self._warm
        return sub

    def profiles(self, sigma_hb: float, params: CosmoSacParams | None = None) -> np.ndarray:
        """Normalised-free profiles (M, 153) in A^2 split with HB width ``sigma_hb``, or, for
        ``params`` with a water split, (M, 204) with the OW row (width ``params.sigma_hb_ow``)."""
        ph = p_hb(sigma_hb)
        if params is None or not params.water_split:
            hb = self.cand * ph
            nhb = self.nhb + (self.cand * (1.0 - ph)).sum(axis=1)
            return np.concatenate([nhb, hb[:, 0], hb[:, 1]], axis=1)
        ow = self.ow if self.ow is not None else np.zeros_like(self.nhb)
        c = self.cand.copy()
        c[:, 0] -= ow
        phw = p_hb(params.sigma_hb_ow)
        hb = c * ph
        nhb = self.nhb + (c * (1.0 - ph)).sum(axis=1) + ow * (1.0 - phw)
        return np.concatenate([nhb, hb[:, 0], hb[:, 1], ow * phw], axis=1)

    def predict(self, params: CosmoSacParams) -> np.ndarray:
        """chi of every row under ``params``, shape (n,). Raises OracleError if a segment
        solve fails to converge."""
        P = self.profiles(params.sigma_hb, params)
        lng = np.empty((len(self.liquids), P.shape[1]))
        by_t: dict[float, list[int]] = {}
        for k, (_, t) in enumerate(self.liquids):
            by_t.setdefault(t, []).append(k)
        for t, ks in by_t.items():
            mw = params.minus_dw(t)
            for k in ks:
                m = self.liquids[k][0]
                wkey = (self.mol_ids[m], t, P.shape[1])
                y0 = self._warm.get(wkey)
                g = segment_ln_gamma(P[m] / self.area[m], t, minus_dw=mw, y0=y0)
                self._warm[wkey] = g
                lng[k] = g
        ps = P[self.js] / A_EFF
        res = np.sum(ps * (lng[self.row_lp] - lng[self.row_ls]), axis=1)
        comb = combinatorial_chi(self.area[self.js], self.volume[self.js], self.area[self.ip],
                                 self.volume[self.ip], params.combinatorial, params.fv_ln_ratio)
        return res + comb


def _to_theta(params: CosmoSacParams, free: Sequence[str]) -> np.ndarray:
    out = []
    for f in free:
        name, tr = FREE[f]
        v = params.sigma_hb_ow if name == "sigma_hb_water" else getattr(params, name)
        out.append(np.log(v) if tr == "log" else float(v))
    return np.array(out)


def _from_theta(theta: np.ndarray, base: CosmoSacParams, free: Sequence[str],
                name: str) -> CosmoSacParams:
    kw = {}
    for f, x in zip(free, theta):
        fld, tr = FREE[f]
        kw[fld] = float(np.exp(x)) if tr == "log" else float(x)
    return base.with_values(name=name, **kw)


@dataclass
class FitResult:
    """A fitted parameter set and how the fit went (training-set figures only)."""

    params: CosmoSacParams
    n_rows: int
    train_mae: float
    train_pearson_r: float
    nfev: int
    success: bool
    message: str


def fit_params(data: FitData, free: Sequence[str] = ("es", "hb", "sigma_hb", "fv"),
               base: CosmoSacParams = SAC2010, name: str = "fit", loss: str = "soft_l1",
               f_scale: float = 0.3, max_nfev: int = 200) -> FitResult:
    """Least-squares fit of the ``free`` parameters (keys of :data:`FREE`) to ``data.y``.

    ``base`` gives the fixed values and the start; a free "fv" needs ``base.combinatorial ==
    "fh"``. Raises ConfigError for an unknown free name.
    """
    from scipy.optimize import least_squares

    bad = [f for f in free if f not in FREE]
    if bad:
        raise ConfigError(f"unknown fit parameter(s) {bad}; expected some of {sorted(FREE)}")
    if "fv" in free and base.combinatorial == "sg":
        raise ConfigError("fitting 'fv' needs a base set with combinatorial='fh'")
    lo = np.array([BOUNDS[f][0] for f in free])
    hi = np.array([BOUNDS[f][1] for f in free])
    x0 = np.clip(_to_theta(base, free), lo + 1e-9, hi - 1e-9)
    y = data.y

    def resid(theta: np.ndarray) -> np.ndarray:
        try:
            r = data.predict(_from_theta(theta, base, free, name)) - y
        except OracleError:
            return np.full(len(y), 1e3)
        return np.where(np.isfinite(r), r, 1e3)

    if len(free):
        sol = least_squares(resid, x0, bounds=(lo, hi), loss=loss, f_scale=f_scale,
                            diff_step=1e-4, max_nfev=max_nfev, x_scale="jac", ftol=1e-6,
                            xtol=1e-6)
        theta, nfev, ok, msg = sol.x, int(sol.nfev), bool(sol.success), str(sol.message)
    else:
        theta, nfev, ok, msg = x0, 0, True, "nothing free"
    params = _from_theta(theta, base, free, name)
    pred = data.predict(params)
    mae = float(np.mean(np.abs(pred - y)))
    r = float(np.corrcoef(pred, y)[0, 1]) if np.std(pred) > 0 else float("nan")
    return FitResult(params, data.n_rows, mae, r, nfev, ok, msg)


def grouped_folds(groups: Sequence[Hashable], k: int = 5, seed: int = 0) -> list[np.ndarray]:
    """``k`` folds of row indices such that each group lies in exactly one fold. Groups are
    shuffled with ``seed`` and dealt to the currently smallest fold (balanced by rows).
    Raises ConfigError if there are fewer groups than folds."""
    g = np.asarray(groups, dtype=object)
    uniq = sorted(set(g.tolist()), key=str)
    if len(uniq) < k:
        raise ConfigError(f"{len(uniq)} groups cannot make {k} folds")
    rng = np.random.default_rng(seed)
    order = [uniq[i] for i in rng.permutation(len(uniq))]
    size = {u: int(np.sum(g == u)) for u in uniq}
    order.sort(key=lambda u: -size[u])  # stable: big groups first, ties in shuffled order
    folds: list[list] = [[] for _ in range(k)]
    load = np.zeros(k)
    for u in order:
        i = int(np.argmin(load))
        folds[i].append(u)
        load[i] += size[u]
    return [np.flatnonzero(np.isin(g, f)) for f in folds]


def cross_validate(data: FitData, groups: Sequence[Hashable], free: Sequence[str],
                   base: CosmoSacParams = SAC2010, k: int = 5, seed: int = 0,
                   **fit_kw) -> tuple[np.ndarray, list[FitResult]]:
    """Out-of-fold chi (n,) from ``k`` polymer-grouped folds, and the per-fold fits."""
    oof = np.full(data.n_rows, np.nan)
    fits = []
    for f, te in enumerate(grouped_folds(groups, k, seed)):
        tr = np.setdiff1d(np.arange(data.n_rows), te)
        res = fit_params(data.subset(tr), free, base, name=f"cv-fold{f}", **fit_kw)
        oof[te] = data.subset(te).predict(res.params)
        fits.append(res)
    return oof, fits


def fit_provenance(res: FitResult, free: Sequence[str], profile_method: str, data_note: str,
                   cv: dict | None = None) -> dict:
    """Provenance block for a shipped parameter set."""
    import scipy

    return {"fitted_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "free": list(free), "profile_method": profile_method, "data": data_note,
            "n_rows": res.n_rows, "train_mae": res.train_mae,
            "train_pearson_r": res.train_pearson_r, "scipy": scipy.__version__,
            "optimizer": "scipy.optimize.least_squares(loss='soft_l1', f_scale=0.3)",
            "nfev": res.nfev, "cv": cv or {}}


#: How the shipped parameter set is made: the fixed choices of the base set and the fitted ones
#: (chosen by polymer-grouped CV in bench/oracle_vs_experiment.py --levers; docs/oracle.md).
RECIPE: dict = {"name": "xtbfit-2", "base": {"combinatorial": "fh"},
                "free": ["es", "hb", "sigma_hb", "fv", "ww"]}
#: The previous recipe (shipped as ``xtbfit-1``: no water split), kept for the record.
RECIPE_XTBFIT_1: dict = {"name": "xtbfit-1", "base": {"combinatorial": "fh"},
                         "free": ["es", "hb", "sigma_hb", "fv"]}


def recipe_base(recipe: dict | None = None) -> CosmoSacParams:
    """The starting/fixed parameter set of a recipe (default :data:`RECIPE`)."""
    r = RECIPE if recipe is None else recipe
    return SAC2010.with_values(name=r["name"], provenance={}, **r.get("base", {}))
