"""The Nagios-style checks: the plugins `stackwatch-check` runs and the scheduler calls in-process.

Built-in checks register themselves in CHECKS when their module is imported; `get_check` imports
only the module it needs (so `stackwatch-check disk` loads the disk check and nothing else), then
falls back to third-party plugins from the `stackwatch.checks.v1` entry-point group.
Kept import-light on purpose: it is on the path of every `stackwatch-check` run.
"""

from __future__ import annotations

from stackwatch.plugins import Registry

CHECKS = Registry("check", "stackwatch.checks.v1")

BUILTIN = {
    "cpu": "stackwatch.checks.cpu",
    "disk": "stackwatch.checks.disk",
    "interface": "stackwatch.checks.interface",
    "load": "stackwatch.checks.load",
    "memory": "stackwatch.checks.memory",
    "procs": "stackwatch.checks.procs",
    "probe-image": "stackwatch.checks.probes.plugin",
    "probe-instance": "stackwatch.checks.probes.plugin",
    "probe-object": "stackwatch.checks.probes.plugin",
    "probe-user": "stackwatch.checks.probes.plugin",
    "probe-volume": "stackwatch.checks.probes.plugin",
    "swap": "stackwatch.checks.swap",
    # OpenStack and infrastructure checks (issue 5); several names may share one module
    "amqp-log": "stackwatch.checks.amqp_log",
    "backup": "stackwatch.checks.backup",
    "console-log": "stackwatch.checks.console_log",
    "os-capacity": "stackwatch.checks.capacity",
    "os-compute-services": "stackwatch.checks.heartbeat",
    "os-endpoints": "stackwatch.checks.endpoints",
    "os-instances": "stackwatch.checks.instances",
    "os-network-agents": "stackwatch.checks.heartbeat",
    "os-volume-services": "stackwatch.checks.heartbeat",
    "rabbitmq": "stackwatch.checks.rabbitmq",
}


def get_check(name: str):
    """The check plugin class called `name`; KeyError (naming the known checks) when there is none."""
    if name not in CHECKS:
        if name in BUILTIN:
            __import__(BUILTIN[name])  # the module registers itself (importlib would cost an import)
        else:
            CHECKS.load_entry_points()
    if name not in CHECKS:
        raise KeyError(f"unknown check {name!r}; known: {', '.join(names())}")
    return CHECKS.get(name)


def names() -> list[str]:
    """Every check name: the built-ins and those registered by entry-point plugins."""
    CHECKS.load_entry_points()
    return sorted(set(BUILTIN) | set(CHECKS.names()))


def load_builtins() -> None:
    """Import every built-in check module, so CHECKS holds them all (for code that looks names up in
    CHECKS directly)."""
    for module in BUILTIN.values():
        __import__(module)
