from __future__ import annotations

import pytest

from chiscreen.model import ChiEnsemble
from chiscreen.screen.synthetic import synthetic_catalogs

N_FEATURES = 16


@pytest.fixture(scope="module")
def ens():
    return ChiEnsemble.random(N_FEATURES, N_FEATURES, n_members=5, d=8, seed=0)


@pytest.fixture(scope="module")
def problem():
    """(polymers, solvents, Xp, Xs): 230 synthetic polymers (3 invalid) x 40 solvents."""
    return synthetic_catalogs(230, 40, N_FEATURES, seed=1, n_invalid=3)
