"""Open quantum-chemistry oracle: GFN2-xTB -> COSMO cavity -> sigma profiles -> COSMO-SAC 2010
-> Flory-Huggins chi(T).

Layers (each a module): geometry (RDKit conformers), engines (tblite / xtb-python behind
``ENGINES``), cavity (surface + conductor solve), sigma (profiles), cosmosac (activity
coefficients), chi (Flory-Huggins), profile (per-molecule pipeline), store (npz profile store),
parallel (serial / process / Ray runners), calibrate (fitted chi map), oracle (the API).
Importing this package never starts Ray and never imports tblite or xtb.
"""
from chiscreen.qc.calibrate import Calibration
from chiscreen.qc.chi import chi_flory_huggins, chi_matrix, flory_huggins_chi
from chiscreen.qc.engines import DEFAULT_ENGINE, ENGINES, engines_available, make_engine
from chiscreen.qc.oracle import Oracle, conformer_spread
from chiscreen.qc.parallel import RunOptions, init_ray, run_profile_tasks
from chiscreen.qc.profile import (PIPELINE_VERSION, ProfileOutcome, ProfileRecord, ProfileSpec,
                                  compute_profile, profile_task)
from chiscreen.qc.results import (ChiResult, EmbeddingError, EngineUnavailableError,
                                  OracleTimeoutError, Reason, SCFError)
from chiscreen.qc.sigma import SigmaProfile
from chiscreen.qc.store import ProfileStore

__all__ = [
    "Calibration", "ChiResult", "DEFAULT_ENGINE", "ENGINES", "EmbeddingError",
    "EngineUnavailableError", "Oracle", "OracleTimeoutError", "PIPELINE_VERSION",
    "ProfileOutcome", "ProfileRecord", "ProfileSpec", "ProfileStore", "Reason", "RunOptions",
    "SCFError", "SigmaProfile", "chi_flory_huggins", "chi_matrix", "compute_profile",
    "conformer_spread", "engines_available", "flory_huggins_chi", "init_ray", "make_engine",
    "profile_task", "run_profile_tasks",
]
