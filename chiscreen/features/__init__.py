"""Features layer: registry of pure featurizers, polymer representations, a Parquet descriptor
cache and guarded parallel computation.

    from chiscreen.features import featurize
    ft = featurize(["*CC(*)c1ccccc1"], kind="polymer")   # cyclic trimer, RDKit 2D descriptors
    ft.X.shape, ft.status
"""
from chiscreen.features import fast2d as _fast2d  # noqa: F401  (registers featurizers)
from chiscreen.features import rdkit2d as _rdkit2d  # noqa: F401
from chiscreen.features.api import FeatureTable, canonical_key, featurize
from chiscreen.features.base import FEATURIZERS, Featurizer, get_featurizer
from chiscreen.features.cache import DescriptorCache
from chiscreen.features.representation import (
    DEFAULT_POLYMER_REPRESENTATION,
    parse_representation,
    polymer_molecule,
    solvent_molecule,
)

__all__ = [
    "FEATURIZERS", "Featurizer", "FeatureTable", "DescriptorCache", "featurize", "canonical_key",
    "get_featurizer", "DEFAULT_POLYMER_REPRESENTATION", "parse_representation", "polymer_molecule",
    "solvent_molecule",
]
