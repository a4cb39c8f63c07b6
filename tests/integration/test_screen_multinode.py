"""A screen across a local multi-node Ray cluster survives losing a worker node mid-run.

The cluster (ray.cluster_utils.Cluster, all on this machine): a head node without CPUs (the
driver's node: no actor lands there) and three worker nodes with one CPU and a ~100 MB object
store each. Two screen actors (one CPU each) run on two of them; after the first shard is
written the node of the actor that wrote it is removed (its raylet and workers are killed).
The actor restarts on the spare node and its in-flight shards are retried. The screen must
finish with every shard file exactly once and the same rows and values as a clean in-process
run.
"""
import os

import numpy as np
import pandas as pd
import pytest

ray = pytest.importorskip("ray")

from chiscreen.model import ChiEnsemble  # noqa: E402
from chiscreen.screen import EngineConfig, EngineHooks, QueryConfig, ScreenConfig, run_screen  # noqa: E402
from chiscreen.screen.synthetic import synthetic_catalogs  # noqa: E402

pytestmark = [pytest.mark.ray, pytest.mark.slow]

SHARD = 15


def _ppid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _ancestors(pid: int, depth: int = 6) -> set[int]:
    out = set()
    for _ in range(depth):
        try:
            pid = _ppid(pid)
        except (OSError, ValueError, IndexError):
            break
        out.add(pid)
        if pid <= 1:
            break
    return out


@pytest.fixture(scope="module")
def cluster(local_cluster):
    with local_cluster(3, node_resources=True) as cw:
        yield cw


def _cfg(kind: str, address: str | None = None) -> ScreenConfig:
    return ScreenConfig(temperatures=["25C", "80C"], ray_address=address,
                        query=QueryConfig(top_k_per_polymer=2, top_k_per_solvent=3),
                        engine=EngineConfig(kind=kind, shard_size=SHARD, num_actors=2, cpus_per_actor=1,
                                            in_flight_per_actor=1))


def _table(out: str) -> pd.DataFrame:
    df = pd.read_parquet(os.path.join(out, "pairs"))
    return df.sort_values(["polymer_id", "T_K", "solvent_id"]).reset_index(drop=True)


def test_screen_survives_a_killed_worker_node(cluster, tmp_path):
    c, workers = cluster
    pol, sol, Xp, Xs = synthetic_catalogs(300, 25, 12, seed=7, n_invalid=3)
    ens = ChiEnsemble.random(12, 12, n_members=3, d=6, seed=2)
    clean = run_screen(_cfg("plain"), out=str(tmp_path / "clean"), ensemble=ens, descriptors=(Xp, Xs),
                       catalogs=(pol, sol), progress=False)

    seen: list[int] = []
    killed: list = []

    def on_shard(s: dict) -> None:
        seen.append(s["shard"])
        if killed or s.get("skipped") or "pid" not in s:
            return
        up = _ancestors(int(s["pid"]))
        for node in workers:
            raylet = node.all_processes["raylet"][0].process.pid
            if raylet in up:
                c.remove_node(node, allow_graceful=False)   # SIGKILL the node's raylet and its workers
                killed.append(node)
                return

    res = run_screen(_cfg("ray", c.address), out=str(tmp_path / "multi"), ensemble=ens, descriptors=(Xp, Xs),
                     catalogs=(pol, sol), progress=False, hooks=EngineHooks(on_shard=on_shard))
    n_shards = clean.stats.n_shards
    assert n_shards >= 15
    assert killed, "no worker node was killed (the actor's node was not found)"
    assert len(seen) >= 2 and seen[0] != seen[-1]            # the kill came mid-run
    # every shard exactly once: one report per shard and one file per shard
    assert sorted(seen) == list(range(n_shards))
    files = sorted(os.listdir(os.path.join(str(tmp_path / "multi"), "pairs")))
    assert files == sorted(os.listdir(os.path.join(str(tmp_path / "clean"), "pairs")))
    assert len(files) == n_shards
    a, b = _table(str(tmp_path / "multi")), _table(str(tmp_path / "clean"))
    assert len(a) > 0 and not a.duplicated(["polymer_id", "solvent_id", "T_K"]).any()
    pd.testing.assert_frame_equal(a, b)
    ta = pd.read_parquet(os.path.join(str(tmp_path / "multi"), "solvent_topk")).sort_values(
        ["solvent_id", "T_K", "polymer_id"]).reset_index(drop=True)
    tb = pd.read_parquet(os.path.join(str(tmp_path / "clean"), "solvent_topk")).sort_values(
        ["solvent_id", "T_K", "polymer_id"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(ta, tb)
    alive = [n for n in ray.nodes() if n["Alive"]]
    assert len(alive) == 3                                    # head + the two surviving worker nodes
