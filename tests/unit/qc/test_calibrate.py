"""Calibration fit, JSON round trip, provenance."""
from __future__ import annotations

import numpy as np
import pytest

from chiscreen.errors import ArtifactError, ConfigError
from chiscreen.qc import Calibration


def test_linear_recovers_map(tmp_path):
    x = np.linspace(-1, 4, 50)
    cal = Calibration.fit(x, 0.5 * x + 0.1, "linear", provenance={"train_polymers": ["*CC*"]})
    assert cal.params["slope"] == pytest.approx(0.5)
    assert cal.params["intercept"] == pytest.approx(0.1)
    assert cal.provenance["n_rows"] == 50 and cal.provenance["train_polymers"] == ["*CC*"]
    back = Calibration.load(cal.save(tmp_path / "cal.json"))
    np.testing.assert_allclose(back.apply([0.0, 2.0]), [0.1, 1.1])


def test_isotonic_is_monotone_and_clipped(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 5, 200)
    y = np.sqrt(x) + rng.normal(0, 0.1, 200)
    cal = Calibration.fit(x, y, "isotonic")
    grid = np.linspace(-2, 8, 100)
    pred = Calibration.load(cal.save(tmp_path / "iso.json")).apply(grid)
    assert np.all(np.diff(pred) >= -1e-12)
    assert pred[0] == pytest.approx(cal.params["y"][0]) and pred[-1] == pytest.approx(cal.params["y"][-1])


def test_bad_inputs(tmp_path):
    with pytest.raises(ConfigError):
        Calibration.fit([1, 2, 3], [1, 2, 3], "spline")
    with pytest.raises(ConfigError):
        Calibration.fit([1, 2], [1, 2], "linear")
    p = tmp_path / "x.json"
    p.write_text('{"hello": 1}')
    with pytest.raises(ArtifactError):
        Calibration.load(p)
