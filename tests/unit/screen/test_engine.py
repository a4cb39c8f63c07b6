import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from chiscreen.errors import ScreenError
from chiscreen.model import ChiEnsemble
from chiscreen.screen import EngineConfig, QueryConfig, ScreenConfig, read_pairs, run_screen
from chiscreen.screen.engine import actor_resources
from chiscreen.screen.queries import SelectiveQuery
from chiscreen.screen.scoring import score_direct


def _cfg(**q):
    query = QueryConfig(**(q or {"chi_max": 0.3, "top_k_per_solvent": 3}))
    return ScreenConfig(temperatures=["25C", "100C"], query=query, engine=EngineConfig(kind="plain", shard_size=50))


def _run(tmp, ens, problem, cfg=None, **kw):
    pol, sol, Xp, Xs = problem
    return run_screen(cfg or _cfg(), out=str(tmp), ensemble=ens, descriptors=(Xp, Xs), catalogs=(pol, sol),
                      progress=False, **kw)


def _table(out):
    df = pd.read_parquet(os.path.join(out, "pairs"))
    return df.sort_values(["polymer_id", "T_K", "solvent_id"]).reset_index(drop=True)


def test_plain_run_matches_brute_force(tmp_path, ens, problem):
    res = _run(tmp_path / "a", ens, problem)
    pol, sol, Xp, Xs = problem
    ok = np.flatnonzero(pol.status == "ok")
    assert res.manifest.n_polymers == 227 and res.manifest.n_shards == 5
    assert res.stats.written == 5 and res.stats.pairs == 227 * 40 * 2
    W, b = ens.head_params()
    ref = score_direct(W, b, ens.outputs, ens.encode_polymers(Xp[ok]), ens.encode_solvents(Xs),
                       res.manifest.temperatures_K)
    want = int((ref.chi.numpy() < 0.3).sum())
    df = _table(res.out.root)
    assert abs(len(df) - want) <= 2  # float32 GEMM vs float64 reference at the threshold
    assert set(df.polymer_id) <= set(pol.id[ok])
    assert (df.chi < 0.3).all()
    i = df.index[0]
    p = int(np.flatnonzero(pol.id[ok] == df.polymer_id[i])[0])
    t = res.manifest.temperatures_K.index(pytest.approx(float(df.T_K[i]), abs=1e-3))
    assert df.chi[i] == pytest.approx(ref.chi[p, t, df.solvent_id[i]].item(), abs=1e-4)
    assert df.p_soluble[i] == pytest.approx(ref.p_soluble[p, df.solvent_id[i]].item(), abs=1e-5)
    top = pd.read_parquet(res.files["top_per_solvent"])
    assert top.groupby(["solvent_id", "T_K"]).size().max() <= 3
    named = read_pairs(res.out)
    assert {"polymer_name", "solvent_name", "polymer_smiles", "solvent_smiles"} <= set(named.columns)
    pcat = pd.read_parquet(res.out.path("polymers.parquet"))
    assert pcat.scored.sum() == 227 and (pcat.loc[~pcat.scored, "status"] == "invalid").all()


def test_rerun_resumes_and_is_identical(tmp_path, ens, problem):
    out = tmp_path / "r"
    first = _run(out, ens, problem)
    before = _table(out)
    again = _run(out, ens, problem)
    assert again.resumed and again.stats.skipped == 5 and again.stats.written == 0
    pd.testing.assert_frame_equal(_table(out), before)
    # a killed run leaves missing shards and hidden temp files: the rerun fills exactly those
    os.remove(out / "pairs" / "shard-000002.parquet")
    os.remove(out / "pairs" / "shard-000004.parquet")
    (out / "pairs" / ".shard-000002.parquet.dead.tmp").write_bytes(b"half a file")
    third = _run(out, ens, problem)
    assert third.stats.written == 2 and third.stats.skipped == 3
    assert not list((out / "pairs").glob(".*.tmp"))
    pd.testing.assert_frame_equal(_table(out), before)
    pd.testing.assert_frame_equal(pd.read_parquet(third.files["top_per_solvent"]),
                                  pd.read_parquet(first.files["top_per_solvent"]))


def test_refuses_to_mix_model_or_query(tmp_path, ens, problem):
    out = tmp_path / "m"
    _run(out, ens, problem)
    other = ChiEnsemble.random(ens.n_features_polymer, ens.n_features_solvent, n_members=5, d=8, seed=9)
    with pytest.raises(ScreenError, match="model_hash"):
        _run(out, other, problem)
    with pytest.raises(ScreenError, match="query_hash"):
        _run(out, ens, problem, cfg=_cfg(chi_max=0.1))
    res = _run(out, other, problem, overwrite=True)
    assert not res.resumed and res.stats.written == 5


def test_selective_query_and_uri_output(tmp_path, ens, problem):
    pol = problem[0].copy()
    cfg = _cfg(top_k_per_polymer=2, selective=[SelectiveQuery(name="sel", dissolve=["synthetic polymer 1"],
                                                                  exclude=["synthetic polymer 5", "7"], top_k=4)])
    res = run_screen(cfg, out=f"file://{tmp_path}/uri", ensemble=ens, descriptors=problem[2:],
                     catalogs=(pol, problem[1]), progress=False)
    assert res.out.uri.startswith("file://")
    sel = pd.read_parquet(tmp_path / "uri" / "selective-sel.parquet")
    assert len(sel) == 8 and set(sel.columns) >= {"margin", "selective", "chi[synthetic polymer 1]"}
    assert (sel.groupby("T_K").margin.apply(lambda m: m.is_monotonic_decreasing)).all()
    df = _table(tmp_path / "uri")
    assert df.groupby(["polymer_id", "T_K"]).size().max() == 2


def test_nothing_to_score_and_unbounded_query(tmp_path, ens, problem):
    from chiscreen.errors import ConfigError

    pol, sol, Xp, Xs = problem
    with pytest.raises(ConfigError, match="keep_all"):
        run_screen(ScreenConfig(query=QueryConfig()), out=str(tmp_path / "x"), ensemble=ens,
                   descriptors=(Xp, Xs), catalogs=(pol, sol), progress=False)
    bad = pol.assign(status="invalid")
    with pytest.raises(ScreenError, match="nothing to score"):
        _run(tmp_path / "y", ens, (bad, sol, Xp, Xs))


def test_actor_resources_follow_the_cluster():
    n, opts, dev = actor_resources({"CPU": 2.0}, EngineConfig())
    assert (n, opts["num_gpus"], opts["num_cpus"], dev) == (2, 0, 1, "cpu")
    assert opts["runtime_env"]["env_vars"]["OMP_NUM_THREADS"] == "1"  # threads set per actor, not at init
    n, opts, dev = actor_resources({"CPU": 16.0, "GPU": 2.0}, EngineConfig())
    assert n == 2 and opts["num_gpus"] == 1 and dev == "cuda"
    n, opts, dev = actor_resources({"CPU": 16.0, "GPU": 2.0}, EngineConfig(use_gpus=False, cpus_per_actor=4))
    assert (n, opts["num_gpus"], opts["num_cpus"]) == (4, 0, 4)
    env = opts["runtime_env"]["env_vars"]
    assert env["OMP_NUM_THREADS"] == "4" and env["OMP_WAIT_POLICY"] == "PASSIVE"


KILLED_DRIVER = textwrap.dedent("""
    import sys, time
    from chiscreen.model import ChiEnsemble
    from chiscreen.screen import EngineConfig, EngineHooks, QueryConfig, ScreenConfig, run_screen
    from chiscreen.screen.synthetic import synthetic_catalogs

    def main(out, slow, take_over=False):
        pol, sol, Xp, Xs = synthetic_catalogs(400, 60, 16, seed=3, n_invalid=2)
        ens = ChiEnsemble.random(16, 16, n_members=5, d=8, seed=0)
        cfg = ScreenConfig(temperatures=["300K"], query=QueryConfig(chi_max=0.2, top_k_per_solvent=2),
                           engine=EngineConfig(kind="plain", shard_size=20))
        def hook(stats):
            print("shard", stats["shard"], flush=True)
            time.sleep(0.3)
        return run_screen(cfg, out=out, ensemble=ens, descriptors=(Xp, Xs), catalogs=(pol, sol),
                          progress=False, hooks=EngineHooks(on_shard=hook) if slow else None, take_over=take_over)

    if __name__ == "__main__":
        main(sys.argv[1], slow=True)
        print("finished", flush=True)
""")


@pytest.mark.slow
def test_killed_driver_resumes_to_identical_output(tmp_path, monkeypatch):
    script = tmp_path / "killed_driver.py"
    script.write_text(KILLED_DRIVER)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, str(script), str(out)], stdout=subprocess.PIPE, text=True)
    seen = 0
    for line in proc.stdout:
        seen += line.startswith("shard")
        if seen >= 5:
            proc.send_signal(signal.SIGKILL)  # the driver dies mid-run, between or inside shards
            break
    proc.wait(timeout=30)
    done = len(list((out / "pairs").glob("shard-*.parquet")))
    assert 5 <= done < 20, done
    monkeypatch.syspath_prepend(str(tmp_path))
    import killed_driver

    from chiscreen.runtime import OutputLockedError

    with pytest.raises(OutputLockedError, match="stale lock of pid .*--take-over"):
        killed_driver.main(str(out), slow=False)  # the killed driver's lock is reported
    resumed = killed_driver.main(str(out), slow=False, take_over=True)
    assert resumed.resumed and resumed.stats.skipped == done and resumed.stats.written == 20 - done
    killed_driver.main(str(tmp_path / "clean"), slow=False)
    pd.testing.assert_frame_equal(_table(out), _table(tmp_path / "clean"))
    pd.testing.assert_frame_equal(pd.read_parquet(out / "top_per_solvent.parquet"),
                                  pd.read_parquet(tmp_path / "clean" / "top_per_solvent.parquet"))


def test_importing_the_screen_layer_does_not_touch_ray():
    code = ("import sys, chiscreen.screen, chiscreen.screen.engine, chiscreen.screen.job, chiscreen.cli.cmd_screen; "
            "print('ray' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_selective_only_query_skips_the_full_product(tmp_path, ens, problem):
    cfg = _cfg(selective=[SelectiveQuery(name="s", dissolve=["synthetic polymer 2"], exclude=["synthetic polymer 3"])])
    res = _run(tmp_path / "sel", ens, problem, cfg=cfg)
    assert res.stats.engine == "none" and res.stats.pairs == 0
    assert (tmp_path / "sel" / "selective-s.parquet").is_file() and not (tmp_path / "sel" / "pairs").exists()
