"""Featurize lists of polymers or solvents, cached and guarded, into a :class:`FeatureTable`."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from chiscreen.chem import canonical_key
from chiscreen.errors import ChiscreenError, InvalidInputError
from chiscreen.features.base import get_featurizer
from chiscreen.features.cache import DescriptorCache
from chiscreen.features.guard import GuardedResult, run_guarded, run_inline
from chiscreen.features.representation import (
    DEFAULT_POLYMER_REPRESENTATION,
    SOLVENT_REPRESENTATION,
    parse_representation,
)

_FLUSH_EVERY = 256


@dataclass
class FeatureTable:
    """Features of N input molecules, aligned with the inputs.

    Attributes:
        kind: "polymer" or "solvent".
        featurizer, version, representation: what produced ``X``.
        inputs: the SMILES as given, length N.
        keys: canonical identity per input (None where the input was invalid).
        status: "ok", "invalid" (bad SMILES) or "failed" (featurization failed), length N.
        reason: why, for rows that are not ok ("" otherwise).
        X: float32 array (N, F); rows that are not ok are all-NaN.
        feature_names: F names.
    """

    kind: str
    featurizer: str
    version: str
    representation: str
    inputs: list[str]
    keys: list[str | None]
    status: list[str]
    reason: list[str]
    X: np.ndarray
    feature_names: list[str] = field(default_factory=list)
    seconds_computed: float = 0.0
    n_computed: int = 0

    @property
    def ok(self) -> np.ndarray:
        return np.array([s == "ok" for s in self.status], dtype=bool)

    def __len__(self) -> int:
        return len(self.inputs)

    def report(self) -> pd.DataFrame:
        """One row per input: smiles, key, status, reason."""
        return pd.DataFrame({"smiles": self.inputs, "key": self.keys, "status": self.status, "reason": self.reason})


def featurize(
    smiles: Sequence[str],
    kind: str,
    featurizer: str = "rdkit2d",
    representation: str | None = None,
    cache_root: str | Path | None = None,
    use_cache: bool = True,
    n_jobs: int = 2,
    timeout_s: float = 30.0,
    mem_limit_mb: int | None = 3000,
    guarded: bool = True,
    retry_failed: bool = False,
    progress: bool = True,
    assume_canonical: bool = False,
) -> FeatureTable:
    """Featurize polymers (repeat units) or solvents.

    Invalid SMILES never raise: they come back with status "invalid" and the parser's reason.
    Molecules are computed once per canonical identity, in ``n_jobs`` guarded worker processes
    (per-molecule ``timeout_s`` wall time and ``mem_limit_mb`` address space), and cached.

    Args:
        smiles: repeat units with two '*' (kind="polymer") or molecules (kind="solvent").
        representation: polymer representation (default ``cyclic:3``); ignored for solvents.
        guarded: False computes in-process (no timeout protection; for tiny inputs).
        assume_canonical: inputs are already canonical identities (e.g. a catalog's
            ``canonical`` column): skip re-canonicalization, which costs ~1-5 ms per polymer.
    """
    if kind not in ("polymer", "solvent"):
        raise InvalidInputError(f"unknown molecule kind {kind!r}, expected 'polymer' or 'solvent'")
    rep = SOLVENT_REPRESENTATION if kind == "solvent" else (representation or DEFAULT_POLYMER_REPRESENTATION)
    if kind == "polymer":
        parse_representation(rep)
    fz = get_featurizer(featurizer)
    inputs = [s if isinstance(s, str) else str(s) for s in smiles]
    keys: list[str | None] = []
    status: list[str] = []
    reason: list[str] = []
    for s in inputs:
        if assume_canonical:
            keys.append(s)
            status.append("ok")
            reason.append("")
            continue
        try:
            keys.append(canonical_key(kind, s))
            status.append("ok")
            reason.append("")
        except ChiscreenError as exc:
            keys.append(None)
            status.append("invalid")
            reason.append(str(exc))

    cache = DescriptorCache(fz.name, fz.version, rep, root=cache_root) if use_cache else None
    known = cache.load() if cache is not None else {}
    uniq = list(dict.fromkeys(k for k in keys if k is not None))
    todo = [k for k in uniq if k not in known or (retry_failed and known[k][0] != "ok")]
    results: dict[str, tuple[str, str, np.ndarray | None]] = {k: known[k] for k in uniq if k not in todo}

    seconds = 0.0
    if todo:
        items = [(fz.name, kind, k, rep) for k in todo]
        runner = run_guarded(items, n_jobs=n_jobs, timeout_s=timeout_s, mem_limit_mb=mem_limit_mb) if guarded else run_inline(items)
        pending: list[tuple[str, str, str, np.ndarray | None]] = []
        bar = tqdm(total=len(todo), desc=f"featurize {kind}s ({rep})", unit="mol", disable=None if progress else True,
                   file=sys.stderr, leave=False)
        try:
            for r in runner:
                r: GuardedResult
                seconds += r.seconds
                key = todo[r.index]
                row = (key, "ok", "", r.values) if r.values is not None else (key, "failed", r.reason, None)
                results[key] = row[1:]
                pending.append(row)
                bar.update(1)
                if cache is not None and len(pending) >= _FLUSH_EVERY:
                    cache.put(pending)
                    pending = []
        finally:
            bar.close()
            if cache is not None and pending:
                cache.put(pending)

    X = np.full((len(inputs), len(fz)), np.nan, dtype=np.float32)
    for i, k in enumerate(keys):
        if k is None:
            continue
        st, why, vals = results[k]
        if st == "ok":
            X[i] = vals
        else:
            status[i] = "failed"
            reason[i] = why
    return FeatureTable(
        kind=kind, featurizer=fz.name, version=fz.version, representation=rep, inputs=inputs,
        keys=keys, status=status, reason=reason, X=X, feature_names=fz.feature_names,
        seconds_computed=seconds, n_computed=len(todo),
    )
