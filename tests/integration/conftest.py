"""A local multi-node Ray cluster for the integration tests (ray.cluster_utils.Cluster): a head
with no CPUs, so every task and actor runs on a worker node that a test may kill."""
from __future__ import annotations

from contextlib import contextmanager

import pytest

STORE = 100 * 1024 ** 2  # object store per node (bytes): small, this machine has 2 cores


@contextmanager
def _local_cluster(n_workers: int, node_resources: bool = False):
    """Yield (cluster, worker nodes): ``n_workers`` 1-CPU nodes (each with a ``node{i}`` resource
    where ``node_resources``). A Ray session already open in this process is shut down first."""
    import ray
    from ray.cluster_utils import Cluster

    if ray.is_initialized():  # another module's embedded Ray: these tests need their own cluster
        ray.shutdown()
    c = Cluster(initialize_head=True, connect=False,
                head_node_args={"num_cpus": 0, "object_store_memory": STORE, "include_dashboard": False})
    workers = [c.add_node(num_cpus=1, object_store_memory=STORE,
                          **({"resources": {f"node{i}": 1}} if node_resources else {}))
               for i in range(n_workers)]
    c.wait_for_nodes()
    try:
        yield c, workers
    finally:
        try:
            ray.shutdown()
        finally:
            c.shutdown()


_local_cluster.STORE = STORE


@pytest.fixture(scope="session")
def local_cluster():
    """The :func:`_local_cluster` context manager (its ``STORE`` attribute: bytes per node)."""
    return _local_cluster
