"""Error kinds and result records of the oracle.

The oracle never raises past a batch: a per-molecule calculation returns a
:class:`ProfileOutcome` that carries either a profile or a machine-readable ``reason`` and a
human-readable ``message``; a chi evaluation returns a :class:`ChiResult` in the same spirit.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from chiscreen.errors import OracleError


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
        return {
            "polymer": self.polymer, "solvent": self.solvent, "t_kelvin": self.t_kelvin,
            "chi": self.chi, "spread": self.spread, "chi_calibrated": self.chi_calibrated,
            "status": "ok" if self.ok else "failed", "reason": self.reason,
            "message": self.message, **self.extra,
        }
