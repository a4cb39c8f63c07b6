"""jobs/screen.py takes the same options as ``chiscreen screen`` and runs the same job."""
import importlib.util

import pandas as pd

from chiscreen.cli.main import build_parser
from chiscreen.features import get_featurizer
from chiscreen.model import ChiEnsemble, save_artifact
from chiscreen.paths import project_root


def _jobs_screen():
    spec = importlib.util.spec_from_file_location("jobs_screen", project_root() / "jobs" / "screen.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _options(parser):
    return {s for a in parser._actions for s in a.option_strings} - {"-h", "--help"}


def test_same_options_as_the_cli():
    cli = build_parser()
    screen = next(a for a in cli._actions if hasattr(a, "choices") and a.choices and "screen" in a.choices)
    jobs = _jobs_screen().build_parser()
    assert _options(jobs) == _options(screen.choices["screen"])
    assert {"--no-progress", "--take-over", "--overwrite", "--engine", "--model"} <= _options(jobs)


def test_job_runs_in_process_with_cli_options(tmp_path, capsys):
    n = len(get_featurizer("rdkit2d"))
    save_artifact(ChiEnsemble.random(n, n, n_members=2, d=4, seed=0), tmp_path / "model")
    pd.DataFrame({"name": ["PS", "PE"], "smiles": ["*CC(*)c1ccccc1", "*CC*"]}).to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame({"name": ["toluene", "water"], "smiles": ["Cc1ccccc1", "O"]}).to_csv(tmp_path / "s.csv", index=False)
    cfg = tmp_path / "job.yaml"
    cfg.write_text(f"polymers: {tmp_path / 'p.csv'}\nsolvents: {tmp_path / 's.csv'}\nmodel: {tmp_path / 'model'}\n"
                   "query:\n  top_k_per_polymer: 1\nfeaturize:\n  n_jobs: 1\n")
    out = tmp_path / "out"
    assert _jobs_screen().main(["--config", str(cfg), "--out", str(out), "--engine", "plain", "--no-progress"]) == 0
    assert "screened 2 polymers x 2 solvents" in capsys.readouterr().out
    assert len(pd.read_parquet(out / "pairs")) == 2
    (out / "x.txt").write_text("foreign")
    assert _jobs_screen().main(["--config", str(cfg), "--out", str(out / "x.txt"), "--engine", "plain"]) == 2
    assert "is a file" in capsys.readouterr().err
