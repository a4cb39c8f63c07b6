"""Issue 14 item 2: predict, screen and demo give the same verdict on the same rows (shipped model).

The reproduction was PET / pinacolone (chi 0.38 +- 0.38): demo "miscible", predict "borderline"."""
import re

import pandas as pd
import pytest

from chiscreen.model import load_ensemble
from chiscreen.model.predict import predict_pairs
from chiscreen.report.text import run_demo
from chiscreen.screen.job import ScreenConfig, read_pairs, run_screen
from chiscreen.screen.queries import QueryConfig

POLYMERS = {"PET": "*OCCOC(=O)c1ccc(C(*)=O)cc1", "PS": "*CC(*)c1ccccc1", "PE": "*CC*"}
SOLVENTS = {"pinacolone": "CC(=O)C(C)(C)C", "isobutyl acetate": "CC(C)COC(C)=O", "toluene": "Cc1ccccc1",
            "THF": "C1CCOC1", "n-hexane": "CCCCCC", "ethanol": "CCO"}


@pytest.mark.slow
def test_predict_screen_and_demo_agree(tmp_path):
    cat = tmp_path / "cat"
    cat.mkdir()
    pd.DataFrame({"name": list(POLYMERS), "abbreviation": list(POLYMERS), "smiles": list(POLYMERS.values())}).to_csv(
        cat / "polymers.csv", index=False)
    pd.DataFrame({"name": list(SOLVENTS), "smiles": list(SOLVENTS.values())}).to_csv(cat / "solvents.csv", index=False)
    cfg = ScreenConfig(polymers=str(cat / "polymers.csv"), solvents=str(cat / "solvents.csv"),
                       temperatures=["25C"], query=QueryConfig(keep_all=True, rank_by="chi_upper"))
    cfg.engine.kind = "plain"
    cfg.featurize.n_jobs = 1
    res = run_screen(cfg, out=str(tmp_path / "screen"), progress=False)
    screen = read_pairs(res.out)
    ens = load_ensemble()
    pred = predict_pairs(ens, [POLYMERS[p] for p in screen["polymer_name"]], [SOLVENTS[s] for s in screen["solvent_name"]],
                         298.15, dissolution=False)
    assert (pred["status"] == "ok").all()
    assert list(pred["verdict"]) == list(screen["verdict"])
    assert pred["chi_mean"].to_numpy() == pytest.approx(screen["chi"].to_numpy(), abs=1e-4)
    # the reproduction row: the interval straddles 0.5, so both say borderline
    row = screen[(screen["polymer_name"] == "PET") & (screen["solvent_name"] == "pinacolone")]
    assert row["verdict"].iat[0] == "borderline"
    # the demo prints the same verdict for every row it shows
    demo = run_demo(out=str(tmp_path / "screen"), progress=False, top=len(SOLVENTS), polymers=tuple(POLYMERS), cfg=cfg)
    shown = 0
    text = demo.text.splitlines()
    for pname, table in demo.tables.items():
        # the polymer's own section: two polymers can share a solvent and a rounded chi
        start = next(i for i, l in enumerate(text) if l.startswith(f"{pname} = "))
        end = next((i for i in range(start + 1, len(text)) if not text[i].strip()), len(text))
        section = text[start + 1:end]
        for _, r in table.iterrows():
            line = next(l for l in section if l.strip().startswith(r["solvent_name"]) and
                        f"chi {r['chi']:+.2f}" in l)
            want = screen[(screen["polymer_name"] == pname) & (screen["solvent_name"] == r["solvent_name"])]["verdict"].iat[0]
            assert re.search(rf"\b{want}\b", line), (line, want)
            shown += 1
    assert shown == len(POLYMERS) * len(SOLVENTS)
