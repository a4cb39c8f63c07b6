"""Bad input x every command, through ``main(argv)`` in-process (issue 14 item 7).

Each cell gives one command one kind of bad input and asserts what the house rules promise:
exit code 2, exactly one line on stderr (``chiscreen CMD: error: ...``) that names the row, key,
option or file, no traceback, and nothing written (the folder the cell works in is unchanged).
Tripwires replace the expensive part of every command (predicting, training, screening,
featurizing, profile calculations, Ray, downloads): a cell that gets that far fails, so the
whole matrix costs seconds.

Cells whose bad input is *data* rather than an error (an unparsable SMILES in a 1,000-row
predict or catalog table is a row with status "invalid", not a failed run) are listed in
``NOT_APPLICABLE`` with the reason, and so are categories a command has no input for; the
matrix size printed by ``test_matrix_size`` counts both.
"""
from __future__ import annotations

import argparse
import inspect
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest

from chiscreen.cli.main import build_parser, main
from chiscreen.paths import project_root

ROOT = project_root()
SHIPPED_MODEL = Path(__file__).resolve().parents[2] / "chiscreen" / "assets" / "default_model"

COMMANDS = ("predict", "screen", "train", "evaluate", "featurize", "oracle", "oracle batch", "catalog build",
            "catalog enumerate", "canon", "data fetch", "campaign recycle", "campaign compatibilizer", "phase",
            "report")
CATEGORIES = ("unparsable_smiles", "attachment_points", "empty", "missing_column", "wrong_delimiter",
              "bad_encoding", "temperature_range", "temperature_unitless", "huge_number", "unknown_config_key",
              "wrong_type", "corrupt_artifact", "edited_artifact", "output_unusable", "concurrent_writer")

PS, TOL = "*CC(*)c1ccccc1", "Cc1ccccc1"
PAIRS_HEADER = "polymer_smiles,solvent_smiles,temperature_K"
ORACLE_HEADER = "polymer_smiles,solvent_smiles,temperature_K"


class ExpensivePartStarted(BaseException):
    """Raised by a tripwire: the command got past validation into real work."""


# --------------------------------------------------------------------------- features on main?
def _has_option(command: str, option: str) -> bool:
    return any(option in a.option_strings for a in _subparser(command)._actions)


def _subparser(command: str):
    parser = build_parser()
    for word in command.split():
        parser = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices[word]
    return parser


def _uses_owned_dir(module: str) -> bool:
    import importlib

    try:
        src = inspect.getsource(importlib.import_module(module))
    except (ImportError, OSError):
        return False
    return "OwnedDir" in src or "owned_dir" in src or "open_output" in src


def _owned_dir_available() -> bool:
    try:
        from chiscreen.runtime.outdir import OwnedDir  # noqa: F401
    except ImportError:
        return False
    return True


#: oracle batch writes one table with --output FILE (issue 14 item 6), before that with --out FILE
ORACLE_TABLE = "--output" if _has_option("oracle batch", "--output") else "--out"
CATALOG_TABLE = "--output" if _has_option("catalog build", "--output") else "--out"
INTEGRITY_ON_MAIN = _has_option("predict", "--trust-unsigned")
INTEGRITY_REASON = ("issue 14 item 3 (model engineer): an edited config.json without artifact_hash must be "
                    "refused unless --trust-unsigned; not on main yet")
LOCK_REASON = ("issue 14 item 1 (runtime engineer): the owned-folder lock (chiscreen.runtime.outdir.OwnedDir) "
               "must stop a second writer of {cmd}; not on main yet")


# --------------------------------------------------------------------------- inputs
@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """Every bad file once (read-only use by the cells)."""
    d = tmp_path_factory.mktemp("bad-inputs")
    f: dict[str, Path] = {}

    def put(name: str, data: str | bytes) -> None:
        p = d / name
        p.write_bytes(data if isinstance(data, bytes) else data.encode())
        f[name] = p

    put("empty.csv", b"")
    put("header_only.csv", PAIRS_HEADER + "\n")
    put("no_temp.csv", f"polymer_smiles,solvent_smiles\n{PS},{TOL}\n")
    put("semicolon.csv", f"{PAIRS_HEADER.replace(',', ';')}\n{PS};{TOL};298.15\n")
    put("latin1.csv", f"{PAIRS_HEADER}\n{PS},{TOL},298.15\n".encode() + b"*CC(*)C,caf\xe9,300\n")
    put("afile", "I am a file, not a folder\n")
    # oracle batch pair files
    put("o_empty.csv", b"")
    put("o_nocol.csv", f"polymer_smiles,temperature_K\n{PS},298.15\n")
    put("o_semicolon.csv", f"polymer_smiles;solvent_smiles;temperature_K\n{PS};{TOL};298.15\n")
    put("o_latin1.csv", f"{ORACLE_HEADER}\n{PS},{TOL},298.15\n".encode() + b"*CC*,caf\xe9,298.15\n")
    put("o_range.csv", f"{ORACLE_HEADER}\n{PS},{TOL},298.15\n{PS},{TOL},149\n")
    put("o_huge.csv", f"{ORACLE_HEADER}\n{PS},{TOL},{10 ** 300}\n")
    put("o_ok.csv", f"{ORACLE_HEADER}\n{PS},{TOL},298.15\n")
    # training tables (data.extra_tables)
    put("t_smiles.csv", f"polymer_smiles,solvent_smiles,temperature_K,chi\n*CC(*)c1ccc,{TOL},298.15,0.4\n")
    put("t_attach.csv", f"polymer_smiles,solvent_smiles,temperature_K,chi\nCCC,{TOL},298.15,0.4\n")
    put("t_nolabel.csv", f"polymer_smiles,solvent_smiles,temperature_K\n{PS},{TOL},298.15\n")
    put("t_semicolon.csv", f"polymer_smiles;solvent_smiles;temperature_K;chi\n{PS};{TOL};298.15;0.4\n")
    put("t_latin1.csv", f"polymer_smiles,solvent_smiles,temperature_K,chi\n{PS},{TOL},298.15,0.4\n".encode()
        + b"*CC*,caf\xe9,300,0.5\n")
    put("t_range.csv", f"polymer_smiles,solvent_smiles,temperature_K,chi\n{PS},{TOL},25,0.4\n")
    put("t_huge.csv", f"polymer_smiles,solvent_smiles,temperature_K,chi\n{PS},{TOL},{10 ** 300},0.4\n")
    # catalogs
    put("c_ok_polymers.csv", f"name,smiles\nPS,{PS}\nPE,*CC*\n")
    put("c_ok_solvents.csv", f"name,smiles\ntoluene,{TOL}\nwater,O\n")
    put("c_nosmiles.csv", f"name,structure\nPS,{PS}\n")
    put("c_semicolon.csv", f"name;smiles\nPS;{PS}\n")
    put("latin1.smi", b"*CC* PE\n*CC(*)C polypropyl\xe8ne\n")
    put("c_latin1.csv", f"name,smiles\nPS,{PS}\n".encode() + b"poly\xe9thyl\xe8ne,*CC*\n")
    # configs
    put("oracle_key.yaml", "run:\n  timeot_s: 20\n")
    put("oracle_type.yaml", "run:\n  timeout_s: soon\n")
    put("empty.yaml", "# nothing but a comment\n")
    put("bad_calibration.json", "{not json")
    # model artifacts
    corrupt = d / "corrupt_model"
    shutil.copytree(SHIPPED_MODEL, corrupt)
    w = corrupt / "weights.pt"
    w.write_bytes(w.read_bytes()[:1000])
    f["corrupt_model"] = corrupt
    edited = d / "edited_model"
    shutil.copytree(SHIPPED_MODEL, edited)
    cfg = json.loads((edited / "config.json").read_text())
    cfg.pop("artifact_hash", None)
    cfg["std_scale"] = {k: 5 * v for k, v in cfg.get("std_scale", {"chi_exp": 1.0}).items()}
    (edited / "config.json").write_text(json.dumps(cfg, indent=2))
    f["edited_model"] = edited
    return f


def _screen_yaml(tmp: Path, inputs: dict, **over) -> Path:
    cfg = {"polymers": str(inputs["c_ok_polymers.csv"]), "solvents": str(inputs["c_ok_solvents.csv"]),
           "temperatures": "['25C']", "engine": "{kind: plain, shard_size: 2}", "out": str(tmp / "screen-out")}
    cfg.update(over)
    p = tmp / "screen.yaml"
    p.write_text("".join(f"{k}: {v}\n" for k, v in cfg.items() if v is not None))
    return p


RECYCLE = "mixture: [PE, PS]\ntarget: PS\n"
COMPAT = "polymer_a: PE\npolymer_b: PS\n"


def _yaml(tmp: Path, text: str) -> Path:
    p = tmp / "campaign.yaml"
    p.write_text(text)
    return p


def _train_yaml(tmp: Path, table: Path | None = None, extra: str = "") -> Path:
    p = tmp / "train.yaml"
    data = f"data:\n  extra_tables: [{table}]\n" if table is not None else ""
    p.write_text("n_members: 1\n" + data + extra)
    return p


# --------------------------------------------------------------------------- cells
@dataclass(frozen=True)
class Cell:
    command: str
    category: str
    argv: Callable[[Path, dict], list[str]]   # (cell folder, inputs) -> argv
    names: str                                 # the stderr line must contain this (row/key/option/file)
    xfail: str | None = None                   # reason, when the feature is not on main yet
    hold: str | None = None                    # hold the owned-folder lock of this sub-path during the call


def _c(command, category, argv, names, xfail=None, hold=None) -> Cell:
    return Cell(command, category, argv, names, xfail, hold)


def _lock_xfail(cmd: str, module: str) -> str | None:
    return None if (_owned_dir_available() and _uses_owned_dir(module)) else LOCK_REASON.format(cmd=cmd)


CELLS: list[Cell] = [
    # ---------------------------------------------------------------- predict
    _c("predict", "unparsable_smiles", lambda t, f: ["predict", "--polymer", "*CC(*)c1ccc", "--solvent", TOL],
       "*CC(*)c1ccc"),
    _c("predict", "attachment_points", lambda t, f: ["predict", "--polymer", "CCC", "--solvent", TOL], "'CCC'"),
    _c("predict", "empty", lambda t, f: ["predict", "--input", str(f["empty.csv"]), "--output", str(t / "o.csv")],
       "empty.csv"),
    _c("predict", "missing_column",
       lambda t, f: ["predict", "--input", str(f["no_temp.csv"]), "--output", str(t / "o.csv")], "temperature_K"),
    _c("predict", "wrong_delimiter",
       lambda t, f: ["predict", "--input", str(f["semicolon.csv"]), "--output", str(t / "o.csv")], "';'"),
    _c("predict", "bad_encoding",
       lambda t, f: ["predict", "--input", str(f["latin1.csv"]), "--output", str(t / "o.csv")], "line 3 (row 1)"),
    _c("predict", "temperature_range",
       lambda t, f: ["predict", "--polymer", PS, "--solvent", TOL, "--temp", "149K"], "149 K is outside"),
    _c("predict", "temperature_unitless",
       lambda t, f: ["predict", "--polymer", PS, "--solvent", TOL, "--temp", "300"], "--temp 300: a unit is required"),
    _c("predict", "huge_number", lambda t, f: ["predict", "--polymer", PS, "--solvent", TOL, "--mw", "1e999"], "--mw"),
    _c("predict", "wrong_type", lambda t, f: ["predict", "--polymer", PS, "--solvent", TOL, "--mw", "heavy"], "--mw"),
    _c("predict", "corrupt_artifact",
       lambda t, f: ["predict", "--polymer", PS, "--solvent", TOL, "--model", str(f["corrupt_model"])], "weights.pt"),
    _c("predict", "edited_artifact",
       lambda t, f: ["predict", "--polymer", PS, "--solvent", TOL, "--model", str(f["edited_model"])], "config.json",
       xfail=None if INTEGRITY_ON_MAIN else INTEGRITY_REASON),
    _c("predict", "output_unusable",
       lambda t, f: ["predict", "--input", str(f["no_temp.csv"]), "--output", str(f["afile"] / "o.csv")],
       "is a file"),
    # ---------------------------------------------------------------- screen
    _c("screen", "unparsable_smiles",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, query="{selective: [{name: q, dissolve: ['*CC(*)c1ccc']}]}"))],
       "query.selective 'q'"),
    _c("screen", "attachment_points",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, query="{selective: [{name: q, dissolve: [CCC]}]}"))],
       "'CCC'"),
    _c("screen", "empty", lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, polymers=str(f["empty.csv"])))],
       "empty.csv"),
    _c("screen", "missing_column",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, polymers=str(f["c_nosmiles.csv"])))], "'smiles'"),
    _c("screen", "wrong_delimiter",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, polymers=str(f["c_semicolon.csv"])))], "';'"),
    _c("screen", "bad_encoding",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, solvents=str(f["c_latin1.csv"])))], "line 3 (row 1)"),
    _c("screen", "temperature_range",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, temperatures="['149K']"))], "temperatures"),
    _c("screen", "huge_number",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, temperatures=f"[{10 ** 300}]"))], "1e+300"),
    _c("screen", "unknown_config_key",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, query="{top_k_per_polymr: 5}"))], "top_k_per_polymr"),
    _c("screen", "wrong_type",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, engine="{kind: plain, shard_size: many}"))],
       "shard_size"),
    _c("screen", "empty_config", lambda t, f: ["screen", "--config", str(f["empty.yaml"])], "empty.yaml"),
    _c("screen", "corrupt_artifact",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, model=str(f["corrupt_model"])))], "weights.pt"),
    _c("screen", "edited_artifact",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f, model=str(f["edited_model"])))], "config.json",
       xfail=None if INTEGRITY_ON_MAIN else INTEGRITY_REASON),
    _c("screen", "output_unusable",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f)), "--out", str(f["afile"])], "is a file"),
    _c("screen", "concurrent_writer",
       lambda t, f: ["screen", "--config", str(_screen_yaml(t, f)), "--out", str(t / "held")], "held is being written",
       xfail=_lock_xfail("screen", "chiscreen.screen.job"), hold="held"),
    # ---------------------------------------------------------------- train
    _c("train", "unparsable_smiles",
       lambda t, f: ["train", "--config", str(_train_yaml(t, f["t_smiles.csv"])), "--out", str(t / "m")], "row 0"),
    _c("train", "attachment_points",
       lambda t, f: ["train", "--config", str(_train_yaml(t, f["t_attach.csv"])), "--out", str(t / "m")], "row 0"),
    _c("train", "empty",
       lambda t, f: ["train", "--config", str(_train_yaml(t, f["empty.csv"])), "--out", str(t / "m")], "empty.csv"),
    _c("train", "missing_column",
       lambda t, f: ["train", "--config", str(_train_yaml(t, f["t_nolabel.csv"])), "--out", str(t / "m")],
       "no label column"),
    _c("train", "wrong_delimiter",
       lambda t, f: ["train", "--config", str(_train_yaml(t, f["t_semicolon.csv"])), "--out", str(t / "m")], "';'"),
    _c("train", "bad_encoding",
       lambda t, f: ["train", "--config", str(_train_yaml(t, f["t_latin1.csv"])), "--out", str(t / "m")],
       "line 3 (row 1)"),
    _c("train", "temperature_range",
       lambda t, f: ["train", "--config", str(_train_yaml(t, f["t_range.csv"])), "--out", str(t / "m")],
       "row 0: temperature 25.00 K"),
    _c("train", "huge_number",
       lambda t, f: ["train", "--config", str(_train_yaml(t, f["t_huge.csv"])), "--out", str(t / "m")], "1e+300"),
    _c("train", "unknown_config_key",
       lambda t, f: ["train", "--config", str(_train_yaml(t, extra="n_membrs: 3\n")), "--out", str(t / "m")],
       "n_membrs"),
    _c("train", "wrong_type",
       lambda t, f: ["train", "--config", str(_train_yaml(t, extra="seed: many\n")), "--out", str(t / "m")], "seed"),
    _c("train", "empty_config", lambda t, f: ["train", "--config", str(f["empty.yaml"]), "--out", str(t / "m")],
       "empty.yaml"),
    _c("train", "huge_number_config",
       lambda t, f: ["train", "--config", str(_train_yaml(t, extra=f"seed: {10 ** 300}\n")), "--out", str(t / "m")],
       "seed: 1e+300 is too large"),
    _c("train", "wrong_device",
       lambda t, f: ["train", "--config", str(_train_yaml(t)), "--out", str(t / "m"), "--device", "gpu"], "--device"),
    _c("train", "output_unusable",
       lambda t, f: ["train", "--config", str(_train_yaml(t)), "--out", str(f["afile"])], "is a file"),
    _c("train", "concurrent_writer",
       lambda t, f: ["train", "--config", str(_train_yaml(t)), "--out", str(t / "held")], "held is being written",
       xfail=_lock_xfail("train", "chiscreen.cli.cmd_train"), hold="held"),
    # ---------------------------------------------------------------- evaluate
    _c("evaluate", "unparsable_smiles",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t, f["t_smiles.csv"])),
                     "--json", str(t / "e.json")], "row 0"),
    _c("evaluate", "attachment_points",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t, f["t_attach.csv"])),
                     "--json", str(t / "e.json")], "row 0"),
    _c("evaluate", "empty",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t, f["empty.csv"])),
                     "--json", str(t / "e.json")], "empty.csv"),
    _c("evaluate", "missing_column",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t, f["t_nolabel.csv"])),
                     "--json", str(t / "e.json")], "no label column"),
    _c("evaluate", "wrong_delimiter",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t, f["t_semicolon.csv"])),
                     "--json", str(t / "e.json")], "';'"),
    _c("evaluate", "bad_encoding",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t, f["t_latin1.csv"])),
                     "--json", str(t / "e.json")], "line 3 (row 1)"),
    _c("evaluate", "temperature_range",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t, f["t_range.csv"])),
                     "--json", str(t / "e.json")], "row 0: temperature 25.00 K"),
    _c("evaluate", "huge_number",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t, f["t_huge.csv"])),
                     "--json", str(t / "e.json")], "1e+300"),
    _c("evaluate", "unknown_config_key",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t, extra="optim:\n  lr_stp: 3\n")),
                     "--json", str(t / "e.json")], "lr_stp"),
    _c("evaluate", "wrong_type",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t)), "--folds", "five",
                     "--json", str(t / "e.json")], "--folds"),
    _c("evaluate", "output_unusable",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t)),
                     "--json", str(f["afile"] / "e.json")], "is a file"),
    _c("evaluate", "concurrent_writer",
       lambda t, f: ["evaluate", "--splits", "polymer", "--config", str(_train_yaml(t)), "--json", str(t / "e.json"),
                     "--out", str(t / "held")], "held is being written",
       xfail=_lock_xfail("evaluate", "chiscreen.cli.cmd_evaluate"), hold="held"),
    # ---------------------------------------------------------------- featurize
    _c("featurize", "empty", lambda t, f: ["featurize", "--input", str(f["empty.csv"])], "empty.csv"),
    _c("featurize", "missing_column", lambda t, f: ["featurize", "--input", str(f["c_nosmiles.csv"])],
       "polymer_smiles"),
    _c("featurize", "wrong_delimiter", lambda t, f: ["featurize", "--input", str(f["semicolon.csv"])], "';'"),
    _c("featurize", "bad_encoding", lambda t, f: ["featurize", "--input", str(f["latin1.csv"])], "line 3 (row 1)"),
    _c("featurize", "huge_number",
       lambda t, f: ["featurize", "--input", str(f["no_temp.csv"]), "--timeout", "1e999"], "--timeout"),
    _c("featurize", "unknown_config_key",
       lambda t, f: ["featurize", "--input", str(f["no_temp.csv"]), "--representation", "cyclic"], "--representation"),
    _c("featurize", "wrong_type",
       lambda t, f: ["featurize", "--input", str(f["no_temp.csv"]), "--n-jobs", "two"], "--n-jobs"),
    _c("featurize", "output_unusable",
       lambda t, f: ["featurize", "--input", str(f["no_temp.csv"]), "--out", str(f["afile"])], "is a file"),
    _c("featurize", "concurrent_writer",
       lambda t, f: ["featurize", "--input", str(f["no_temp.csv"]), "--out", str(t / "held")], "held is being written",
       xfail=_lock_xfail("featurize", "chiscreen.cli.cmd_featurize"), hold="held"),
    # ---------------------------------------------------------------- oracle (one pair)
    _c("oracle", "unparsable_smiles",
       lambda t, f: ["oracle", "--polymer", "*CC(*)c1ccc", "--solvent", TOL, "--temp", "25C"], "*CC(*)c1ccc"),
    _c("oracle", "attachment_points",
       lambda t, f: ["oracle", "--polymer", "CCC", "--solvent", TOL, "--temp", "25C"], "attachment"),
    _c("oracle", "empty", lambda t, f: ["oracle", "--polymer", "", "--solvent", TOL, "--temp", "25C"], "--polymer"),
    _c("oracle", "temperature_range",
       lambda t, f: ["oracle", "--polymer", PS, "--solvent", TOL, "--temp", "149K"], "149 K is outside"),
    _c("oracle", "temperature_unitless",
       lambda t, f: ["oracle", "--polymer", PS, "--solvent", TOL, "--temp", "300"], "--temp 300"),
    _c("oracle", "huge_number",
       lambda t, f: ["oracle", "--polymer", PS, "--solvent", TOL, "--temp", f"{10 ** 300}C"], "1e+300"),
    _c("oracle", "unknown_config_key",
       lambda t, f: ["oracle", "--config", str(f["oracle_key.yaml"]), "--polymer", PS, "--solvent", TOL,
                     "--temp", "25C"], "timeot_s"),
    _c("oracle", "wrong_type",
       lambda t, f: ["oracle", "--config", str(f["oracle_type.yaml"]), "--polymer", PS, "--solvent", TOL,
                     "--temp", "25C"], "timeout_s"),
    _c("oracle", "empty_config",
       lambda t, f: ["oracle", "--config", str(f["empty.yaml"]), "--polymer", PS, "--solvent", TOL, "--temp", "25C"],
       "empty.yaml"),
    _c("oracle", "corrupt_artifact",
       lambda t, f: ["oracle", "--calibration", str(f["bad_calibration.json"]), "--polymer", PS, "--solvent", TOL,
                     "--temp", "25C", "--store", str(t / "store")], "bad_calibration.json"),
    # ---------------------------------------------------------------- oracle batch
    _c("oracle batch", "empty",
       lambda t, f: ["oracle", "batch", str(f["o_empty.csv"]), ORACLE_TABLE, str(t / "chi.csv")], "o_empty.csv"),
    _c("oracle batch", "missing_column",
       lambda t, f: ["oracle", "batch", str(f["o_nocol.csv"]), ORACLE_TABLE, str(t / "chi.csv")], "'solvent_smiles'"),
    _c("oracle batch", "wrong_delimiter",
       lambda t, f: ["oracle", "batch", str(f["o_semicolon.csv"]), ORACLE_TABLE, str(t / "chi.csv")], "';'"),
    _c("oracle batch", "bad_encoding",
       lambda t, f: ["oracle", "batch", str(f["o_latin1.csv"]), ORACLE_TABLE, str(t / "chi.csv")], "line 3 (row 1)"),
    _c("oracle batch", "temperature_range",
       lambda t, f: ["oracle", "batch", str(f["o_range.csv"]), ORACLE_TABLE, str(t / "chi.csv")], "row 1"),
    _c("oracle batch", "temperature_unitless",
       lambda t, f: ["oracle", "batch", str(f["o_ok.csv"]), ORACLE_TABLE, str(t / "chi.csv"), "--temps", "25C,300"],
       "--temps 300"),
    _c("oracle batch", "huge_number",
       lambda t, f: ["oracle", "batch", str(f["o_huge.csv"]), ORACLE_TABLE, str(t / "chi.csv")], "row 0"),
    _c("oracle batch", "unknown_config_key",
       lambda t, f: ["oracle", "batch", str(f["o_ok.csv"]), "--config", str(f["oracle_key.yaml"]),
                     ORACLE_TABLE, str(t / "chi.csv")], "timeot_s"),
    _c("oracle batch", "wrong_type",
       lambda t, f: ["oracle", "batch", str(f["o_ok.csv"]), "--workers", "two", ORACLE_TABLE, str(t / "chi.csv")],
       "--workers"),
    _c("oracle batch", "corrupt_artifact",
       lambda t, f: ["oracle", "batch", str(f["o_ok.csv"]), "--calibration", str(f["bad_calibration.json"]),
                     "--store", str(t / "store"), ORACLE_TABLE, str(t / "chi.csv")], "bad_calibration.json"),
    _c("oracle batch", "output_unusable",
       lambda t, f: ["oracle", "batch", str(f["o_ok.csv"]), ORACLE_TABLE, str(f["afile"] / "chi.csv")],
       "afile/chi.csv"),
    _c("oracle batch", "concurrent_writer",
       lambda t, f: ["oracle", "batch", str(f["o_ok.csv"]), "--out", str(t / "held"), "--backend", "serial"],
       "held is being written",
       xfail=_lock_xfail("oracle batch", "chiscreen.cli.cmd_oracle"), hold="held"),
    # ---------------------------------------------------------------- catalog build / enumerate
    _c("catalog build", "empty",
       lambda t, f: ["catalog", "build", str(f["empty.csv"]), "--kind", "polymer", CATALOG_TABLE, str(t / "c.parquet")],
       "empty.csv"),
    _c("catalog build", "missing_column",
       lambda t, f: ["catalog", "build", str(f["c_nosmiles.csv"]), "--kind", "polymer", CATALOG_TABLE, str(t / "c.parquet")],
       "'smiles'"),
    _c("catalog build", "missing_name_column",
       lambda t, f: ["catalog", "build", str(f["c_ok_polymers.csv"]), "--kind", "polymer", "--name-column", "label",
                     CATALOG_TABLE, str(t / "c.parquet")], "'label' (--name-column)"),
    _c("catalog build", "wrong_delimiter",
       lambda t, f: ["catalog", "build", str(f["c_semicolon.csv"]), "--kind", "polymer", CATALOG_TABLE, str(t / "c.parquet")],
       "';'"),
    _c("catalog build", "bad_encoding",
       lambda t, f: ["catalog", "build", str(f["c_latin1.csv"]), "--kind", "polymer", CATALOG_TABLE, str(t / "c.parquet")],
       "line 3 (row 1)"),
    _c("catalog build", "bad_encoding_smiles_list",
       lambda t, f: ["catalog", "build", str(f["latin1.smi"]), "--kind", "polymer", CATALOG_TABLE, str(t / "c.parquet")],
       "latin1.smi: line 2"),
    _c("catalog build", "wrong_type",
       lambda t, f: ["catalog", "build", str(f["c_ok_polymers.csv"]), "--kind", "polymers", CATALOG_TABLE,
                     str(t / "c.parquet")], "--kind"),
    _c("catalog build", "huge_number",
       lambda t, f: ["catalog", "build", str(f["c_ok_polymers.csv"]), "--kind", "polymer", "--jobs", str(10 ** 300),
                     CATALOG_TABLE, str(t / "c.parquet")], "--jobs"),
    _c("catalog build", "output_unusable",
       lambda t, f: ["catalog", "build", str(f["c_ok_polymers.csv"]), "--kind", "polymer",
                     CATALOG_TABLE, str(f["afile"] / "c.parquet")], "is a file"),
    _c("catalog enumerate", "unknown_config_key",
       lambda t, f: ["catalog", "enumerate", "--rules", "vinyl,polyesters", CATALOG_TABLE, str(t / "e.parquet")],
       "polyesters"),
    _c("catalog enumerate", "wrong_type",
       lambda t, f: ["catalog", "enumerate", "--limit", "many", CATALOG_TABLE, str(t / "e.parquet")], "--limit"),
    _c("catalog enumerate", "empty",
       lambda t, f: ["catalog", "enumerate", "--rules", ",", CATALOG_TABLE, str(t / "e.parquet")], "--rules"),
    _c("catalog enumerate", "missing_column",
       lambda t, f: ["catalog", "enumerate", "--blocks", str(t / "no-such-folder"), CATALOG_TABLE, str(t / "e.parquet")],
       "no-such-folder"),
    _c("catalog enumerate", "output_unusable",
       lambda t, f: ["catalog", "enumerate", CATALOG_TABLE, str(f["afile"] / "e.parquet")], "is a file"),
    _c("demo", "output_unusable", lambda t, f: ["demo", "--out", str(f["afile"])], "is a file"),
    _c("demo", "wrong_type", lambda t, f: ["demo", "--top", "0"], "--top"),
    # ---------------------------------------------------------------- campaigns, phase, report
    _c("campaign recycle", "unparsable_smiles",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, 'mixture: [PE, "*CC(*)c1ccc"]\ntarget: PE\n')),
                     "--out", str(t / "r")], "*CC(*)c1ccc"),
    _c("campaign recycle", "attachment_points",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, "mixture: [PE, CCC]\ntarget: PE\n")),
                     "--out", str(t / "r")], "'CCC'"),
    _c("campaign recycle", "empty", lambda t, f: ["campaign", "recycle", "--config", str(f["empty.yaml"]),
                                                   "--out", str(t / "r")], "empty.yaml"),
    _c("campaign recycle", "missing_column",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, RECYCLE + f"solvents: {f['c_nosmiles.csv']}\n")),
                     "--out", str(t / "r")], "c_nosmiles.csv"),
    _c("campaign recycle", "wrong_delimiter",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, RECYCLE + f"solvents: {f['c_semicolon.csv']}\n")),
                     "--out", str(t / "r")], "';'"),
    _c("campaign recycle", "bad_encoding",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, RECYCLE + f"solvents: {f['c_latin1.csv']}\n")),
                     "--out", str(t / "r")], "line 3 (row 1)"),
    _c("campaign recycle", "temperature_range",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, RECYCLE + "temperatures: {min: 149K, max: 200C}\n")),
                     "--out", str(t / "r")], "149 K is outside"),
    _c("campaign recycle", "temperature_unitless",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, RECYCLE + "temperatures: {min: 300, max: 200C}\n")),
                     "--out", str(t / "r")], "temperatures.min"),
    _c("campaign recycle", "huge_number",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, RECYCLE + f"top_k: {10 ** 300}\n")),
                     "--out", str(t / "r")], "1e+300"),
    _c("campaign recycle", "unknown_config_key",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, RECYCLE + "temprature: 3\n")),
                     "--out", str(t / "r")], "temprature"),
    _c("campaign recycle", "wrong_type",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, RECYCLE + "top_k: many\n")),
                     "--out", str(t / "r")], "top_k"),
    _c("campaign recycle", "corrupt_artifact",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, RECYCLE)), "--model", str(f["corrupt_model"]),
                     "--out", str(t / "r")], "weights.pt"),
    _c("campaign recycle", "output_unusable",
       lambda t, f: ["campaign", "recycle", "--config", str(_yaml(t, RECYCLE)), "--out", str(f["afile"])], "is a file"),
    _c("campaign compatibilizer", "attachment_points",
       lambda t, f: ["campaign", "compatibilizer", "--config", str(_yaml(t, "polymer_a: PE\npolymer_b: CCC\n")),
                     "--out", str(t / "c")], "'CCC'"),
    _c("campaign compatibilizer", "empty", lambda t, f: ["campaign", "compatibilizer", "--config", str(f["empty.yaml"]),
                                                          "--out", str(t / "c")], "empty.yaml"),
    _c("campaign compatibilizer", "temperature_range",
       lambda t, f: ["campaign", "compatibilizer", "--config", str(_yaml(t, COMPAT + "temperature: 800C\n")),
                     "--out", str(t / "c")], "outside"),
    _c("campaign compatibilizer", "huge_number",
       lambda t, f: ["campaign", "compatibilizer", "--config", str(_yaml(t, COMPAT + "temperature: 1e400C\n")),
                     "--out", str(t / "c")], "inf K is outside"),
    _c("campaign compatibilizer", "unknown_config_key",
       lambda t, f: ["campaign", "compatibilizer", "--config", str(_yaml(t, COMPAT + "polymer_c: PP\n")),
                     "--out", str(t / "c")], "polymer_c"),
    _c("campaign compatibilizer", "wrong_type",
       lambda t, f: ["campaign", "compatibilizer", "--config", str(_yaml(t, COMPAT + "block_pairs: maybe\n")),
                     "--out", str(t / "c")], "block_pairs"),
    _c("campaign compatibilizer", "bad_encoding",
       lambda t, f: ["campaign", "compatibilizer", "--config", str(_yaml(t, COMPAT + f"additives: {f['c_latin1.csv']}\n")),
                     "--out", str(t / "c")], "line 3 (row 1)"),
    _c("campaign compatibilizer", "output_unusable",
       lambda t, f: ["campaign", "compatibilizer", "--config", str(_yaml(t, COMPAT)), "--out", str(f["afile"])],
       "is a file"),
    _c("phase", "unparsable_smiles",
       lambda t, f: ["phase", "--polymer", PS, "--solvent", "C1CC(", "--out", str(t / "p")], "C1CC("),
    _c("phase", "attachment_points",
       lambda t, f: ["phase", "--polymer", "CCC", "--solvent", TOL, "--out", str(t / "p")], "'CCC'"),
    _c("phase", "temperature_unitless",
       lambda t, f: ["phase", "--polymer", PS, "--solvent", TOL, "--tmin", "300", "--out", str(t / "p")],
       "--tmin 300: a unit is required"),
    _c("phase", "temperature_range",
       lambda t, f: ["phase", "--polymer", PS, "--solvent", TOL, "--tmax", "149K", "--out", str(t / "p")],
       "149 K is outside"),
    _c("phase", "huge_number",
       lambda t, f: ["phase", "--polymer", PS, "--solvent", TOL, "--mw", "1e999", "--out", str(t / "p")], "--mw"),
    _c("phase", "output_unusable",
       lambda t, f: ["phase", "--polymer", PS, "--solvent", TOL, "--out", str(f["afile"])], "is a file"),
    _c("report", "missing_column", lambda t, f: ["report", "--from", str(t / "no-such-run")], "no-such-run"),
    _c("report", "output_unusable",
       lambda t, f: ["report", "--from", str(t), "--output", str(f["afile"] / "r.html")], "is a file"),
    # ---------------------------------------------------------------- canon, data
    _c("canon", "unparsable_smiles", lambda t, f: ["canon", "*CC(*)c1ccc"], "*CC(*)c1ccc"),
    _c("canon", "attachment_points", lambda t, f: ["canon", "CCC"], "attachment"),
    _c("canon", "empty", lambda t, f: ["canon", ""], "''"),
    _c("data fetch", "output_unusable", lambda t, f: ["data", "fetch", "--out", str(f["afile"])], "is a file"),
    _c("data fetch", "wrong_type", lambda t, f: ["data", "fetsch"], "fetsch"),
]

NOT_APPLICABLE = {
    ("predict", "unknown_config_key"): "predict reads no config (its model's config.json: the artifact cells)",
    ("predict", "concurrent_writer"): "one table, written atomically (hidden temp + rename); no folder to lock",
    ("screen", "temperature_unitless"): "config files keep plain numbers (Kelvin), by the rule of issue 14 item 5",
    ("train", "temperature_unitless"): "temperature_K / temperature_C columns carry the unit",
    ("train", "corrupt_artifact"): "train reads no artifact", ("train", "edited_artifact"): "train reads no artifact",
    ("evaluate", "temperature_unitless"): "temperature_K / temperature_C columns carry the unit",
    ("evaluate", "corrupt_artifact"): "reads an artifact only without a config (shipped model, tested in predict)",
    ("evaluate", "edited_artifact"): "as corrupt_artifact",
    ("featurize", "unparsable_smiles"): "bad rows are data: status invalid per molecule (test_cli_foundation)",
    ("featurize", "attachment_points"): "bad rows are data: status invalid per molecule",
    ("featurize", "temperature_range"): "no temperatures", ("featurize", "temperature_unitless"): "no temperatures",
    ("featurize", "corrupt_artifact"): "reads no artifact", ("featurize", "edited_artifact"): "reads no artifact",
    ("oracle", "missing_column"): "no table", ("oracle", "wrong_delimiter"): "no table",
    ("oracle", "bad_encoding"): "no table", ("oracle", "edited_artifact"): "a calibration has no hash to edit",
    ("oracle", "output_unusable"): "prints, writes only its profile store",
    ("oracle", "concurrent_writer"): "writes only the profile store (atomic per key, shared on purpose)",
    ("oracle batch", "unparsable_smiles"): "bad rows are data: status failed, reason invalid_input per row",
    ("oracle batch", "attachment_points"): "bad rows are data: status failed per row",
    ("oracle batch", "edited_artifact"): "a calibration has no hash to edit",
    ("catalog build", "unparsable_smiles"): "bad rows are data: status invalid with a reason per row",
    ("catalog build", "attachment_points"): "bad rows are data: status invalid with a reason per row",
    ("catalog build", "temperature_range"): "no temperatures", ("catalog build", "temperature_unitless"): "no temperatures",
    ("catalog build", "unknown_config_key"): "no config", ("catalog build", "corrupt_artifact"): "reads no artifact",
    ("catalog build", "edited_artifact"): "reads no artifact",
    ("catalog build", "concurrent_writer"): "one table, written atomically",
    ("catalog enumerate", "unparsable_smiles"): "bad building blocks are reported and skipped (rejected_blocks)",
    ("catalog enumerate", "attachment_points"): "bad building blocks are reported and skipped",
    ("catalog enumerate", "wrong_delimiter"): "building blocks are one SMILES per line",
    ("catalog enumerate", "bad_encoding"): "building blocks are shipped",
    ("catalog enumerate", "temperature_range"): "no temperatures",
    ("catalog enumerate", "temperature_unitless"): "no temperatures",
    ("catalog enumerate", "huge_number"): "--limit / --jobs: wrong_type covers non-integers",
    ("catalog enumerate", "corrupt_artifact"): "reads no artifact", ("catalog enumerate", "edited_artifact"): "reads no artifact",
    ("catalog enumerate", "concurrent_writer"): "one table, written atomically",
    ("canon", "missing_column"): "SMILES arguments only", ("canon", "wrong_delimiter"): "SMILES arguments only",
    ("canon", "bad_encoding"): "SMILES arguments only", ("canon", "temperature_range"): "no temperatures",
    ("canon", "temperature_unitless"): "no temperatures", ("canon", "huge_number"): "SMILES arguments only",
    ("canon", "unknown_config_key"): "no config", ("canon", "wrong_type"): "SMILES arguments only",
    ("canon", "corrupt_artifact"): "no artifact", ("canon", "edited_artifact"): "no artifact",
    ("canon", "output_unusable"): "prints", ("canon", "concurrent_writer"): "prints",
    ("data fetch", "concurrent_writer"): "downloads are hash-checked and written atomically per file",
    **{("data fetch", c): "takes only --out (its downloads are hash-checked)" for c in CATEGORIES
       if c not in ("output_unusable", "wrong_type", "concurrent_writer")},
    ("campaign recycle", "edited_artifact"): INTEGRITY_REASON + " (the predict/screen cells cover it)",
    ("campaign recycle", "concurrent_writer"): "campaign folders move to the owned-folder helper later "
                                                "(campaigns/common.prepare_out says so)",
    **{("campaign compatibilizer", c): "as campaign recycle (same config reader, solvent loader, model loader)"
       for c in ("unparsable_smiles", "missing_column", "wrong_delimiter", "temperature_unitless",
                 "corrupt_artifact", "edited_artifact", "concurrent_writer")},
    **{("phase", c): "two SMILES / names and three options; no table or config" for c in
       ("empty", "missing_column", "wrong_delimiter", "bad_encoding", "unknown_config_key", "wrong_type",
        "corrupt_artifact", "edited_artifact", "concurrent_writer")},
    **{("report", c): "reads a results folder chiscreen wrote; its only inputs are --from and --output"
       for c in CATEGORIES if c not in ("missing_column", "output_unusable")},
}


# --------------------------------------------------------------------------- tripwires
_PREDICT = [("chiscreen.model.predict", None, "predict_table"), ("chiscreen.model.predict", None, "predict_pairs")]
_ORACLE = [("chiscreen.qc.oracle", "Oracle", "ensure_profiles"), ("chiscreen.qc.parallel", None, "init_ray")]
_TRAIN = [("chiscreen.model.train", None, "train_and_save"), ("chiscreen.model.data", None, "load_training_data")]
#: command -> its expensive part: (module, class or None, function); a cell that calls one fails
TRIPWIRES = {
    "predict": _PREDICT,
    # screen: past the output folder's lock and the model, before catalogs are featurized or Ray starts
    "screen": [("chiscreen.screen.job", None, "_run_screen"), ("chiscreen.screen.job", None, "prepare_inputs"),
               ("chiscreen.screen.job", None, "run_shards"), ("chiscreen.screen.engine", None, "RayPool")],
    "train": _TRAIN, "evaluate": _TRAIN,
    "featurize": [("chiscreen.cli.cmd_featurize", None, "featurize"), ("chiscreen.features", None, "featurize")],
    "oracle": _ORACLE, "oracle batch": _ORACLE,
    "catalog build": [("chiscreen.screen.catalogs", None, "build_catalog"), ("chiscreen.catalogs", None, "build_catalog"),
                      ("chiscreen.catalogs.catalog", None, "build_catalog")],
    "catalog enumerate": [("chiscreen.screen.enumerate", None, "enumerate_polymers"),
                          ("chiscreen.catalogs", None, "enumerate_polymers"),
                          ("chiscreen.catalogs.enumerate", None, "enumerate_polymers")],
    "canon": [],
    "campaign recycle": [("chiscreen.campaigns.recycle", None, "evaluate")],
    "campaign compatibilizer": [("chiscreen.campaigns.adapter", None, "predict_grid")],
    "phase": [("chiscreen.model", None, "load_ensemble")],
    "report": [("chiscreen.report.html", None, "write_folder_report")],
    "demo": [("chiscreen.screen.demo", None, "run_demo"), ("chiscreen.report.text", None, "run_demo")],
    "data fetch": [("chiscreen.data.fetch", None, "fetch")],
}


_ALL_IMPORTED = False


def _import_everything() -> None:
    """Import every chiscreen module before the first tripwire is set: a module imported for the
    first time while a function is patched would bind the tripwire for good (``from x import f``)
    and break the tests that run after the matrix."""
    global _ALL_IMPORTED
    if _ALL_IMPORTED:
        return
    import importlib
    import pkgutil

    import chiscreen

    for m in pkgutil.walk_packages(chiscreen.__path__, "chiscreen."):
        if m.name.rsplit(".", 1)[-1].startswith("_"):  # worker entry points, private helpers
            continue
        try:
            importlib.import_module(m.name)
        except ImportError:  # an optional dependency (botorch, tblite) is absent
            pass
    _ALL_IMPORTED = True


def _install_tripwires(monkeypatch, command: str) -> None:
    import importlib

    _import_everything()

    installed = 0
    for mod_name, cls, name in TRIPWIRES[command]:
        try:
            obj = importlib.import_module(mod_name)
        except ImportError:
            continue
        if cls is not None:
            obj = getattr(obj, cls)
        if not hasattr(obj, name):
            continue

        def trip(*a, _n=f"{mod_name}.{cls + '.' if cls else ''}{name}", **k):
            raise ExpensivePartStarted(f"{_n} was called: the command started its expensive part")

        monkeypatch.setattr(obj, name, trip)
        installed += 1
    assert installed or not TRIPWIRES[command], f"{command}: tripwires lost their targets (update TRIPWIRES)"


# --------------------------------------------------------------------------- the test
def _tree(d: Path) -> dict[str, int]:
    return {str(p.relative_to(d)): p.stat().st_size for p in sorted(d.rglob("*")) if p.is_file()}


def _params():
    for c in CELLS:
        marks = [pytest.mark.xfail(reason=c.xfail, strict=True)] if c.xfail else []
        yield pytest.param(c, id=f"{c.command.replace(' ', '-')}:{c.category}", marks=marks)


@pytest.mark.parametrize("cell", list(_params()))
def test_bad_input(cell: Cell, inputs, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _install_tripwires(monkeypatch, cell.command)
    argv = cell.argv(tmp_path, inputs)
    holder = None
    if cell.hold:
        from chiscreen.runtime.outdir import OwnedDir

        holder = OwnedDir(tmp_path / cell.hold, kind="other-writer").open()
    before = _tree(tmp_path)
    before_inputs = _tree(inputs["afile"].parent)
    try:
        try:
            rc = main(argv)
        except SystemExit as exc:  # argparse's own errors
            rc = exc.code
    finally:
        if holder is not None:
            holder.release()
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, f"exit {rc}, stderr: {err!r}"
    assert "Traceback" not in err
    assert len(lines) == 1, f"expected one line on stderr, got {lines!r}"
    prog = "chiscreen " + cell.command.split()[0]
    assert lines[0].startswith(prog) and "error:" in lines[0], lines[0]
    assert cell.names in lines[0], f"{cell.names!r} not named in {lines[0]!r}"
    if holder is None:
        assert _tree(tmp_path) == before, "something was written"
    assert _tree(inputs["afile"].parent) == before_inputs, "an input was modified"


def test_matrix_size(capsys):
    """Every (command, category) is a cell or says why it does not apply; print the counts."""
    cells = {(c.command, c.category) for c in CELLS}
    assert len(cells) == len(CELLS), "duplicate cells"
    missing = [(cmd, cat) for cmd in COMMANDS for cat in CATEGORIES
               if (cmd, cat) not in cells and (cmd, cat) not in NOT_APPLICABLE]
    assert not missing, f"neither a cell nor a reason: {missing}"
    assert not (cells & set(NOT_APPLICABLE)), "a cell is also listed as not applicable"
    extra = [c for c in CELLS if c.category not in CATEGORIES or c.command not in COMMANDS]
    n_xfail = sum(1 for c in CELLS if c.xfail)
    with capsys.disabled():
        print(f"\nbad-input matrix: {len(COMMANDS)} commands x {len(CATEGORIES)} categories = "
              f"{len(COMMANDS) * len(CATEGORIES)}; {len(CELLS) - len(extra)} cells run "
              f"(+{len(extra)} extra: empty config, device, demo, ...), {len(NOT_APPLICABLE)} not applicable (reason given), "
              f"{n_xfail} xfail(strict) awaiting other branches")


def test_negative_temperatures_parse_on_the_command_line():
    """``--temp -10C`` (argparse alone would take -10C for an option) and ``--temps -10C,25C``."""
    from chiscreen.cli.main import join_negative_values

    parser = build_parser()
    args = parser.parse_args(join_negative_values(["predict", "--polymer", PS, "--solvent", TOL, "--temp", "-10C"]))
    assert args.temp == "-10C"
    args = parser.parse_args(join_negative_values(["oracle", "batch", "p.csv", "--out", "o.csv", "--temps", "-10C,25C"]))
    assert args.temps == "-10C,25C"
    assert join_negative_values(["canon", "-x"]) == ["canon", "-x"]
