"""The oracle: chi(T) of polymer/solvent pairs from GFN2-xTB -> COSMO -> COSMO-SAC 2010.

    from chiscreen.qc import Oracle, ProfileSpec, RunOptions
    oracle = Oracle(ProfileSpec(), store="~/.cache/chiscreen/profiles")
    res = oracle.chi("*CC(*)c1ccccc1", "Cc1ccccc1", 298.15)        # ChiResult
    rows = oracle.chi_batch(pairs, [298.15, 323.15], RunOptions(backend="process"))

Profiles are computed once per molecule (per engine and method version) and kept in a
:class:`~chiscreen.qc.store.ProfileStore`; chi for a (pair, T) whose profiles are stored costs
about a millisecond (two segment-activity solves, cached per (molecule, T)) and a few
microseconds once those are cached. Temperatures are Kelvin floats, or strings with a unit
("25C", "298.15K") parsed by :func:`chiscreen.units.parse_temperature`.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import Iterable, Sequence

import numpy as np

from chiscreen.errors import ChiscreenError, OracleError
from chiscreen.qc.calibrate import Calibration
from chiscreen.qc.chi import chi_from_terms
from chiscreen.qc.cosmosac import segment_ln_gamma
from chiscreen.qc.params import CosmoSacParams, get_params, resplit, water_split_profile
from chiscreen.qc.parallel import RunOptions, run_profile_tasks
from chiscreen.qc.profile import ProfileOutcome, ProfileRecord, ProfileSpec, water_candidates_of
from chiscreen.qc.results import ChiResult, Reason, reason_of
from chiscreen.qc.sigma import SIGMA_HB, SigmaProfile
from chiscreen.qc.store import ProfileStore, StoreKey
from chiscreen.units import parse_temperature

Molecule = tuple[str, str]  # (kind, smiles)


def conformer_spread(values: np.ndarray, weights: np.ndarray) -> float:
    """Standard error of a conformer-combined value: std(values, ddof=1) / sqrt(n_eff) with
    n_eff = 1 / sum(w^2) (n for equal weights, 1 for the lowest conformer only); 0 if n < 2."""
    v = np.asarray(values, dtype=float)
    if v.size < 2:
        return 0.0
    w = np.asarray(weights, dtype=float)
    w = w / w.sum()
    return float(np.std(v, ddof=1) * math.sqrt(float(np.sum(w * w))))


class Oracle:
    """Profiles on demand plus fast chi from stored profiles.

    Args:
        spec: profile settings (engine, conformers, ...); its ``method_version`` keys the store.
        store: a ProfileStore, a directory for one, or None for an in-memory store.
        calibration: optional fitted map; when given, results carry ``chi_calibrated``.
        recompute_failed: retry molecules whose failure is recorded in the store.
        params: COSMO-SAC parameter set (a :class:`~chiscreen.qc.params.CosmoSacParams`, a
            shipped name such as ``"sac2010"`` or a JSON path); None = the shipped default
            (:func:`~chiscreen.qc.params.get_params`). It acts on stored profiles only, so
            switching it never recomputes a profile.
    """

    def __init__(self, spec: ProfileSpec | None = None, store: ProfileStore | str | None = None,
                 calibration: Calibration | None = None, recompute_failed: bool = False,
                 params: CosmoSacParams | str | None = None) -> None:
        self.spec = spec or ProfileSpec()
        self.params = get_params(params)
        self._split: dict[tuple, tuple[SigmaProfile, list[SigmaProfile]]] = {}
        self.store = store if isinstance(store, ProfileStore) else ProfileStore(store)
        self.calibration = calibration
        self.recompute_failed = recompute_failed
        self._canon: dict[Molecule, str] = {}
        self._terms: OrderedDict[tuple[StoreKey, float], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._max_terms = 20000

    # ------------------------------------------------------------------ identities
    def canonical(self, kind: str, smiles: str) -> str:
        """Canonical identity of a molecule (raises InvalidInputError subclasses)."""
        m = (kind, smiles)
        if m not in self._canon:
            if kind in ("polymer", "solvent"):
                from chiscreen.chem import canonical_key

                self._canon[m] = canonical_key(kind, smiles)
            else:
                from chiscreen.qc.geometry import molecule_with_h

                self._canon[m] = molecule_with_h(kind, smiles)[0]
        return self._canon[m]

    def key(self, kind: str, smiles: str) -> StoreKey:
        return (kind, self.canonical(kind, smiles), self.spec.engine, self.spec.method_version)

    # ------------------------------------------------------------------ profiles
    def ensure_profiles(self, molecules: Iterable[Molecule],
                        options: RunOptions = RunOptions()) -> dict[Molecule, ProfileOutcome]:
        """Make sure every molecule has a stored profile, computing the missing ones with
        ``options`` (backend, workers, timeout, retries). Returns an outcome per input molecule
        (stored ones come back with ``seconds=0``); nothing raises for a bad molecule."""
        out: dict[Molecule, ProfileOutcome] = {}
        todo: dict[StoreKey, list[Molecule]] = {}
        for mol in dict.fromkeys(molecules):
            kind, smiles = mol
            try:
                key = self.key(kind, smiles)
            except Exception as exc:
                out[mol] = ProfileOutcome(kind, smiles, None, reason_of(exc).value,
                                          f"{type(exc).__name__}: {exc}", attempts=0)
                continue
            rec = self.store.get(key)
            if rec is not None:
                out[mol] = ProfileOutcome(kind, smiles, rec, attempts=0)
                continue
            fail = None if self.recompute_failed else self.store.get_failure(key)
            if fail is not None:
                out[mol] = ProfileOutcome(kind, smiles, None, fail["reason"], fail["message"],
                                          attempts=0)
                continue
            todo.setdefault(key, []).append(mol)
        keys = list(todo)
        tasks = [todo[k][0] for k in keys]

        def on_result(i: int, res: ProfileOutcome) -> None:
            key = keys[i]
            if res.record is None:
                res.message = self.describe_failure(res.kind, res.smiles, res.message,
                                                    res.reason, options.timeout_s)
            if res.record is not None:
                res.record.canonical = key[1]  # identity as the driver computed it
                self.store.put(res.record)
            elif res.reason not in (Reason.TIMEOUT.value, Reason.WORKER_CRASHED.value):
                self.store.put_failure(key, res.reason or Reason.ERROR.value, res.message,
                                       res.smiles)
            for mol in todo[key]:
                out[mol] = res

        run_profile_tasks(tasks, self.spec, options, on_result)
        return out

    def describe_failure(self, kind: str, smiles: str, message: str, reason: str | None = None,
                         timeout_s: float | None = None) -> str:
        """The failure message in words. An out-of-memory error from C++ code arrives as an
        empty "MemoryError: " or "vector::reserve" / "bad_alloc"; say which molecule was too
        large (the polymer's cyclic n-mer and its atom count) instead."""
        text = message or ""
        if reason == Reason.TIMEOUT.value and timeout_s is not None:
            return f"{self._size_words(kind, smiles)}: no result within the time limit of {timeout_s:g} s (run.timeout_s)"
        low = text.lower()
        if reason == Reason.WORKER_CRASHED.value and "exit code -9" in low:
            return (f"{self._size_words(kind, smiles)}: the worker was killed (exit code -9), most likely "
                    "for running out of memory")
        if not any(k in low for k in ("memoryerror", "bad_alloc", "vector::reserve", "cannot allocate",
                                      "out of memory", "length_error")):
            return text
        what = text.split(":", 1)[0].strip() or "MemoryError"
        return (f"{self._size_words(kind, smiles)}: too large for the memory available to build or compute it "
                f"({what}); a smaller repeat unit or fewer units (profile.n_units) may work")

    def _size_words(self, kind: str, smiles: str) -> str:
        """"the cyclic 10-mer of this unit has 340 atoms" (polymers) or "this molecule has 12
        atoms" (hydrogens counted); never raises."""
        try:
            from rdkit import Chem

            mol = Chem.MolFromSmiles(smiles)
            n = sum(1 + a.GetTotalNumHs() for a in mol.GetAtoms() if a.GetAtomicNum() > 0)
        except Exception:
            return f"{kind} {smiles}"
        if kind == "polymer":
            k = self.spec.n_units
            return f"the cyclic {k}-mer of the unit {smiles} has {n * k:,} atoms"
        return f"{kind} {smiles} has {n:,} atoms"

    def record(self, kind: str, smiles: str) -> ProfileRecord:
        """The stored profile record of a molecule, computed now (serially) if missing.
        Raises OracleError (or an input error) when it cannot be made."""
        res = self.ensure_profiles([(kind, smiles)])[(kind, smiles)]
        if res.record is None:
            raise OracleError(f"no profile for {kind} {smiles!r}: {res.reason}: {res.message}")
        return res.record

    # ------------------------------------------------------------------ chi
    def provenance(self, polymer: ProfileRecord | None = None,
                   solvent: ProfileRecord | None = None) -> dict:
        """What a chi value depends on: profile method(s) and parameter-set version."""
        d = {"profile_engine": self.spec.engine, "profile_method": self.spec.method_version,
             "param_set": self.params.version}
        if self.params.profile_method is not None:
            d["param_set_fitted_on"] = self.params.profile_method
        for name, rec in (("polymer", polymer), ("solvent", solvent)):
            if rec is not None and rec.method_version != self.spec.method_version:
                d[f"{name}_profile_method"] = rec.method_version
        return d

    def profiles_of(self, rec: ProfileRecord) -> tuple[SigmaProfile, list[SigmaProfile]]:
        """(combined profile, conformer profiles) of a record as the parameter set sees them
        (re-split for its HB width, with the OW row of water-type hydroxyls for a set with a
        water split; cached)."""
        sh = self.params.sigma_hb
        water = self.params.water_split
        if sh == SIGMA_HB and not water:
            return rec.profile, rec.conformers
        key = (rec.kind, rec.canonical, rec.engine, rec.method_version, sh,
               self.params.sigma_hb_ow if water else None)
        hit = self._split.get(key)
        if hit is None:
            if water:
                sw = self.params.sigma_hb_ow
                ow, ow_c = water_candidates_of(rec)
                hit = (water_split_profile(rec.profile, ow, sh, sw),
                       [water_split_profile(c, o, sh, sw) for c, o in zip(rec.conformers, ow_c)])
            else:
                hit = (resplit(rec.profile, sh), [resplit(c, sh) for c in rec.conformers])
            self._split[key] = hit
        return hit

    def _segment_terms(self, rec: ProfileRecord, t: float, conformers: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """ln Gamma of the record's combined liquid (153,) and, if ``conformers``, of each
        conformer's liquid (n_conf, 153); cached per (molecule, T)."""
        key = ((rec.kind, rec.canonical, rec.engine, rec.method_version), t, self.params.digest)
        hit = self._terms.get(key)
        if hit is not None and (hit[1] is not None or not conformers):
            self._terms.move_to_end(key)
            return hit
        prof, cprofs = self.profiles_of(rec)
        mw = self.params.minus_dw(t)
        comb = hit[0] if hit is not None else segment_ln_gamma(
            prof.p.ravel() / prof.area, t, minus_dw=mw)
        confs = None
        if conformers:
            confs = (np.stack([segment_ln_gamma(c.p.ravel() / c.area, t, minus_dw=mw, y0=comb)
                               for c in cprofs])
                     if rec.n_conformers > 1 else comb[None, :])
        self._terms[key] = (comb, confs)
        self._terms.move_to_end(key)
        if len(self._terms) > self._max_terms:
            self._terms.popitem(last=False)
        return comb, confs

    def chi_from_records(self, polymer: ProfileRecord, solvent: ProfileRecord,
                         t_kelvin: float, spread: bool = True) -> tuple[float, float | None]:
        """(chi, conformer spread) of a pair of stored records at ``t_kelvin`` (K). The spread
        needs one extra segment solve per conformer and (molecule, T) (cached); with
        ``spread=False`` it is None and a new (pair, T) costs two solves (~1 ms)."""
        t = float(t_kelvin)
        gs, gs_c = self._segment_terms(solvent, t, spread)
        gp, gp_c = self._segment_terms(polymer, t, spread)
        (ps, ps_c), (pp, pp_c) = self.profiles_of(solvent), self.profiles_of(polymer)
        ck = {"combinatorial": self.params.combinatorial, "fv_ln_ratio": self.params.fv_ln_ratio}
        chi = float(chi_from_terms(ps.p.ravel(), ps.area, ps.volume, gs, pp.area, pp.volume, gp,
                                   **ck))
        if not spread:
            return chi, None
        var = 0.0
        assert gs_c is not None and gp_c is not None
        if polymer.n_conformers > 1:
            a = np.array([c.area for c in pp_c])
            v = np.array([c.volume for c in pp_c])
            vals = chi_from_terms(ps.p.ravel()[None, :], ps.area, ps.volume, gs[None, :], a, v, gp_c,
                                  **ck)
            var += conformer_spread(vals, polymer.weights) ** 2
        if solvent.n_conformers > 1:
            p = np.stack([c.p.ravel() for c in ps_c])
            a = np.array([c.area for c in ps_c])
            v = np.array([c.volume for c in ps_c])
            vals = chi_from_terms(p, a, v, gs_c, pp.area, pp.volume, gp[None, :], **ck)
            var += conformer_spread(vals, solvent.weights) ** 2
        return chi, math.sqrt(var)

    def _result(self, polymer: str, solvent: str, t: float,
                outcomes: dict[Molecule, ProfileOutcome], polymer_kind: str,
                spread: bool = True, solvent_kind: str = "solvent") -> ChiResult:
        po = outcomes.get((polymer_kind, polymer))
        so = outcomes.get((solvent_kind, solvent))
        pid = po.record.canonical if po is not None and po.record is not None else polymer
        sid = so.record.canonical if so is not None and so.record is not None else solvent
        for name, o in (("polymer", po), ("solvent", so)):
            if o is None or o.record is None:
                reason = o.reason if o is not None else Reason.ERROR.value
                msg = o.message if o is not None else "not computed"
                return ChiResult(pid, sid, t, reason=reason, message=f"{name}: {msg}")
        try:
            chi, sd = self.chi_from_records(po.record, so.record, t, spread)
        except ChiscreenError as exc:
            return ChiResult(pid, sid, t, reason=reason_of(exc).value, message=str(exc))
        cal = float(self.calibration.apply(chi)) if self.calibration is not None else None
        return ChiResult(pid, sid, t, chi, sd, cal,
                         extra=self.provenance(po.record, so.record))

    def chi(self, polymer: str, solvent: str, temperature: float | str,
            polymer_kind: str = "polymer", spread: bool = True,
            solvent_kind: str = "solvent", options: RunOptions | None = None) -> ChiResult:
        """chi of one pair. ``temperature``: Kelvin float or a string with unit. Computes missing
        profiles with ``options`` (default: serially, in this process, where no time limit can
        apply; give ``RunOptions(backend="process", workers=1, timeout_s=...)`` for one that
        does). Raises TemperatureError for a bad temperature; molecule failures come
        back as a ChiResult with ``reason``. ``polymer_kind="molecule"`` takes the polymer SMILES
        as a ready-made oligomer (likewise ``solvent_kind="molecule"``: SMILES atom order kept)."""
        t = parse_temperature(temperature)
        outcomes = self.ensure_profiles([(polymer_kind, polymer), (solvent_kind, solvent)],
                                        options if options is not None else RunOptions())
        return self._result(polymer, solvent, t, outcomes, polymer_kind, spread, solvent_kind)

    def chi_rows(self, rows: Sequence[tuple[str, str, float | str]],
                 options: RunOptions = RunOptions(), polymer_kind: str = "polymer",
                 spread: bool = True, solvent_kind: str = "solvent") -> list[ChiResult]:
        """chi for each (polymer, solvent, temperature) row, in order; missing profiles are
        computed first with ``options`` (all molecules of the batch together). Bad
        temperatures raise TemperatureError before any work starts."""
        temps = [parse_temperature(r[2]) for r in rows]
        mols: list[Molecule] = []
        for p, s, _ in rows:
            mols += [(polymer_kind, p), (solvent_kind, s)]
        outcomes = self.ensure_profiles(mols, options)
        return [self._result(p, s, t, outcomes, polymer_kind, spread, solvent_kind)
                for (p, s, _), t in zip(rows, temps)]

    def chi_batch(self, pairs: Sequence[tuple[str, str]], temperatures: Sequence[float | str],
                  options: RunOptions = RunOptions(), polymer_kind: str = "polymer",
                  spread: bool = True, solvent_kind: str = "solvent") -> list[ChiResult]:
        """chi for every pair x every temperature (pair-major order)."""
        return self.chi_rows([(p, s, t) for p, s in pairs for t in temperatures], options,
                             polymer_kind, spread, solvent_kind)

    def chi_grid(self, polymers: Sequence[str], solvents: Sequence[str],
                 temperatures: Sequence[float | str], options: RunOptions = RunOptions(),
                 spread: bool = False, polymer_kind: str = "polymer",
                 solvent_kind: str = "solvent") -> tuple[np.ndarray, np.ndarray | None,
                                                           dict[Molecule, ProfileOutcome]]:
        """Vectorised chi for every polymer x solvent x temperature.

        Returns (chi, spread, outcomes): chi of shape (n_polymers, n_solvents, n_temps) with NaN
        where a profile is missing (the outcomes say why), the conformer spread of the same
        shape (or None unless ``spread``), and the per-molecule outcomes.
        """
        temps = [parse_temperature(t) for t in temperatures]
        mols = [(polymer_kind, p) for p in polymers] + [(solvent_kind, s) for s in solvents]
        outcomes = self.ensure_profiles(mols, options)
        chi = np.full((len(polymers), len(solvents), len(temps)), np.nan)
        sd = np.full_like(chi, np.nan) if spread else None
        srecs = [outcomes[(solvent_kind, s)].record for s in solvents]
        ok_s = [j for j, r in enumerate(srecs) if r is not None]
        if ok_s:
            sprof = [self.profiles_of(srecs[j])[0] for j in ok_s]
            p_s = np.stack([sp.p.ravel() for sp in sprof])          # (S, 153)
            a_s = np.array([sp.area for sp in sprof])
            v_s = np.array([sp.volume for sp in sprof])
        for k, t in enumerate(temps):
            if not ok_s:
                break
            g_s = np.stack([self._segment_terms(srecs[j], t, False)[0] for j in ok_s])
            for i, p in enumerate(polymers):
                prec = outcomes[(polymer_kind, p)].record
                if prec is None:
                    continue
                g_p = self._segment_terms(prec, t, False)[0]
                pprof = self.profiles_of(prec)[0]
                chi[i, ok_s, k] = chi_from_terms(p_s, a_s, v_s, g_s, pprof.area, pprof.volume,
                                                 g_p[None, :], self.params.combinatorial,
                                                 self.params.fv_ln_ratio)
                if sd is not None:
                    for j in ok_s:
                        sd[i, j, k] = self.chi_from_records(prec, srecs[j], t, True)[1]
        return chi, sd, outcomes
