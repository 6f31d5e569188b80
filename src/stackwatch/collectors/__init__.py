"""The collectors: each turns a system or a service into samples (`model.Sample`) for the trend
store, in-process, on the scheduler's interval.

Built-in collectors register themselves in COLLECTORS when their module is imported;
`get_collector` imports only the module it needs, then falls back to third-party plugins from the
`stackwatch.collectors.v1` entry-point group.
"""

from __future__ import annotations

from stackwatch.plugins import Registry

COLLECTORS = Registry("collector", "stackwatch.collectors.v1")

BUILTIN = {
    "host": "stackwatch.collectors.host",
}


def get_collector(name: str):
    """The collector class called `name`; KeyError (naming the known collectors) when there is none."""
    if name not in COLLECTORS:
        if name in BUILTIN:
            __import__(BUILTIN[name])  # the module registers itself
        else:
            COLLECTORS.load_entry_points()
    if name not in COLLECTORS:
        raise KeyError(f"unknown collector {name!r}; known: {', '.join(names())}")
    return COLLECTORS.get(name)


def names() -> list[str]:
    """Every collector name: the built-ins and those registered by entry-point plugins."""
    COLLECTORS.load_entry_points()
    return sorted(set(BUILTIN) | set(COLLECTORS.names()))


def load_builtins() -> None:
    """Import every built-in collector module, so COLLECTORS holds them all (for code that looks names up in
    COLLECTORS directly)."""
    for module in BUILTIN.values():
        __import__(module)
