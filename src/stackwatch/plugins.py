"""Registries of check and collector plugins: built-ins register explicitly, third parties through
versioned entry-point groups (`stackwatch.checks.v1`, `stackwatch.collectors.v1`).
"""

from __future__ import annotations

import logging
from typing import Callable, Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, group: str):
        self.kind, self.group = kind, group
        self._items: dict[str, T] = {}
        self._loaded = False

    def register(self, name: str) -> Callable[[T], T]:
        def deco(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"duplicate {self.kind} {name!r}")
            self._items[name] = obj
            return obj
        return deco

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; known: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def load_entry_points(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        import importlib.metadata

        for ep in importlib.metadata.entry_points(group=self.group):
            try:
                ep.load()  # the module registers itself on import
            except Exception as exc:  # a broken third-party plugin must not stop the platform
                log.warning("failed to load %s plugin %s: %s", self.kind, ep.value, exc)
