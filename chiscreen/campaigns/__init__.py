"""Campaigns: the questions users bring, answered from the ensemble, the thermo toolkit and catalog facts.

    from chiscreen.campaigns import CAMPAIGNS
    run = CAMPAIGNS["recycle"]          # -> chiscreen.campaigns.recycle.run_recycle
    res = run(cfg, out="runs/recycle")  # cfg: RecycleConfig (configs/recycle-demo.yaml)

Registered types (the project registry, :class:`chiscreen.registry.Registry`):

- ``recycle``: dissolve one plastic out of a mixture and leave the others
  (:mod:`~chiscreen.campaigns.recycle`)
- ``compatibilizer``: additives and block-pair candidates for a blend of two polymers
  (:mod:`~chiscreen.campaigns.compatibilizer`)

Each type is registered as ``(config dataclass, run function)``.
"""
from __future__ import annotations

from chiscreen.registry import Registry

CAMPAIGNS: Registry = Registry("campaign type")


def _register_builtin() -> None:
    from chiscreen.campaigns import compatibilizer, recycle  # noqa: F401  (registers on import)


_register_builtin()

__all__ = ["CAMPAIGNS"]
