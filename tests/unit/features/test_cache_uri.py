"""The descriptor cache on a pyarrow filesystem URI: what cluster workers write, the driver reads."""
import numpy as np
import pytest

from chiscreen.features.cache import CacheLocationError, DescriptorCache


def test_cache_on_a_file_uri_appends_parts_readable_from_a_path(tmp_path):
    uri = (tmp_path / "c").as_uri()
    a = DescriptorCache("rdkit2d_periodic", "1", "periodic", root=uri)
    b = DescriptorCache("rdkit2d_periodic", "1", "periodic", root=uri)
    a.append([("*CC*", "ok", "", np.arange(3, dtype=np.float32))])
    b.append([("*CC(*)C", "failed", "timeout: exceeded 30 s", None)])
    a.append([])  # nothing: no file
    parts = sorted(p.name for p in (tmp_path / "c").rglob("*.parquet"))
    assert len(parts) == 2 and all(p.startswith("part-") for p in parts)
    local = DescriptorCache("rdkit2d_periodic", "1", "periodic", root=tmp_path / "c")
    got = local.load()
    assert got["*CC*"][0] == "ok" and np.array_equal(got["*CC*"][2], [0, 1, 2])
    assert got["*CC(*)C"] == ("failed", "timeout: exceeded 30 s", None)
    assert local.path == a.path


def test_bad_cache_uri_is_one_clear_error():
    with pytest.raises(CacheLocationError, match="nosuchfs://x"):
        DescriptorCache("rdkit2d", "1", "cyclic:3", root="nosuchfs://x")
