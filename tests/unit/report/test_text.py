from types import SimpleNamespace

import pandas as pd

from chiscreen.report.text import best_solvents, format_result


def test_format_result_says_counts_failures_and_files():
    summary = {"polymers": {"rows": 3, "scored": 2, "not_scored": [{"name": "bad", "status": "invalid",
                                                                       "reason": "found 3 attachment points"}]},
               "solvents": {"rows": 5, "scored": 5, "not_scored": []}, "pairs_total": 20, "rows_in_pairs": 7,
               "run": {"written": 2, "skipped": 0, "pairs_per_s": 1.0e6, "engine": "plain", "workers": 1}}
    res = SimpleNamespace(summary=summary, manifest=SimpleNamespace(temperatures_K=[298.15, 353.15]), resumed=True,
                          out="/tmp/run", files={"pairs": "/tmp/run/pairs"})
    text = format_result(res)
    assert "screened 2 polymers x 5 solvents x 2 temperature(s) = 20 pairs (resumed)" in text
    assert "1 polymers not scored" in text and "attachment" in text and "pairs: /tmp/run/pairs" in text


def test_best_solvents_reads_the_schema_columns_of_read_pairs():
    pairs = pd.DataFrame({"polymer_name": ["polystyrene"] * 3, "abbreviation": ["PS"] * 3,
                          "solvent_name": ["toluene", "water", "THF"], "solvent_id": [0, 1, 2],
                          "T_K": [298.15] * 3, "chi": [0.3, 2.0, 0.35], "chi_std": [0.2, 0.1, 0.05],
                          "p_soluble": [0.9, 0.1, 0.95]})
    assert list(best_solvents(pairs, "PS", 298.15, top=2).solvent_name) == ["toluene", "THF"]
    assert list(best_solvents(pairs, "polystyrene", 298.15, top=1, rank_by="chi_upper").solvent_name) == ["THF"]
    assert list(best_solvents(pairs, "PS", 298.15, top=1, rank_by="p_soluble").solvent_name) == ["THF"]
