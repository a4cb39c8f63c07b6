"""Temperatures. Inside chiscreen every temperature is in Kelvin, always.

Strings carry their unit (``"25C"``, ``"-10 °C"``, ``"298.15K"``). Where a bare number is
accepted it is Kelvin: the Python API (floats), config files and table columns whose name
carries the unit (``temperature_K``; ``temperature_C`` is converted by the table reader). On the
command line (``--temp``, ``--temps``) a unit is required: :func:`parse_cli_temperature` rejects
a bare number with a hint instead of guessing.

Anything outside ``T_MIN_K``-``T_MAX_K`` is rejected. An explicit unit is taken as written: ``149K``
is simply out of range; only a bare number (already Kelvin by convention) that would make sense
in Celsius gets a "did you mean" hint.
"""
from __future__ import annotations

import math
import re
from typing import Iterable

import numpy as np

from chiscreen.errors import TemperatureError

T_MIN_K = 150.0
T_MAX_K = 700.0
ZERO_C = 273.15

_TEMP_RE = re.compile(r"^\s*([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(°?\s*[CcKk])?\s*$")


def format_number(x, digits: int = 6) -> str:
    """Short text for any number: ``1e+300`` rather than 300 digits, ``298.15`` as is; never
    raises (an unreadable value comes back as its repr, cut to 40 characters)."""
    try:
        if isinstance(x, (int, np.integer)) and not isinstance(x, bool) and abs(int(x)) < 10**digits:
            return str(int(x))
        f = float(x)
    except (TypeError, ValueError, OverflowError):
        text = repr(x)
        if isinstance(x, int):  # an int too large for a float
            s = str(abs(x))
            return f"{'-' if x < 0 else ''}{s[0]}.{s[1:digits]}e+{len(s) - 1}"
        return text if len(text) <= 40 else text[:37] + "..."
    if math.isnan(f) or math.isinf(f):
        return str(f)
    return f"{f:.{digits}g}"


def check_kelvin(t_k: float, what: str = "temperature", hint_celsius: bool = True) -> float:
    """Return ``t_k`` if it lies in [T_MIN_K, T_MAX_K], else raise TemperatureError.

    ``hint_celsius``: suggest "did you mean ... C" for values between -100 and 150 (only right
    when the number came without a unit)."""
    try:
        t = float(t_k)
    except (TypeError, ValueError, OverflowError):
        raise TemperatureError(f"{what} {format_number(t_k)} is not a number") from None
    if not np.isfinite(t) or t < T_MIN_K or t > T_MAX_K:
        hint = ""
        if hint_celsius and np.isfinite(t) and -100 <= t < T_MIN_K:
            hint = f" (did you mean {format_number(t)} C = {t + ZERO_C:.2f} K?)"
        raise TemperatureError(
            f"{what} {format_number(t)} K is outside the accepted range {T_MIN_K:.0f}-{T_MAX_K:.0f} K{hint}"
        )
    return t


def _split(value) -> tuple[float, str | None]:
    """(number, unit "C"/"K" or None) of a temperature string; raises TemperatureError."""
    m = _TEMP_RE.match(str(value))
    if not m:
        raise TemperatureError(
            f"cannot read temperature {value!r}: expected a number with unit, like '25C', '-10C' or '298.15K'"
        )
    unit = m.group(2)
    return float(m.group(1)), (unit.replace("°", "").strip().upper() if unit else None)


def parse_temperature(value: str | float | int) -> float:
    """Parse ``"25C"``, ``"25 °C"``, ``"298.15K"`` or a number (Kelvin) to Kelvin.

    Raises TemperatureError for unparsable text or values outside 150-700 K.
    """
    if isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool):
        return check_kelvin(value)
    num, unit = _split(value)
    if unit is None:
        return check_kelvin(num, what=f"temperature {value!r} =")
    t_k = num + ZERO_C if unit == "C" else num
    return check_kelvin(t_k, what=f"temperature {value!r} =", hint_celsius=False)


def parse_cli_temperature(value: str, option: str = "--temp") -> float:
    """A temperature typed on the command line: the unit is required (``25C``, ``-10C``,
    ``298.15K``); a bare number is rejected with a hint rather than read as Kelvin."""
    num, unit = _split(value)
    if unit is None:
        raise TemperatureError(
            f"{option} {str(value).strip()}: a unit is required, write {str(value).strip()}C for Celsius "
            f"or {str(value).strip()}K for Kelvin"
        )
    return parse_temperature(value)


def parse_temperatures(values: str | Iterable[str | float]) -> list[float]:
    """Parse a comma-separated string or an iterable of temperatures to Kelvin."""
    if isinstance(values, str):
        values = [v for v in values.split(",") if v.strip()]
    return [parse_temperature(v) for v in values]


def parse_cli_temperatures(values: str, option: str = "--temps") -> list[float]:
    """Comma-separated command-line temperatures, each with its unit (``25C,80C,413.15K``)."""
    items = [v for v in str(values).split(",") if v.strip()]
    if not items:
        raise TemperatureError(f"{option} {values!r}: no temperature given (e.g. 25C,80C)")
    return [parse_cli_temperature(v, option) for v in items]


def celsius_to_kelvin(t_c):
    """Vectorised Celsius -> Kelvin (no range check)."""
    return np.asarray(t_c, dtype=float) + ZERO_C
