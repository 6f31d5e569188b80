"""The lazy check catalogue: built-ins by name, one module per check."""

from __future__ import annotations

import ast
import subprocess
import sys

import pytest

from stackwatch.checks import BUILTIN, CHECKS, get_check, names
from stackwatch.checks.base import CheckPlugin
from stackwatch.checks.options import Options, fields


HOST = ["cpu", "disk", "interface", "load", "memory", "procs", "swap"]
CLOUD = ["amqp-log", "backup", "console-log", "os-capacity", "os-compute-services", "os-endpoints", "os-instances",
         "os-network-agents", "os-volume-services", "rabbitmq"]


def test_names_are_the_builtins():
    assert names() == sorted(BUILTIN)  # other issues add theirs (probe-*): listed, sorted
    assert set(HOST + CLOUD) <= set(names())


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_each_builtin_registers_under_its_name(name):
    plugin = get_check(name)
    assert CHECKS.get(name) is plugin
    assert issubclass(plugin, CheckPlugin) and plugin.name == name
    assert plugin.__module__ == BUILTIN[name]
    options = plugin.Options()  # every option has a default
    assert issubclass(plugin.Options, Options)
    first = fields(plugin.Options)[0].name
    with pytest.raises(AttributeError):  # frozen
        setattr(options, first, getattr(options, first))


def test_unknown_check_names_the_known_ones():
    with pytest.raises(KeyError) as info:
        get_check("nosuch")
    assert info.value.args[0] == "unknown check 'nosuch'; known: " + ", ".join(sorted(BUILTIN))


def test_get_check_imports_only_that_module():
    code = ("import sys; from stackwatch.checks import get_check; get_check('load'); "
            "print(sorted(m for m in sys.modules if m.startswith('stackwatch.checks.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert ast.literal_eval(out) == ["stackwatch.checks.base", "stackwatch.checks.core", "stackwatch.checks.load",
                                     "stackwatch.checks.options", "stackwatch.checks.record"]
