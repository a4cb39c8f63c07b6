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


def _edit(path, fn):
    cfg = json.loads((path / "config.json").read_text())
    fn(cfg)
    (path / "config.json").write_text(json.dumps(cfg))


def test_missing_hash_is_an_error_unless_trusted(saved):
    ens, path = saved
    _edit(path, lambda c: c.pop("artifact_hash"))
    with pytest.raises(ArtifactError, match="no artifact_hash.*--trust-unsigned"):
        load_ensemble(path)
    got = load_ensemble(path, trust_unsigned=True)
    assert artifact_hash(got) == artifact_hash(ens)


def test_missing_checksums_are_an_error_unless_trusted(saved):
    _, path = saved
    _edit(path, lambda c: c.pop("files"))
    with pytest.raises(ArtifactError, match="no checksum"):
        load_ensemble(path)
    load_ensemble(path, trust_unsigned=True)


@pytest.mark.parametrize("field,edit", [
    ("std_scale", lambda c: c["std_scale"].update(chi_exp=c["std_scale"]["chi_exp"] * 5)),
    ("activation", lambda c: c["model"].update(activation="sigmoid" if c["model"]["activation"] != "sigmoid" else "tanh")),
    ("target_scaling", lambda c: c.update(target_scaling={"chi_exp": {"mean": 1.0, "std": 2.0}})),
    ("featurizer names", lambda c: c["feature_names_polymer"].append("extra")),
])
def test_any_edited_field_is_caught_even_with_trust_unsigned(saved, field, edit):
    _, path = saved
    _edit(path, edit)
    for trust in (False, True):
        with pytest.raises(ArtifactError, match="does not match its contents"):
            load_ensemble(path, trust_unsigned=trust)


def test_hash_follows_std_scale_and_weights_in_memory():
    ens = ChiEnsemble.random(NF, NF, n_members=2, d=4, seed=3)
    h0 = artifact_hash(ens)
    ens.std_scale["chi_exp"] = 2.0
    h1 = artifact_hash(ens)
    with torch.no_grad():
        ens.net.head.bias[0, 0, 0] += 1e-3
    h2 = artifact_hash(ens)
    assert len({h0, h1, h2}) == 3


def test_cli_refuses_an_unsigned_model(saved, capsys):
    from chiscreen.cli.main import main

    _, path = saved
    _edit(path, lambda c: c.pop("artifact_hash"))
    argv = ["predict", "--polymer", "*CC(*)c1ccccc1", "--solvent", "Cc1ccccc1", "--model", str(path), "--json"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "no artifact_hash" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert main(argv + ["--trust-unsigned"]) == 0
    _edit(path, lambda c: c.update(artifact_hash="0" * 16))
    assert main(argv + ["--trust-unsigned"]) == 2


def test_writes_format_2_with_tasks(saved):
    _, path = saved
    cfg = json.loads((path / "config.json").read_text())
    assert cfg["format_version"] == 2 and cfg["tasks"] == ["soluble", "chi_comp", "chi_exp"]


def test_ensemble_attribute_alias_is_never_stale():
    ens = ChiEnsemble.random(NF, NF, n_members=2, d=4, seed=3)
    assert ens.artifact_hash == artifact_hash(ens)
    ens.std_scale["chi_comp"] = 3.0
    assert ens.artifact_hash == artifact_hash(ens)
