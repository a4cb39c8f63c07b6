"""Features layer: registry of pure featurizers, polymer representations, a Parquet descriptor
cache and guarded parallel computation.

    from chiscreen.features import featurize
    ft = featurize(["*CC(*)c1ccccc1"], kind="polymer")   # cyclic trimer, RDKit 2D descriptors
    ft.X.shape, ft.status

``featurize``, ``FeatureTable``, ``canonical_key`` and ``DescriptorCache`` are imported on first
use (PEP 562): a guarded worker process imports this package for the featurizers alone and need
not load pandas and pyarrow (~0.5 s of CPU per worker start).
"""
from chiscreen.features import fast2d as _fast2d  # noqa: F401  (registers featurizers)
from chiscreen.features import fast2d_shared as _fast2d_shared  # noqa: F401
from chiscreen.features import rdkit2d as _rdkit2d  # noqa: F401
from chiscreen.features import backbone as _backbone  # noqa: F401
from chiscreen.features.base import FEATURIZERS, Featurizer, get_featurizer
from chiscreen.features.representation import (
    DEFAULT_POLYMER_REPRESENTATION,
    parse_representation,
    polymer_molecule,
    solvent_molecule,
)

_LAZY = {"featurize": "api", "FeatureTable": "api", "canonical_key": "api", "DescriptorCache": "cache"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"chiscreen.features.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'chiscreen.features' has no attribute {name!r}")


__all__ = [
    "FEATURIZERS", "Featurizer", "FeatureTable", "DescriptorCache", "featurize", "canonical_key",
    "get_featurizer", "DEFAULT_POLYMER_REPRESENTATION", "parse_representation", "polymer_molecule",
    "solvent_molecule",
]
