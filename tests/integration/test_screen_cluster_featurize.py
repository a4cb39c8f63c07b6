"""Featurization on the Ray cluster (``featurize.where: cluster``): a screen's molecules are
featurized on the screen actors of every node, into a descriptor cache given as a filesystem URI,
shard by shard, with the same results as featurizing on the driver.

The cluster (ray.cluster_utils.Cluster, all on this machine): a head without CPUs (the driver's
node: nothing is featurized there) and two worker nodes with one CPU each, one screen actor per
node. Real molecules (the starter polymer catalog, 24 solvents) and the shipped model; one polymer
row carries an identity RDKit cannot parse, so its featurization fails in the actor's guarded
worker and it must come back as a row with the reason.
"""
import logging
import os

import numpy as np
import pandas as pd
import pytest

ray = pytest.importorskip("ray")

from chiscreen.catalogs.catalog import load_catalog  # noqa: E402
from chiscreen.model import load_ensemble  # noqa: E402
from chiscreen.screen import EngineConfig, FeaturizeOptions, QueryConfig, ScreenConfig, run_screen  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]

BAD_ROW = 5


@pytest.fixture(scope="module")
def cluster(local_cluster):
    with local_cluster(2) as cw:
        yield cw


@pytest.fixture(scope="module")
def inputs():
    pol, _ = load_catalog("catalogs/polymers.csv", "polymer")
    sol, _ = load_catalog("catalogs/solvents.csv", "solvent")
    pol = pol.head(48).copy()
    pol.loc[BAD_ROW, "canonical"] = "not-a-smiles*"  # valid in the catalog, fails in the featurizer
    return pol, sol.head(24).copy(), load_ensemble(None)


def _cfg(where: str, cache: str, address: str | None = None) -> ScreenConfig:
    return ScreenConfig(temperatures=["25C", "80C"], ray_address=address,
                        query=QueryConfig(top_k_per_polymer=3, top_k_per_solvent=2),
                        engine=EngineConfig(kind="ray" if where == "cluster" else "plain", shard_size=8,
                                            num_actors=2, cpus_per_actor=1, in_flight_per_actor=1),
                        featurize=FeaturizeOptions(where=where, cache_uri=cache, timeout_s=60))


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same rows and values; floats to float32 rounding (shards are scored in other blocks on the
    nodes than on the driver, and a chi near 0 has no relative tolerance to spare)."""
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-5, atol=1e-6)


def _pairs(out) -> pd.DataFrame:
    df = pd.read_parquet(os.path.join(str(out), "pairs"))
    return df.sort_values(["polymer_id", "T_K", "solvent_id"]).reset_index(drop=True)


def test_featurization_runs_on_both_worker_nodes_and_matches_the_driver(cluster, inputs, tmp_path, caplog):
    c, workers = cluster
    pol, sol, ens = inputs
    ref = run_screen(_cfg("driver", (tmp_path / "cache-driver").as_uri()), out=str(tmp_path / "driver"),
                     ensemble=ens, catalogs=(pol, sol), progress=False)
    cache_uri = (tmp_path / "cache-cluster").as_uri()
    with caplog.at_level(logging.INFO, logger="chiscreen.screen"):
        res = run_screen(_cfg("cluster", cache_uri, c.address), out=str(tmp_path / "cluster"), ensemble=ens,
                         catalogs=(pol, sol), progress=False)

    # same kept rows and per-solvent candidates as featurizing on the driver
    _same(_pairs(tmp_path / "cluster"), _pairs(tmp_path / "driver"))
    assert len(_pairs(tmp_path / "cluster")) > 0
    assert res.manifest.n_shards == 6 and res.stats.written == 6

    # where it ran: both worker nodes (never the CPU-less head), every identity once (tacticity
    # grades of one repeat unit are rows with one identity)
    feat = res.summary["featurization"]
    worker_ids = {w.node_id for w in workers}
    assert feat["where"] == "cluster" and set(feat["nodes"]) == worker_ids
    assert all(n["polymer"] > 0 for n in feat["nodes"].values())
    n_ident = pol["canonical"].nunique()
    assert n_ident < len(pol)  # the catalog has grades: the test sees the deduplication
    assert sum(n["polymer"] for n in feat["nodes"].values()) == feat["computed"]["polymer"] == n_ident
    assert feat["computed"]["solvent"] == len(sol) and feat["from_cache"] == {"solvent": 0, "polymer": 0}
    text = caplog.text
    assert "featurization on the cluster" in text
    for nid in worker_ids:
        assert f"featurized on node {nid[:12]}" in text

    # the failure is a row with its reason, in the results and in the summary, as on the driver
    got = pd.read_parquet(tmp_path / "cluster" / "polymers.parquet").set_index("id")
    want = pd.read_parquet(tmp_path / "driver" / "polymers.parquet").set_index("id")
    bad_id = int(pol["id"].iat[BAD_ROW])
    assert got.at[bad_id, "feature_status"] == "failed" and "cannot parse" in got.at[bad_id, "feature_reason"]
    assert not bool(got.at[bad_id, "scored"])
    pd.testing.assert_series_equal(got["feature_status"], want["feature_status"])
    assert res.summary["polymers"]["scored"] == ref.summary["polymers"]["scored"] == len(pol) - 1
    assert feat["failed"]["polymer"] == 1

    # the cache the actors wrote (through the URI) serves the next run: nothing is recomputed
    again = run_screen(_cfg("cluster", cache_uri, c.address), out=str(tmp_path / "cluster2"), ensemble=ens,
                       catalogs=(pol, sol), progress=False)
    f2 = again.summary["featurization"]
    assert f2["computed"] == {} and f2["from_cache"] == {"solvent": len(sol), "polymer": len(pol)}
    assert f2["failed"] == {"polymer": 1}  # the cached failure, still a row with its reason
    p2 = pd.read_parquet(tmp_path / "cluster2" / "polymers.parquet").set_index("id")
    assert p2.at[bad_id, "feature_reason"] == got.at[bad_id, "feature_reason"]
    _same(_pairs(tmp_path / "cluster2"), _pairs(tmp_path / "driver"))


def test_driver_featurization_on_ray_actors_reads_each_shard_from_the_cache(cluster, inputs, tmp_path):
    """featurize.where: driver with the Ray engine: the driver reads each shard's descriptors from
    the cache as it sends the shard (no (N, F) matrix); same rows as the plain engine."""
    c, _ = cluster
    pol, sol, ens = inputs
    cache = (tmp_path / "cache").as_uri()
    plain = run_screen(_cfg("driver", cache), out=str(tmp_path / "plain"), ensemble=ens, catalogs=(pol, sol),
                       progress=False)
    cfg = _cfg("driver", cache, c.address)
    cfg.engine.kind = "ray"
    res = run_screen(cfg, out=str(tmp_path / "ray"), ensemble=ens, catalogs=(pol, sol), progress=False)
    a, b = _pairs(tmp_path / "ray"), _pairs(tmp_path / "plain")
    assert len(a) > 0 and a[["polymer_id", "solvent_id", "T_K"]].equals(b[["polymer_id", "solvent_id", "T_K"]])
    for col in ("chi", "chi_std", "p_soluble"):
        assert np.allclose(a[col], b[col], atol=1e-5), col
    assert res.stats.engine == "ray" and res.stats.written == plain.stats.written == res.manifest.n_shards
    assert res.manifest.polymers_hash == plain.manifest.polymers_hash
    got = pd.read_parquet(tmp_path / "ray" / "polymers.parquet")
    assert (got["feature_status"] == "failed").sum() == 1


def _raylet_of(pid: int, nodes) -> object | None:
    """The cluster node whose raylet is an ancestor of process ``pid`` (its actor's node)."""
    up = set()
    for _ in range(6):
        try:
            with open(f"/proc/{pid}/stat") as f:
                pid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            break
        up.add(pid)
    return next((n for n in nodes if n.all_processes["raylet"][0].process.pid in up), None)


def test_a_worker_node_killed_while_featurizing_loses_nothing(cluster, inputs, tmp_path, local_cluster):
    """Runs last in this module (it removes a node): a spare node is added, the node of the actor
    that finished the first shard is killed; the restarted actor featurizes and scores the
    retried shards, and the output equals the driver's."""
    from chiscreen.screen import EngineHooks

    c, workers = cluster
    pol, sol, ens = inputs
    nodes = workers + [c.add_node(num_cpus=1, object_store_memory=local_cluster.STORE)]
    c.wait_for_nodes()
    run_screen(_cfg("driver", (tmp_path / "cache-driver").as_uri()), out=str(tmp_path / "driver"),
               ensemble=ens, catalogs=(pol, sol), progress=False)
    seen, killed = [], []

    def on_shard(s: dict) -> None:
        seen.append(s["shard"])
        if not killed and "pid" in s:
            node = _raylet_of(int(s["pid"]), nodes)
            if node is not None:
                c.remove_node(node, allow_graceful=False)  # SIGKILL its raylet, actor and featurization workers
                killed.append(node)

    res = run_screen(_cfg("cluster", (tmp_path / "cache-cluster").as_uri(), c.address), out=str(tmp_path / "cluster"),
                     ensemble=ens, catalogs=(pol, sol), progress=False, hooks=EngineHooks(on_shard=on_shard))
    assert killed and sorted(seen) == list(range(res.manifest.n_shards))
    assert len(os.listdir(tmp_path / "cluster" / "pairs")) == res.manifest.n_shards
    _same(_pairs(tmp_path / "cluster"), _pairs(tmp_path / "driver"))
    got = pd.read_parquet(tmp_path / "cluster" / "polymers.parquet")
    want = pd.read_parquet(tmp_path / "driver" / "polymers.parquet")
    assert list(got["feature_status"]) == list(want["feature_status"])
    assert res.summary["featurization"]["failed"]["polymer"] == 1

