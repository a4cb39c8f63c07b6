"""Fixtures of the model tests."""
import numpy as np
import pytest


@pytest.fixture
def profile_store():
    """A ProfileStore in memory with synthetic sigma profiles of polymers *C0*..*C2* and solvents
    S0..S2 and water "O" (areas and hydrogen-bonding peaks differ, so every parameter of the oracle matters)."""
    from chiscreen.qc.profile import ProfileRecord, ProfileSpec
    from chiscreen.qc.sigma import SigmaProfile
    from chiscreen.qc.store import ProfileStore

    spec = ProfileSpec()
    rng = np.random.default_rng(1)
    grid = np.linspace(-0.025, 0.025, 51)
    st = ProfileStore(None)

    def put(kind, key, area, hb):
        p = np.zeros((3, 51))
        p[0] = np.exp(-0.5 * ((grid - rng.normal(0, 0.002)) / 0.006) ** 2)
        p[1] = hb * (np.exp(-0.5 * ((grid + 0.015) / 0.003) ** 2) + np.exp(-0.5 * ((grid - 0.016) / 0.003) ** 2))
        p[p < 1e-3 * p.max()] = 0.0
        p *= area / p.sum()
        prof = SigmaProfile(p, area, 1.1 * area)
        st.put(ProfileRecord(kind, key, spec.engine, spec.method_version, [prof], np.zeros(1), np.ones(1), prof))

    for i in range(3):
        put("polymer", f"*C{i}*", 600.0 + 150 * i, 0.05 * i)
    for j in range(3):
        put("solvent", f"S{j}", 90.0 + 30 * j, 0.1 * j)
    put("solvent", "O", 40.0, 0.3)  # water: all its hydroxyl candidates are water-type (OW)
    return st
