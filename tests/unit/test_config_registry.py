from dataclasses import dataclass, field

import pytest

from chiscreen.config import load_config, save_config
from chiscreen.errors import ConfigError, RegistryError
from chiscreen.registry import Registry


@dataclass
class Inner:
    d: int = 34
    act: str = "sigmoid"


@dataclass
class Outer:
    epochs: int = 10
    lr: float = 1e-3
    inner: Inner = field(default_factory=Inner)
    temps: list[float] = field(default_factory=list)


def test_load_and_roundtrip(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("epochs: 5\ninner:\n  d: 8\ntemps: [300, 350.5]\n")
    cfg = load_config(p, Outer)
    assert cfg == Outer(epochs=5, inner=Inner(d=8), temps=[300.0, 350.5])
    save_config(cfg, tmp_path / "resolved.yaml")
    assert load_config(tmp_path / "resolved.yaml", Outer) == cfg


@pytest.mark.parametrize("text,fragment", [
    ("epoch: 5\n", "unknown key(s) 'epoch'"),
    ("inner:\n  dd: 3\n", "inner: unknown key(s) 'dd'"),
    ("epochs: five\n", "epochs: expected an integer"),
    ("lr: [1]\n", "lr: expected a number"),
])
def test_bad_configs_name_the_key(tmp_path, text, fragment):
    p = tmp_path / "c.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError) as ei:
        load_config(p, Outer)
    assert fragment in str(ei.value)


def test_registry():
    r = Registry("widget")

    @r.register("a")
    class A:
        pass

    assert r["a"] is A and "a" in r and r.keys() == ["a"]
    with pytest.raises(RegistryError, match="unknown widget 'b'; expected one of \\['a'\\]"):
        r["b"]
