import json

import numpy as np
import pytest
import torch

from chiscreen.errors import ArtifactError
from chiscreen.features import get_featurizer
from chiscreen.model import ChiEnsemble, artifact_hash, load_ensemble, save_artifact

NF = len(get_featurizer("rdkit2d"))


@pytest.fixture()
def saved(tmp_path):
    ens = ChiEnsemble.random(NF, NF, n_members=2, d=4, seed=3)
    ens.std_scale = {"chi_exp": 1.7, "chi_comp": 1.1}
    save_artifact(ens, tmp_path / "m", metrics={"r2": 0.5})
    return ens, tmp_path / "m"


def test_roundtrip(saved):
    ens, path = saved
    assert sorted(p.name for p in path.iterdir()) == ["config.json", "metrics.json", "scalers.npz", "weights.pt"]
    got = load_ensemble(path)
    assert artifact_hash(got) == artifact_hash(ens)
    assert got.std_scale["chi_exp"] == 1.7 and got.metrics == {"r2": 0.5}
    X = np.random.default_rng(0).normal(size=(3, NF)).astype(np.float32)
    torch.testing.assert_close(got.encode_polymers(X), ens.encode_polymers(X))


def test_corrupt_weights(saved):
    _, path = saved
    data = bytearray((path / "weights.pt").read_bytes())
    data[-10] ^= 0xFF
    (path / "weights.pt").write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="weights.pt: corrupt"):
        load_ensemble(path)


def test_corrupt_config(saved):
    _, path = saved
    (path / "config.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="config.json"):
        load_ensemble(path)


def test_featurizer_version_mismatch(saved):
    _, path = saved
    cfg = json.loads((path / "config.json").read_text())
    cfg["featurizer"]["version"] = "999"
    (path / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(ArtifactError, match="featurizer rdkit2d v999"):
        load_ensemble(path)


def test_missing_dir(tmp_path):
    with pytest.raises(ArtifactError, match="not a directory"):
        load_ensemble(tmp_path / "nope")
