"""A small generic registry, used for featurizers, xtb engines, acquisition functions and
campaign types. CLI choices are the registry's keys.

    FEATURIZERS = Registry("featurizer")

    @FEATURIZERS.register("rdkit2d")
    class RDKit2D: ...

    FEATURIZERS["rdkit2d"]      # -> the class
    FEATURIZERS.keys()          # -> ["rdkit2d", ...]
"""
from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from chiscreen.errors import RegistryError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to objects (classes or callables). Unknown names raise RegistryError."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items and self._items[name] is not obj:
                raise RegistryError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return deco

    def __getitem__(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise RegistryError(
                f"unknown {self.kind} {name!r}; expected one of {sorted(self._items)}"
            ) from None

    def get(self, name: str, default: T | None = None) -> T | None:
        return self._items.get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> list[str]:
        return sorted(self._items)

    def ordered(self) -> list[str]:
        """Names in registration order (where order matters, e.g. the head outputs of tasks)."""
        return list(self._items)

    def unregister(self, name: str) -> None:
        """Remove ``name`` (tests that register a temporary entry clean up with this)."""
        self._items.pop(name, None)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.keys()})"
