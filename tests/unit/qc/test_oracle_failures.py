"""Oracle failures said in words, and the time limit of a single pair (issue 14 item 4)."""
from __future__ import annotations

from chiscreen.cli.main import main
from chiscreen.qc import Oracle

PEEK = "*Oc1ccc(Oc2ccc(C(=O)c3ccc(*)cc3)cc2)cc1"


def test_out_of_memory_is_said_in_words():
    o = Oracle()
    k = o.spec.n_units  # PEEK's unit: C19H12O3, 34 atoms
    for raw in ("MemoryError: ", "RuntimeError: vector::reserve", "std::bad_alloc"):
        msg = o.describe_failure("polymer", PEEK, raw, "error")
        assert f"the cyclic {k}-mer of the unit" in msg and f"has {34 * k} atoms" in msg and "too large" in msg
    assert o.describe_failure("solvent", "Cc1ccccc1", "MemoryError: ", "error").startswith("solvent Cc1ccccc1 has 15 atoms")
    assert o.describe_failure("polymer", PEEK, "SCFError: no convergence", "scf_not_converged") == \
        "SCFError: no convergence"


def test_single_pair_obeys_the_time_limit(tmp_path, capsys):
    cfg = tmp_path / "oracle.yaml"
    cfg.write_text("run:\n  timeout_s: 0.5\n")
    rc = main(["oracle", "--config", str(cfg), "--store", str(tmp_path / "store"), "--conformers", "1",
               "--polymer", "*CC(*)c1ccccc1", "--solvent", "CCCCCC", "--temp", "25C"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "timeout" in err and "no result within the time limit of 0.5 s" in err and "-mer of the unit" in err
