"""chi_oracle labels recomputed from stored sigma profiles, for a parameter set fitted on chosen polymers.

The oracle's shipped parameter set (``xtbfit-1``) was fitted to the experimental chi of every
reference polymer. A held-out evaluation must not use it: its labels carry information about the
test polymers' experimental chi. :class:`OracleRelabeler` refits the recipe's free parameters
(:data:`chiscreen.qc.fit.RECIPE`) on the experimental rows of the training polymers only and
recomputes chi from the profiles in a :class:`~chiscreen.qc.ProfileStore` (no xtb: a (pair, T)
costs a dot product once each (molecule, T) liquid is solved).

    rl = OracleRelabeler()          # the default store ($CHISCREEN_CACHE/oracle), or OracleRelabeler(store_dir)
    params = rl.fit(exp_polymer_keys, exp_solvent_keys, exp_T_K, exp_chi)   # training polymers only
    chi = rl.chi(polymer_keys, solvent_keys, T_K, params)                    # NaN: profile missing

Keys are the canonical identities of the label table (``polymer_key`` / ``solvent_key``), which
are the store's canonical identities for kinds "polymer" / "solvent". Nothing here computes a
profile: a molecule without a stored profile gives NaN.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from chiscreen.qc.fit import RECIPE, FitData, fit_params, recipe_base
from chiscreen.qc.params import SAC2010, CosmoSacParams
from chiscreen.qc.profile import ProfileSpec
from chiscreen.qc.store import ProfileStore


@dataclass
class OracleFit:
    """A parameter set fitted on some polymers' experimental chi and the fit's figures."""

    params: CosmoSacParams
    n_rows: int
    n_polymers: int
    train_mae: float
    seconds: float


class OracleRelabeler:
    """chi_oracle from stored profiles under any parameter set (see module docstring).

    Args:
        store: profile store (folder or ProfileStore); None: the oracle's default store,
            ``$CHISCREEN_CACHE/oracle`` (where ``chiscreen oracle`` and the campaign write).
        spec: the profile method whose profiles are used (default ``ProfileSpec()``).
        method_version: profiles of this method version (default ``spec.method_version``).
    """

    def __init__(self, store: str | ProfileStore | None = None, spec: ProfileSpec | None = None,
                 method_version: str | None = None) -> None:
        if store is None:
            from chiscreen.paths import cache_dir

            store = cache_dir("oracle")
        self.store = store if isinstance(store, ProfileStore) else ProfileStore(store)
        self.spec = spec or ProfileSpec()
        self.method_version = method_version or self.spec.method_version
        self._prof: dict = {}
        self._water: dict = {}

    def profile(self, kind: str, key: str):
        """Combined stored profile of a molecule (canonical key), or None if not stored."""
        k = (kind, key)
        if k not in self._prof:
            from chiscreen.qc.profile import water_candidates_of

            rec = self.store.get((kind, key, self.spec.engine, self.method_version))
            self._prof[k] = rec.profile if rec is not None else None
            if rec is not None:
                self._water[k] = water_candidates_of(rec)[0]
        return self._prof[k]

    def water(self, kind: str, key: str):
        """Water-type hydroxyl HB candidates (51,) A^2 of a stored molecule (zeros for most
        molecules; see :func:`chiscreen.qc.profile.water_candidates_of`), or None if not stored.
        Parameter sets with a water split (``xtbfit-2``) need them."""
        self.profile(kind, key)
        return self._water.get((kind, key))

    def available(self, polymer_keys: Sequence[str], solvent_keys: Sequence[str]) -> np.ndarray:
        """bool (n,): both molecules of the row have a stored profile."""
        return np.array([self.profile("polymer", p) is not None and self.profile("solvent", s) is not None
                         for p, s in zip(polymer_keys, solvent_keys)], dtype=bool)

    def _data(self, pk, sk, T, y) -> tuple[FitData, np.ndarray]:
        ok = self.available(pk, sk)
        idx = np.flatnonzero(ok)
        rows = [(("polymer", pk[i]), ("solvent", sk[i]), float(T[i]), float(y[i])) for i in idx]
        profs, water = {}, {}
        for (p, s, _, _) in rows:
            for m in (p, s):
                profs[m] = self.profile(*m)
                water[m] = self.water(*m)
        return FitData.build(rows, profs, water=water), idx

    def fit(self, polymer_keys, solvent_keys, T_K, chi_exp, recipe: dict | None = None,
            name: str = "fold-fit") -> OracleFit:
        """Fit the recipe's free parameters (default :data:`RECIPE`: ``xtbfit-1``'s) to
        ``chi_exp`` on the rows given (the caller passes the training polymers' rows only).
        Rows without profiles are left out. Raises OracleError if no row has profiles."""
        import time

        t0 = time.perf_counter()
        pk, sk = list(polymer_keys), list(solvent_keys)
        data, idx = self._data(pk, sk, np.asarray(T_K, float), np.asarray(chi_exp, float))
        r = recipe or RECIPE
        res = fit_params(data, list(r["free"]), recipe_base(r), name=name)
        return OracleFit(res.params, res.n_rows, len({pk[i] for i in idx}), res.train_mae,
                         time.perf_counter() - t0)

    def chi(self, polymer_keys, solvent_keys, T_K, params: CosmoSacParams | None = None) -> np.ndarray:
        """chi (n,) of every (polymer, solvent, T in K) row under ``params`` (default: the
        2010 literature set, i.e. the raw oracle); NaN where a profile is missing."""
        pk, sk = list(polymer_keys), list(solvent_keys)
        T = np.asarray(T_K, dtype=float)
        out = np.full(len(pk), np.nan)
        if not len(pk):
            return out
        data, idx = self._data(pk, sk, T, np.zeros(len(pk)))
        if len(idx):
            out[idx] = data.predict(params or SAC2010)
        return out


def linear_calibration(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares (a, b) of y ~ a + b x on the finite rows (b = 0 if x is constant)."""
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if len(x) < 2 or np.std(x) < 1e-12:
        return float(np.mean(y)) if len(y) else 0.0, 0.0
    b, a = np.polyfit(x, y, 1)
    return float(a), float(b)


def predict_task_rows_x(ens, data, rows: np.ndarray, task: str = "chi_exp"):
    """Like :func:`chiscreen.model.calibration.predict_task_rows` (mean and raw ensemble std of
    ``task`` for label-table rows ``rows``), for a model trained with pair inputs: the rows'
    ``data.pair_x`` are added to the head outputs. Works for descriptor-only models too.
    Returns a DataFrame with columns row, y, pred, std, temperature_K."""
    import pandas as pd
    import torch

    import chiscreen.model.tasks as _tasks
    from chiscreen.schema import TEMPERATURE_K

    r = data.tasks[task]
    pos = {int(x): i for i, x in enumerate(r.row)}
    sel = np.array([pos[int(x)] for x in rows], dtype=np.int64)
    with torch.no_grad():
        Up = ens.encode_polymers(data.Xp[r.pi[sel]])
        Us = ens.encode_solvents(data.Xs[r.si[sel]])
        Y = ens.pair_outputs(Up, Us)
        if getattr(ens.net, "n_pair", 0):
            x = torch.from_numpy(np.asarray(data.pair_x, np.float32)[np.asarray(rows)]).to(Y.device)
            Y = Y + ens.net.pair_term(x)
        Y = Y.double().cpu().numpy()
    T = r.T[sel]
    spec = _tasks.get_task(task)
    if spec.is_chi:
        v = ens.chi_from_outputs(Y, T[None, :], task)
    else:
        z = Y[..., ens.outputs.index(spec.outputs[0])]
        v = 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))
    std = v.std(0, ddof=1) if v.shape[0] > 1 else np.zeros(v.shape[1])
    return pd.DataFrame({"row": rows, "y": r.y[sel], "pred": v.mean(0), "std": std, TEMPERATURE_K: T})
