"""The runtime layer: how chiscreen runs work and where it writes.

- :mod:`chiscreen.runtime.pool`: :class:`SupervisedPool`, worker processes with a per-task wall
  time, a memory cap on the child and respawn after a kill or crash; outcomes are value-or-reason.
- :mod:`chiscreen.runtime.cluster`: :func:`connect_ray` (the one place Ray is connected to or
  started), :func:`ray_options` (threads per task/actor), :func:`job_runtime_env`, :func:`ray_map`.
- :mod:`chiscreen.runtime.outdir`: :class:`OwnedDir`, output folders with ownership, an exclusive
  lock and an overwrite that removes only what chiscreen wrote; Parquet table metadata.
- :mod:`chiscreen.runtime.progress`: progress bars only on a terminal.

Layer: above config, below thermo; imports only errors, io, paths, units, schema, registry, config.
Nothing here imports Ray at import time.
"""
from chiscreen.runtime.cluster import connect_ray, forwarded_env, job_runtime_env, ray_map, ray_options, shutdown_ray
from chiscreen.runtime.outdir import (
    OutputDirError, OutputLockedError, OwnedDir, read_table_metadata, table_metadata, with_metadata,
)
from chiscreen.runtime.pool import Outcome, SupervisedPool, run_inline
from chiscreen.runtime.progress import bar

__all__ = ["Outcome", "OutputDirError", "OutputLockedError", "OwnedDir", "SupervisedPool", "bar", "connect_ray",
           "forwarded_env", "job_runtime_env", "ray_map", "ray_options", "read_table_metadata", "run_inline",
           "shutdown_ray", "table_metadata", "with_metadata"]
