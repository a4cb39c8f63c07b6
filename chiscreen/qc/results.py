"""Error kinds and result records of the oracle.

The oracle never raises past a batch: a per-molecule calculation returns a
:class:`ProfileOutcome` that carries either a profile or a machine-readable ``reason`` and a
human-readable ``message``; a chi evaluation returns a :class:`ChiResult` in the same spirit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from chiscreen.errors import OracleError
from chiscreen.schema import (
    CHI, CHI_CALIBRATED, CHI_ORACLE, CHI_ORACLE_SPREAD, MESSAGE, POLYMER_SMILES, REASON, SOLVENT_SMILES, SOURCE,
    SOURCE_ROW, SPREAD, STATUS, TEMPERATURE_K,
)


class Reason(str, Enum):
    """Why a molecule has no profile."""

    INVALID_INPUT = "invalid_input"          #: SMILES could not be parsed / built
    EMBEDDING_FAILED = "embedding_failed"    #: RDKit could not embed a 3D geometry
    SCF_NOT_CONVERGED = "scf_not_converged"  #: the xtb SCF did not converge
    ENGINE_UNAVAILABLE = "engine_unavailable"  #: the requested xtb package is not installed
    TIMEOUT = "timeout"                      #: the per-molecule time limit was exceeded
    WORKER_CRASHED = "worker_crashed"        #: the worker process died (segfault, OOM)
    ERROR = "error"                          #: anything else (message has the details)


class EmbeddingError(OracleError):
    """RDKit could not generate a 3D conformer."""

    reason = Reason.EMBEDDING_FAILED


class SCFError(OracleError):
    """The xtb self-consistent field did not converge."""

    reason = Reason.SCF_NOT_CONVERGED


class EngineUnavailableError(OracleError):
    """The requested xtb engine is not installed or failed to load."""

    reason = Reason.ENGINE_UNAVAILABLE


class OracleTimeoutError(OracleError):
    """A calculation ran past its time limit."""

    reason = Reason.TIMEOUT


def reason_of(exc: BaseException) -> Reason:
    """Map an exception to a :class:`Reason`."""
    r = getattr(exc, "reason", None)
    if isinstance(r, Reason):
        return r
    from chiscreen.errors import InvalidInputError

    if isinstance(exc, InvalidInputError):
        return Reason.INVALID_INPUT
    if isinstance(exc, TimeoutError):
        return Reason.TIMEOUT
    return Reason.ERROR


@dataclass(slots=True)
class ChiResult:
    """chi of one (polymer, solvent, T) from the oracle.

    Attributes:
        polymer: canonical repeat-unit SMILES (or the input when it could not be parsed).
        solvent: canonical solvent SMILES (or the input).
        t_kelvin: temperature, K.
        chi: Flory-Huggins chi (dimensionless), or None when it could not be computed.
        spread: conformer spread of chi: standard error of the conformer-averaged chi
            (std over the per-conformer chi values / sqrt(n_conformers), polymer and solvent
            conformers combined in quadrature); 0 for single-conformer profiles. None on failure.
        chi_calibrated: chi mapped through a fitted calibration, if one was given.
        reason: why chi is None (a :class:`Reason` value), else None.
        message: details of the failure.
    """

    polymer: str
    solvent: str
    t_kelvin: float
    chi: float | None = None
    spread: float | None = None
    chi_calibrated: float | None = None
    reason: str | None = None
    message: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.chi is not None

    def to_dict(self) -> dict:
        """One row of an oracle results table (column names of :mod:`chiscreen.schema`)."""
        return {
            POLYMER_SMILES: self.polymer, SOLVENT_SMILES: self.solvent, TEMPERATURE_K: self.t_kelvin,
            CHI: self.chi, SPREAD: self.spread, CHI_CALIBRATED: self.chi_calibrated,
            STATUS: "ok" if self.ok else "failed", REASON: self.reason,
            MESSAGE: self.message, **self.extra,
        }


def label_rows(results, value: str = CHI, source: str = "oracle"):
    """Training label rows of oracle results: the table the ``chi_oracle`` task trains on.

    Args:
        results: a sequence of :class:`ChiResult` or an oracle results table (a DataFrame as
            ``chiscreen oracle batch`` writes it; the old column names polymer / solvent /
            t_kelvin are read with a note).
        value: which oracle value becomes the label: "chi" (raw COSMO-SAC) or "chi_calibrated".
        source: provenance written into the ``source`` column.
    Returns:
        DataFrame with polymer_smiles, solvent_smiles (canonical), temperature_K (K), chi_oracle,
        chi_oracle_spread, source, source_row (position in ``results``), one row per result
        that has a value; failed results carry no label and are left out.
    Raises MissingColumnError when a table lacks a needed column; InvalidInputError for ``value``.
    """
    import numpy as np
    import pandas as pd

    from chiscreen.errors import InvalidInputError, MissingColumnError
    from chiscreen.schema import rename_old

    if value not in (CHI, CHI_CALIBRATED):
        raise InvalidInputError(f"oracle label value {value!r}; expected {CHI!r} or {CHI_CALIBRATED!r}")
    if isinstance(results, pd.DataFrame):
        df = rename_old(results, source=source)
    else:
        df = pd.DataFrame([r.to_dict() for r in results],
                          columns=[POLYMER_SMILES, SOLVENT_SMILES, TEMPERATURE_K, CHI, SPREAD, CHI_CALIBRATED])
    need = [POLYMER_SMILES, SOLVENT_SMILES, TEMPERATURE_K, value]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise MissingColumnError(f"{source}: oracle results lack column(s) {missing}; columns are {list(df.columns)}")
    y = pd.to_numeric(df[value], errors="coerce").to_numpy(dtype=float)
    keep = np.flatnonzero(np.isfinite(y))
    spread = (pd.to_numeric(df[SPREAD], errors="coerce").to_numpy(dtype=float) if SPREAD in df.columns
              else np.full(len(df), np.nan))
    return pd.DataFrame({
        POLYMER_SMILES: df[POLYMER_SMILES].to_numpy(dtype=object)[keep],
        SOLVENT_SMILES: df[SOLVENT_SMILES].to_numpy(dtype=object)[keep],
        TEMPERATURE_K: pd.to_numeric(df[TEMPERATURE_K], errors="coerce").to_numpy(dtype=float)[keep],
        CHI_ORACLE: y[keep],
        CHI_ORACLE_SPREAD: spread[keep],
        SOURCE: source,
        SOURCE_ROW: keep.astype(np.int64),
    })
