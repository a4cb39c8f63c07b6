"""prepare_inputs -> run_shards -> finalize: the prepared inputs and their scorer are reusable."""
import numpy as np
import pandas as pd
import pytest

from chiscreen.errors import ScreenError
from chiscreen.screen import EngineConfig, QueryConfig, ScreenConfig, SelectiveQuery
from chiscreen.screen.job import prepare_inputs, run_screen


def _cfg(**kw):
    return ScreenConfig(temperatures=["25C", "100C"], query=QueryConfig(keep_all=True, **kw),
                        engine=EngineConfig(kind="plain", shard_size=64))


def test_prepared_scorer_reproduces_the_screen(tmp_path, ens, problem):
    pol, sol, Xp, Xs = problem
    cfg = _cfg()
    res = run_screen(cfg, out=str(tmp_path / "s"), ensemble=ens, descriptors=(Xp, Xs), catalogs=(pol, sol),
                     progress=False)
    prep = prepare_inputs(cfg, ens, [298.15, 373.15], 0.5, catalogs=(pol, sol), descriptors=(Xp, Xs), progress=False)
    assert len(prep.pi) == res.manifest.n_polymers and prep.Us.shape[1] == len(prep.si)
    rows = prep.pi[:7]  # e.g. an active-learning candidate batch: no re-featurizing, no re-encoding of solvents
    r = prep.scorer(ens).score(prep.polymer_latents(ens, rows))
    chi = r.chi.numpy()  # (P, T, S)
    pairs = pd.read_parquet(tmp_path / "s" / "pairs")
    want = pairs[pairs.polymer_id.isin(prep.pids[:7])].sort_values(["polymer_id", "T_K", "solvent_id"])
    assert np.allclose(chi.reshape(-1), want.chi.to_numpy(), atol=1e-5)


def test_unknown_selective_polymer_fails_before_featurizing(tmp_path, ens, problem):
    pol, sol, Xp, Xs = problem
    cfg = _cfg(selective=[SelectiveQuery(name="q", dissolve=["synthetic polymer 5"], exclude=["nylon-unobtainium"])])
    with pytest.raises(ScreenError, match="selective query 'q'.*nylon-unobtainium.*not in the catalog"):
        prepare_inputs(cfg, ens, [298.15], 0.5, catalogs=(pol, sol), descriptors=None, progress=False)
