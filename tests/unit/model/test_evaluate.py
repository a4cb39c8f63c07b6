import numpy as np
import pandas as pd

from chiscreen.model.evaluate import regression_metrics, summarize, uncertainty_metrics


def test_regression_metrics():
    m = regression_metrics([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert m["r2"] == 1.0 and m["rmse"] == 0.0 and m["n"] == 3
    m = regression_metrics([1.0, 2.0, 3.0, np.nan], [2.0, 2.0, 2.0, 1.0])
    assert m["n"] == 3 and m["r2"] == 0.0


def test_uncertainty_metrics_on_gaussian_errors():
    rng = np.random.default_rng(0)
    std = rng.uniform(0.1, 1.0, 20000)
    y = rng.normal(0, std)
    u = uncertainty_metrics(y, np.zeros_like(y), std)
    assert abs(u["coverage_1sd"] - 0.683) < 0.02 and abs(u["coverage_2sd"] - 0.954) < 0.01
    assert abs(u["scale_68"] - 1.0) < 0.05 and u["spearman_std_abs_err"] > 0.3
    u2 = uncertainty_metrics(y, np.zeros_like(y), std / 2)
    assert abs(u2["scale_68"] - 2.0) < 0.1


def test_summarize_crossfit(shared_data):  # summarize joins the reference rows: skips without ../shared/data
    rng = np.random.default_rng(1)
    n = 400
    std = rng.uniform(0.1, 0.5, n)
    y = rng.normal(0, 2 * std)
    pred = pd.DataFrame({"y": y, "pred": 0.0, "std": std, "split": np.repeat(np.arange(4), n // 4),
                         "exp_row": -1 - np.arange(n), "seconds": 1.0})
    s = summarize(pred, "split")
    assert s["uncertainty_raw"]["coverage_1sd"] < 0.5
    assert abs(s["uncertainty_crossfit_scaled"]["coverage_1sd"] - 0.68) < 0.07
    assert len(s["per_split"]) == 4
