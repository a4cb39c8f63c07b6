"""GFN2-xTB engines behind one registry.

An engine turns a geometry (atomic numbers, positions in Angstrom) into atomic partial charges
(e), optionally atomic dipoles (e*bohr) and the total energy (hartree), in implicit water so that
the charges are polarised as in the COSMO (conductor) reference state.

- ``tblite`` (default): tblite's Python API, ALPB(water), charges and atomic dipoles from its
  ``xtbml_xyz`` post-processing. The dipoles are what makes the sigma profiles good.
- ``xtb-python``: PyPI ``xtb`` (libxtb 6.5), implicit water, charges only.

Both are imported lazily, so importing this module never fails for a missing package; use
:func:`engines_available` to see what is installed.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from typing import Iterator, Protocol

import numpy as np

from chiscreen.errors import OracleError
from chiscreen.qc.cavity import BOHR
from chiscreen.qc.results import EngineUnavailableError, SCFError
from chiscreen.registry import Registry


@dataclass(slots=True)
class Electronic:
    """Electronic-structure result for one geometry.

    Attributes:
        charges: atomic partial charges, e, shape (n_atoms,).
        dipoles: atomic dipoles, e*bohr, shape (n_atoms, 3), or None (charges-only engines).
        energy: total energy including solvation, hartree.
    """

    charges: np.ndarray
    dipoles: np.ndarray | None
    energy: float


class XtbEngine(Protocol):
    """What an engine provides. Constructors take keyword options only."""

    name: str

    def compute(self, numbers: np.ndarray, positions: np.ndarray) -> Electronic:
        """Charges (+ dipoles) and energy for atoms ``numbers`` (n,) at ``positions`` (n, 3) A.

        Raises SCFError if the SCF does not converge, EngineUnavailableError if the package is
        missing, OracleError for other engine failures.
        """
        ...

    def energy_and_gradient(self, numbers: np.ndarray, positions: np.ndarray) -> tuple[float, np.ndarray]:
        """Energy (hartree) and gradient (hartree/Angstrom), shape (n, 3)."""
        ...


ENGINES: Registry[type] = Registry("xtb engine")
DEFAULT_ENGINE = "tblite"


def _dist_version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


@ENGINES.register("tblite")
class TbliteEngine:
    """tblite (GFN2-xTB, ALPB water) with atomic dipoles from the xtbml post-processing.

    Args:
        method: tblite method name ("GFN2-xTB" or "GFN1-xTB").
        solvent: ALPB solvent name, or None for the gas phase.
        dipoles: also return atomic dipoles (requires tblite >= 0.4 post-processing).
        max_iter: SCF iteration limit.
        accuracy: tblite numerical accuracy (lower is tighter).
    """

    name = "tblite"
    dist = "tblite"

    def __init__(self, *, method: str = "GFN2-xTB", solvent: str | None = "water",
                 dipoles: bool = True, max_iter: int = 250, accuracy: float = 1.0) -> None:
        self.method, self.solvent, self.dipoles = method, solvent, dipoles
        self.max_iter, self.accuracy = max_iter, accuracy

    @classmethod
    def version(cls) -> str | None:
        return _dist_version(cls.dist)

    def _calculator(self, numbers: np.ndarray, positions: np.ndarray, post: bool):
        try:
            from tblite.interface import Calculator
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise EngineUnavailableError(f"tblite is not installed: {exc}") from exc
        calc = Calculator(self.method, np.asarray(numbers, dtype=int),
                          np.asarray(positions, dtype=float) / BOHR)
        calc.set("verbosity", 0)
        calc.set("max-iter", int(self.max_iter))
        calc.set("accuracy", float(self.accuracy))
        if self.solvent:
            calc.add("alpb-solvation", self.solvent)
        if post:
            calc.add("xtbml_xyz")
        return calc

    def _run(self, calc):
        try:
            return calc.singlepoint()
        except Exception as exc:  # tblite raises TBLiteRuntimeError
            msg = str(exc)
            if "not converged" in msg.lower() or "scf" in msg.lower():
                raise SCFError(f"tblite: {msg}") from exc
            raise OracleError(f"tblite failed: {msg}") from exc

    def compute(self, numbers: np.ndarray, positions: np.ndarray) -> Electronic:
        res = self._run(self._calculator(numbers, positions, post=self.dipoles))
        energy = float(res.get("energy"))
        if self.dipoles:
            d = res.get("post-processing-dict")
            q = np.asarray(d["q_A"], dtype=float)
            mu = np.c_[d["dipm_A_x"], d["dipm_A_y"], d["dipm_A_z"]].astype(float)
            return Electronic(q, mu, energy)
        return Electronic(np.asarray(res.get("charges"), dtype=float), None, energy)

    def energy_and_gradient(self, numbers: np.ndarray, positions: np.ndarray) -> tuple[float, np.ndarray]:
        res = self._run(self._calculator(numbers, positions, post=False))
        return float(res.get("energy")), np.asarray(res.get("gradient"), dtype=float) / BOHR


@contextlib.contextmanager
def _in_temp_dir() -> Iterator[None]:
    """Run inside a fresh temporary directory (libxtb may write files such as gfnff_*)."""
    old = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="chiscreen-xtb-") as tmp:
        os.chdir(tmp)
        try:
            yield
        finally:
            os.chdir(old)


@ENGINES.register("xtb-python")
class XtbPythonEngine:
    """xtb-python (PyPI ``xtb``, libxtb 6.5): GFN2-xTB in implicit water, charges only.

    Args:
        method: "GFN2-xTB", "GFN1-xTB" or "GFNFF" (GFN-FF writes files: runs in a temp dir).
        solvent: implicit solvent name, or None for the gas phase.
        max_iter: SCF iteration limit.
        accuracy: xtb numerical accuracy (lower is tighter).
    """

    name = "xtb-python"
    dist = "xtb"

    def __init__(self, *, method: str = "GFN2-xTB", solvent: str | None = "water",
                 max_iter: int = 250, accuracy: float = 1.0) -> None:
        self.method, self.solvent = method, solvent
        self.max_iter, self.accuracy = max_iter, accuracy

    @classmethod
    def version(cls) -> str | None:
        return _dist_version(cls.dist)

    def _singlepoint(self, numbers: np.ndarray, positions: np.ndarray):
        try:
            from xtb.interface import Calculator
            from xtb.libxtb import VERBOSITY_MUTED
            from xtb.utils import get_method, get_solvent
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise EngineUnavailableError(f"xtb-python is not installed: {exc}") from exc
        param = get_method(self.method)
        if param is None:
            raise OracleError(f"xtb-python does not know method {self.method!r}")
        calc = Calculator(param, np.asarray(numbers, dtype=int),
                          np.asarray(positions, dtype=float) / BOHR)
        calc.set_verbosity(VERBOSITY_MUTED)
        calc.set_max_iterations(int(self.max_iter))
        calc.set_accuracy(float(self.accuracy))
        if self.solvent:
            solv = get_solvent(self.solvent)
            if solv is None:
                raise OracleError(f"xtb-python does not know solvent {self.solvent!r}")
            calc.set_solvent(solv)
        try:
            if "ff" in self.method.lower():
                with _in_temp_dir():
                    return calc.singlepoint()
            return calc.singlepoint()
        except Exception as exc:  # xtb.interface.XTBException
            msg = " ".join(str(exc).split())
            if "converge" in msg.lower():
                raise SCFError(f"xtb-python: {msg}") from exc
            raise OracleError(f"xtb-python failed: {msg}") from exc

    def compute(self, numbers: np.ndarray, positions: np.ndarray) -> Electronic:
        res = self._singlepoint(numbers, positions)
        return Electronic(np.asarray(res.get_charges(), dtype=float), None,
                          float(res.get_energy()))

    def energy_and_gradient(self, numbers: np.ndarray, positions: np.ndarray) -> tuple[float, np.ndarray]:
        res = self._singlepoint(numbers, positions)
        return float(res.get_energy()), np.asarray(res.get_gradient(), dtype=float) / BOHR


def make_engine(name: str = DEFAULT_ENGINE, **options) -> XtbEngine:
    """Instantiate a registered engine; unknown names raise RegistryError, unknown options
    raise TypeError from the constructor."""
    return ENGINES[name](**options)


def engines_available() -> dict[str, str | None]:
    """Engine name -> installed package version, or None when it cannot be imported."""
    out: dict[str, str | None] = {}
    for name in ENGINES.keys():
        cls = ENGINES[name]
        try:
            if name == "tblite":
                import tblite.interface  # noqa: F401
            elif name == "xtb-python":
                import xtb.interface  # noqa: F401
            out[name] = cls.version() or "unknown"
        except Exception:  # ImportError, or a shared library that fails to load
            out[name] = None
    return out
