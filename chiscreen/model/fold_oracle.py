"""chi_oracle labels for a held-out evaluation: the oracle recipe refitted on each fold's training rows.

The shipped oracle labels (``chiscreen/assets/oracle_labels/chi_oracle.parquet``) were computed
with a parameter set fitted to the experimental chi of *every* reference polymer, so a model
trained on them has seen, through its chi_oracle task, information about the experimental chi of
any polymer later held out. The strict protocol of a held-out evaluation therefore refits the
recipe's free parameters (:data:`chiscreen.qc.fit.RECIPE`) on the experimental rows that the fold
trains on, and recomputes every chi_oracle label from the stored sigma profiles
(:class:`~chiscreen.model.oracle_labels.OracleRelabeler`; no xtb runs, about 10 s per refit).

    fo = FoldOracle(data, store=None, fit_cache=None)   # store default: $CHISCREEN_CACHE/oracle
    fold_data = fo.relabel(keep)                        # keep: bool (len(table),) training rows

Fits are cached on disk by the exact set of training rows (``fit-<key>.json`` +
``fit-<key>.params.json``; the key is the one ``bench/model_eval.py`` uses, so both share fits).
Rows whose molecules have no stored profile lose their chi_oracle label in that fold.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Callable

import numpy as np

from chiscreen.errors import InvalidInputError
from chiscreen.model.data import TrainingData
from chiscreen.schema import POLYMER_KEY, SOLVENT_KEY, TEMPERATURE_K

#: label-table source of the experimental chi rows (data_Chi.csv)
EXP_SOURCE = "mtl_chi/data_Chi.csv"


#: share of the chi_oracle pairs whose profiles must be in the store (below it: the wrong store)
MIN_PROFILE_SHARE = 0.99

#: version of the refit itself (2: the water split's candidates enter the fit; fits made before,
#: when OracleRelabeler left them out and the water parameters had no effect, are not reused)
FIT_VERSION = 2


def fit_key(polymers, solvents, temperatures_K, recipe: dict | None = None) -> str:
    """Cache key of a refit: sha256 of the sorted (polymer|solvent|T) rows it was fitted on, with
    the recipe and :data:`FIT_VERSION` in front (bench/model_eval.py uses the same key)."""
    from chiscreen.qc.fit import RECIPE

    r = RECIPE if recipe is None else recipe
    ident = "\n".join(sorted(f"{p}|{s}|{T:.3f}" for p, s, T in zip(polymers, solvents, temperatures_K)))
    ident = f"fit-version {FIT_VERSION}\n" + json.dumps(r, sort_keys=True) + "\n" + ident
    return hashlib.sha256(ident.encode()).hexdigest()[:16]


def cached_fit(rl, cache: Path, polymers, solvents, temperatures_K, chi, log: Callable[[str], None]):
    """(key, params, info): the recipe fitted with ``rl`` (an OracleRelabeler) on these rows, read
    from ``cache`` (``fit-<key>.json`` + ``fit-<key>.params.json``) or fitted and written there."""
    from chiscreen.qc.fit import RECIPE
    from chiscreen.qc.params import CosmoSacParams

    T = np.asarray(temperatures_K, dtype=float)
    key = fit_key(polymers, solvents, T)
    f = Path(cache) / f"fit-{key}.json"
    pf = Path(cache) / f"fit-{key}.params.json"
    if f.is_file() and pf.is_file():
        return key, CosmoSacParams.load(str(pf)), json.loads(f.read_text())["info"]
    res = rl.fit(polymers, solvents, T, np.asarray(chi, dtype=float), name=f"fold-{key}")
    params = res.params
    info = {"recipe": RECIPE, "n_rows": res.n_rows, "n_polymers": res.n_polymers,
            "train_mae": res.train_mae, "seconds": res.seconds, "params": params.numeric_dict()}
    Path(cache).mkdir(parents=True, exist_ok=True)
    params.save(str(pf))
    f.write_text(json.dumps({"info": info}, default=float))
    log(f"  oracle refit on {res.n_polymers} training polymers ({res.n_rows} rows, "
        f"{res.seconds:.0f} s): train MAE {res.train_mae:.3f}")
    return key, params, info


class FoldOracle:
    """Per-fold refit and relabelling of the chi_oracle task (module docstring).

    Args:
        data: the full training data (all folds' rows); must carry chi_oracle rows.
        store: profile store folder (default ``$CHISCREEN_CACHE/oracle``) or a ProfileStore.
        fit_cache: folder for the cached refits (default ``$CHISCREEN_CACHE/oracle-fits``).
        log: message sink.

    Raises InvalidInputError if the data has no chi_oracle rows, or if the store lacks the profiles
    of more than 1 % of their (polymer, solvent) pairs (none: e.g. a fresh machine; some: another
    store than the one the labels were computed from) (the labels could not be recomputed: the strict protocol needs the
    profiles, e.g. from ``python jobs/oracle_campaign.py``).
    """

    def __init__(self, data: TrainingData, store=None, fit_cache: str | Path | None = None,
                 log: Callable[[str], None] | None = None) -> None:
        from chiscreen.model.oracle_labels import OracleRelabeler
        from chiscreen.paths import cache_dir

        t = data.table
        if "chi_oracle" not in t or not t["chi_oracle"].notna().any():
            raise InvalidInputError("the strict oracle protocol needs chi_oracle rows in the training data")
        self.data = data
        self.log = log or (lambda m: None)
        self.rl = OracleRelabeler(store)
        self.cache = Path(fit_cache) if fit_cache is not None else Path(cache_dir("oracle-fits"))
        self.is_exp = (t["source"] == EXP_SOURCE).to_numpy()
        self.is_oracle = t["chi_oracle"].notna().to_numpy()
        pk = t[POLYMER_KEY].to_numpy()[self.is_oracle]
        sk = t[SOLVENT_KEY].to_numpy()[self.is_oracle]
        pairs = sorted(set(zip(pk, sk)))
        ok = self.rl.available([p for p, _ in pairs], [s for _, s in pairs])
        self.n_pairs, self.n_pairs_with_profiles = len(pairs), int(ok.sum())
        if not ok.any():
            raise InvalidInputError(
                f"strict oracle protocol: {self.rl.store!r} holds no profile for the "
                f"{len(pairs)} (polymer, solvent) pairs of the chi_oracle rows; compute them "
                "(python jobs/oracle_campaign.py, docs/oracle-campaign.md) and pass --oracle-store, or "
                "pass --oracle-labels as-shipped for the (optimistic) shipped labels")
        if self.n_pairs_with_profiles < MIN_PROFILE_SHARE * len(pairs):
            raise InvalidInputError(
                f"strict oracle protocol: {self.rl.store!r} holds profiles for only {self.n_pairs_with_profiles} "
                f"of the {len(pairs)} (polymer, solvent) pairs of the chi_oracle rows: the other rows would "
                "silently leave the task; point --oracle-store at the store the labels were computed from")
        self._chi: dict[str, np.ndarray] = {}
        self.fits: dict[str, dict] = {}

    def fit_for(self, train_exp: np.ndarray):
        """(key, params, info) of the recipe fitted on the experimental rows where ``train_exp``."""
        t = self.data.table
        rows = np.flatnonzero(np.asarray(train_exp, bool) & self.is_exp)
        key, params, info = cached_fit(self.rl, self.cache, t[POLYMER_KEY].to_numpy()[rows],
                                       t[SOLVENT_KEY].to_numpy()[rows], t[TEMPERATURE_K].to_numpy(dtype=float)[rows],
                                       t["chi"].to_numpy(dtype=float)[rows], self.log)
        self.fits[key] = {k: info[k] for k in ("n_rows", "n_polymers", "train_mae") if k in info}
        return key, params, info

    def relabel(self, keep: np.ndarray) -> TrainingData:
        """The full data with every chi_oracle label recomputed under the recipe refitted on the
        experimental rows where ``keep`` (the fold's training rows). NaN (no label) where a
        molecule has no stored profile."""
        key, params, _ = self.fit_for(keep)
        if key not in self._chi:
            t = self.data.table
            chi = self.rl.chi(t[POLYMER_KEY].to_numpy(), t[SOLVENT_KEY].to_numpy(),
                              t[TEMPERATURE_K].to_numpy(dtype=float), params)
            self._chi[key] = np.where(self.is_oracle, chi, np.nan)
        return self.data.with_task_values("chi_oracle", self._chi[key])
