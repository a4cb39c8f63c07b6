import pytest

from chiscreen.errors import TemperatureError
from chiscreen.units import parse_temperature, parse_temperatures


@pytest.mark.parametrize("text,kelvin", [("25C", 298.15), ("25 °C", 298.15), ("298.15K", 298.15), (300, 300.0),
                                         ("-20c", 253.15), ("1e2C", 373.15)])
def test_parse(text, kelvin):
    assert parse_temperature(text) == pytest.approx(kelvin)


@pytest.mark.parametrize("bad,fragment", [(25, "did you mean 25"), ("800C", "outside"), ("hot", "cannot read"),
                                          ("25F", "cannot read")])
def test_rejects(bad, fragment):
    with pytest.raises(TemperatureError, match=fragment):
        parse_temperature(bad)


def test_list():
    assert parse_temperatures("25C,50C") == pytest.approx([298.15, 323.15])
