"""One exception hierarchy for chiscreen.

Every error raised on purpose by the library derives from :class:`ChiscreenError`, so callers
(and the CLI, which turns them into exit code 2 and a one-line message) can catch them all.
Messages say what was got and what was expected, and name the row, key or file involved.
"""
from __future__ import annotations


class ChiscreenError(Exception):
    """Base class of every error chiscreen raises on purpose."""


class InvalidInputError(ChiscreenError, ValueError):
    """User input that cannot be used as given (SMILES, table, temperature, option)."""


class InvalidSmilesError(InvalidInputError):
    """A SMILES string RDKit cannot parse or sanitize."""


class InvalidPolymerError(InvalidSmilesError):
    """A polymer repeat unit that is not a valid unit with exactly two attachment points."""


class InvalidSolventError(InvalidSmilesError):
    """A solvent SMILES that is not a single valid molecule."""


class TemperatureError(InvalidInputError):
    """A temperature outside the physical range chiscreen accepts, or in an unknown unit."""


class MissingColumnError(InvalidInputError, KeyError):
    """A table lacks a column chiscreen needs."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class ConfigError(InvalidInputError):
    """A configuration file or mapping with unknown keys or bad values."""


class RegistryError(ChiscreenError, KeyError):
    """A name that is not registered (featurizer, engine, acquisition, ...)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class FeaturizationError(ChiscreenError):
    """A molecule could not be featurized (timeout, memory, RDKit failure)."""


class DataNotFoundError(ChiscreenError, FileNotFoundError):
    """Reference data could not be located; the message says where chiscreen looked."""


class DownloadError(ChiscreenError):
    """A download failed or its checksum did not match."""


class ArtifactError(ChiscreenError):
    """A model artifact or checkpoint is missing, corrupt or incompatible."""


class OracleError(ChiscreenError):
    """The quantum-chemistry oracle could not produce a value."""


class ScreenError(ChiscreenError):
    """A screening job could not run or would mix incompatible outputs."""
