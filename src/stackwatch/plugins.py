"""Registries of check and collector plugins: built-ins register explicitly, third parties through
versioned entry-point groups (`stackwatch.checks.v1`, `stackwatch.collectors.v1`).

Kept import-light on purpose (no logging, typing or types at import time): `stackwatch-check` loads it
on every run. `Registry[T]` still works in annotations.
"""

from __future__ import annotations


class Registry:
    """Plugins of one kind by name; `Registry[T]` (T: what is registered) for annotations."""

    __class_getitem__ = classmethod(type(list[int]))  # types.GenericAlias, without importing types

    def __init__(self, kind: str, group: str):
        self.kind, self.group = kind, group
        self._items: dict[str, object] = {}
        self._loaded = False

    def register(self, name: str):
        """A decorator that registers the object it decorates under `name` (and returns it)."""
        def deco(obj):
            if name in self._items:
                raise ValueError(f"duplicate {self.kind} {name!r}")
            self._items[name] = obj
            return obj
        return deco

    def get(self, name: str):
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
                import logging

                logging.getLogger(__name__).warning("failed to load %s plugin %s: %s", self.kind, ep.value, exc)
