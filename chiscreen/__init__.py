"""chiscreen: polymer-solvent miscibility (Flory-Huggins chi and solubility) at screening scale.

Layers depend one way: chem -> features -> data -> model -> screen / qc / al -> campaigns -> cli.
Importing chiscreen never starts Ray and never touches the network.
"""
__version__ = "0.1.0"
