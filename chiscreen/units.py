"""Temperatures. Inside chiscreen every temperature is in Kelvin, always.

Strings carry their unit (``"25C"``, ``"25 °C"``, ``"298.15K"``); bare numbers are Kelvin.
Anything outside ``T_MIN_K``-``T_MAX_K`` is rejected: a Celsius value passed as Kelvin (25 -> 25 K)
or a Kelvin value passed as Celsius (298 C -> 571 K is still accepted, but 700 C is not) is the
usual mistake, and the error says so.
"""
from __future__ import annotations

import re
from typing import Iterable

import numpy as np

from chiscreen.errors import TemperatureError

T_MIN_K = 150.0
T_MAX_K = 700.0
ZERO_C = 273.15

_TEMP_RE = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)\s*(°?\s*[CcKk])?\s*$")


def check_kelvin(t_k: float, what: str = "temperature") -> float:
    """Return ``t_k`` if it lies in [T_MIN_K, T_MAX_K], else raise TemperatureError."""
    t = float(t_k)
    if not np.isfinite(t) or t < T_MIN_K or t > T_MAX_K:
        hint = ""
        if np.isfinite(t) and -100 <= t < T_MIN_K:
            hint = f" (did you mean {t} C = {t + ZERO_C:.2f} K?)"
        raise TemperatureError(
            f"{what} {t} K is outside the accepted range {T_MIN_K:.0f}-{T_MAX_K:.0f} K{hint}"
        )
    return t


def parse_temperature(value: str | float | int) -> float:
    """Parse ``"25C"``, ``"25 °C"``, ``"298.15K"`` or a number (Kelvin) to Kelvin.

    Raises TemperatureError for unparsable text or values outside 150-700 K.
    """
    if isinstance(value, (int, float, np.floating, np.integer)):
        return check_kelvin(float(value))
    m = _TEMP_RE.match(str(value))
    if not m:
        raise TemperatureError(
            f"cannot read temperature {value!r}: expected a number with unit, like '25C' or '298.15K'"
        )
    num = float(m.group(1))
    unit = (m.group(2) or "K").replace("°", "").strip().upper()
    t_k = num + ZERO_C if unit == "C" else num
    return check_kelvin(t_k, what=f"temperature {value!r} =")


def parse_temperatures(values: str | Iterable[str | float]) -> list[float]:
    """Parse a comma-separated string or an iterable of temperatures to Kelvin."""
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    return [parse_temperature(v) for v in values]


def celsius_to_kelvin(t_c):
    """Vectorised Celsius -> Kelvin (no range check)."""
    return np.asarray(t_c, dtype=float) + ZERO_C
