"""featurize: {where, cache_uri, ...} in a screen config: validation with one clear message."""
import pytest

from chiscreen.config import from_dict
from chiscreen.errors import ConfigError
from chiscreen.screen import FeaturizeOptions, ScreenConfig


def test_defaults_stay_on_the_driver_with_the_user_cache():
    o = FeaturizeOptions()
    assert o.where == "driver" and o.root is None


@pytest.mark.parametrize("fields, words", [
    ({"where": "gpu"}, "featurize.where = 'gpu'"),
    ({"cache_uri": "/shared/cache"}, "not a filesystem URI"),
    ({"cache_uri": "file:///a", "cache": "/b"}, "both set"),
    ({"timeout_s": 0}, "featurize.timeout_s"),
    ({"mem_limit_mb": -1}, "featurize.mem_limit_mb"),
    ({"batch_size": 0}, "featurize.batch_size"),
])
def test_bad_featurize_options_name_the_key(fields, words):
    with pytest.raises(ConfigError, match=words.replace("(", r"\(")):
        FeaturizeOptions(**fields)


def test_cluster_featurization_needs_the_ray_engine():
    with pytest.raises(ConfigError, match="needs engine.kind = 'ray'"):
        from_dict(ScreenConfig, {"engine": {"kind": "plain"}, "featurize": {"where": "cluster"}})
    cfg = from_dict(ScreenConfig, {"featurize": {"where": "cluster", "cache_uri": "file:///tmp/x"}})
    assert cfg.featurize.root == "file:///tmp/x"


def test_unknown_featurize_key_is_refused():
    with pytest.raises(ConfigError, match="cache_url"):
        from_dict(ScreenConfig, {"featurize": {"cache_url": "file:///tmp/x"}})
