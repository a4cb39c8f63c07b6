"""Flory-Huggins thermodynamics: mixing free energy, spinodal, binodal, critical points, UCST/LCST
from chi(T), Flory melting-point depression, and the one verdict used everywhere.

Units: temperatures in Kelvin, molar volumes in cm3/mol, heats in J/mol, chi dimensionless.

- :mod:`~chiscreen.thermo.flory`: chi_c, N from molecular weight, free energy of mixing, spinodal,
  binodal (common tangent), critical point
- :mod:`~chiscreen.thermo.temperature`: chi(T) = A + B/T (+ C/T^2), critical temperatures (UCST/LCST),
  melting-point depression and the dissolution temperature of a semicrystalline polymer
- :mod:`~chiscreen.thermo.verdict`: ``miscibility_verdict`` (chi vs chi_c with the ensemble std) and
  ``dissolution_verdict`` (dissolves yes/no/borderline/unknown at T)
"""
from chiscreen.thermo.flory import (
    CHI_C_LONG_CHAIN, binodal, chemical_potentials, chi_critical, chi_critical_array, critical_point,
    free_energy_mixing, n_ratio_from_dp, n_ratio_from_mw, spinodal, spinodal_chi,
)
from chiscreen.thermo.temperature import (
    ChiT, critical_temperatures, dissolution_temperature, melting_point_depressed,
)
from chiscreen.thermo.verdict import (
    DissolutionVerdict, PolymerFacts, SolventFacts, dissolution_verdict, miscibility_verdict,
    miscibility_verdict_array,
)

__all__ = [
    "CHI_C_LONG_CHAIN", "chi_critical", "chi_critical_array", "n_ratio_from_mw", "n_ratio_from_dp",
    "free_energy_mixing", "chemical_potentials", "spinodal", "spinodal_chi", "binodal", "critical_point",
    "ChiT", "critical_temperatures", "melting_point_depressed", "dissolution_temperature",
    "miscibility_verdict", "miscibility_verdict_array", "dissolution_verdict", "DissolutionVerdict",
    "PolymerFacts", "SolventFacts",
]
