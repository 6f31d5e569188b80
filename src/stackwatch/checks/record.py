"""Tuples with named fields, as `collections.namedtuple` makes them, for the check core's Metric, Result
and CheckOutcome.

Written out because `stackwatch-check` starts a process for every check run and importing
`collections` cost each run about 3 ms (its import, and tearing it down at exit). A record is a tuple
(indexing, unpacking, equality and hashing are a tuple's) with namedtuple's `_fields`, `_make`,
`_replace`, `_asdict`, repr, pickling and positional pattern matching.

Pure: stdlib only (`sys`, which every process has loaded).
"""

from __future__ import annotations

import sys


def record(name: str, fields: str, doc: str = "") -> type:
    """A class like `namedtuple(name, fields)` (subclass it to add a `__new__` with defaults and methods, as
    with a namedtuple); it belongs to the calling module, as a namedtuple does, so that it pickles."""
    names = tuple(fields.replace(",", " ").split())
    namespace = {"__slots__": (), "__doc__": doc or f"{name}({', '.join(names)})", "_fields": names,
                 "__match_args__": names, "__module__": sys._getframe(1).f_globals.get("__name__", "__main__")}
    for index, field in enumerate(names):
        namespace[field] = property(lambda self, i=index: self[i], doc=f"Alias for field number {index}")
    return type(name, (Record,), namespace)


class Record(tuple):
    """The behaviour every record shares (see the module docstring)."""

    __slots__ = ()
    _fields: tuple[str, ...] = ()

    def __new__(cls, *values):
        if len(values) != len(cls._fields):
            raise TypeError(f"{cls.__name__}() takes {len(cls._fields)} arguments but {len(values)} were given")
        return tuple.__new__(cls, values)

    @classmethod
    def _make(cls, iterable):
        values = tuple.__new__(cls, iterable)
        if len(values) != len(cls._fields):
            raise TypeError(f"expected {len(cls._fields)} arguments, got {len(values)}")
        return values

    def _replace(self, **changes):
        values = [changes.pop(name, value) for name, value in zip(self._fields, self)]
        if changes:
            raise ValueError(f"got unexpected field names: {list(changes)!r}")
        return self._make(values)

    def _asdict(self) -> dict:
        return dict(zip(self._fields, self))

    def __getnewargs__(self) -> tuple:
        return tuple(self)

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={value!r}" for name, value in zip(self._fields, self))
        return f"{type(self).__name__}({inner})"
