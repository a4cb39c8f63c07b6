import pytest

from chiscreen.errors import TemperatureError
from chiscreen.units import (format_number, parse_cli_temperature, parse_cli_temperatures, parse_temperature,
                             parse_temperatures)


@pytest.mark.parametrize("text,kelvin", [("25C", 298.15), ("25 °C", 298.15), ("298.15K", 298.15), (300, 300.0),
                                         ("-20c", 253.15), ("1e2C", 373.15), ("-10C", 263.15), (".5e3K", 500.0)])
def test_parse(text, kelvin):
    assert parse_temperature(text) == pytest.approx(kelvin)


@pytest.mark.parametrize("bad,fragment", [(25, "did you mean 25"), ("800C", "outside"), ("hot", "cannot read"),
                                          ("25F", "cannot read"), (10**300, "1e\\+300 K is outside")])
def test_rejects(bad, fragment):
    with pytest.raises(TemperatureError, match=fragment):
        parse_temperature(bad)


def test_explicit_unit_is_not_second_guessed():
    with pytest.raises(TemperatureError) as e:
        parse_temperature("149K")
    assert "did you mean" not in str(e.value) and "149 K is outside the accepted range 150-700 K" in str(e.value)


def test_cli_requires_a_unit():
    assert parse_cli_temperature("-10C") == pytest.approx(263.15)
    with pytest.raises(TemperatureError, match="--temp 300: a unit is required, write 300C .* or 300K"):
        parse_cli_temperature("300")
    with pytest.raises(TemperatureError, match="--temps 25: a unit is required"):
        parse_cli_temperatures("25C,25", "--temps")
    with pytest.raises(TemperatureError, match="no temperature given"):
        parse_cli_temperatures(" , ", "--temps")


def test_huge_numbers_are_short():
    assert format_number(10**300) == "1e+300"
    assert len(format_number(10**400)) < 20
    assert format_number(298.15) == "298.15" and format_number(5) == "5"


def test_list():
    assert parse_temperatures("25C,50C") == pytest.approx([298.15, 323.15])
    assert parse_cli_temperatures("-10C,50C") == pytest.approx([263.15, 323.15])
