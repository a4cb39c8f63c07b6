import numpy as np
import pytest
from sklearn.preprocessing import PowerTransformer

from chiscreen.errors import InvalidInputError
from chiscreen.model.scaling import DescriptorScaler


def _data(seed=0):
    rng = np.random.default_rng(seed)
    X = np.column_stack([rng.lognormal(size=50), rng.normal(size=50) * 3 - 1, np.full(50, 2.0), rng.exponential(size=50)])
    return X


def test_matches_sklearn_and_drops_constant():
    X = _data()
    sc = DescriptorScaler.fit(X, clip=100)
    assert sc.keep.tolist() == [True, True, False, True]
    ref = PowerTransformer().fit_transform(X[:, sc.keep])
    np.testing.assert_allclose(sc.transform(X), ref, rtol=1e-4, atol=1e-4)


def test_nan_imputed_with_training_median_and_roundtrip():
    X = _data()
    X[3, 0] = np.nan
    sc = DescriptorScaler.fit(X)
    Y = sc.transform(np.array([[np.nan, 0.0, 2.0, 1.0]]))
    Z = sc.transform(np.array([[sc.median[0], 0.0, 2.0, 1.0]]))
    np.testing.assert_allclose(Y, Z)
    sc2 = DescriptorScaler.from_arrays(sc.to_arrays("p"), "p")
    np.testing.assert_array_equal(sc2.transform(X), sc.transform(X))


def test_extreme_values_are_clipped_and_shape_checked():
    sc = DescriptorScaler.fit(_data(), clip=8.0)
    Y = sc.transform(np.array([[1e30, -1e30, 2.0, np.inf]]))
    assert np.all(np.isfinite(Y)) and np.abs(Y).max() <= 8.0
    with pytest.raises(InvalidInputError):
        sc.transform(np.zeros((2, 3)))


def test_yeo_johnson_whole_matrix_form_equals_case_by_case():
    """The vectorised transform gives bit-identical values to the case-by-case (masked) form,
    including lambda = 0 and lambda = 2 columns and signed zeros."""
    from chiscreen.model.scaling import _yeo_johnson_masked, yeo_johnson

    rng = np.random.default_rng(4)
    X = rng.standard_normal((300, 12)) * 3
    X[0, :] = 0.0
    X[1, :] = -0.0
    lam = np.array([0.0, 2.0, 1.0, -1.5, 0.5, 3.0, 1e-17, 2.0 - 1e-17, -0.2, 1.7, 0.0, 2.0])
    got = yeo_johnson(X, lam)
    want = _yeo_johnson_masked(X, np.broadcast_to(lam, X.shape))
    assert np.array_equal(got, want, equal_nan=True)
    from sklearn.preprocessing import PowerTransformer

    pt = PowerTransformer(method="yeo-johnson", standardize=False)
    pt.lambdas_ = lam
    np.testing.assert_allclose(got, pt.transform(X), rtol=1e-12, atol=1e-12)
