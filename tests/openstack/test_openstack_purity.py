"""The pure parts of the OpenStack work import only the stdlib and other pure modules, and never read the clock
(STYLE.md 2.2): the inventory and quota core, the probe core."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).parents[2] / "src" / "stackwatch"
PURE = ["openstack/inventory.py", "openstack/quotas.py", "checks/probes/core.py"]
ALLOWED_STACKWATCH = {"stackwatch.openstack.inventory", "stackwatch.checks.core", "stackwatch.states",
                      "stackwatch.model"}


@pytest.mark.parametrize("rel", PURE)
def test_pure_module(rel):
    tree = ast.parse((ROOT / rel).read_text())
    assert "stdlib only" in ast.get_docstring(tree)
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    import sys
    for m in modules:
        top = m.split(".")[0]
        assert top in sys.stdlib_module_names or top == "__future__" or m in ALLOWED_STACKWATCH, f"{rel} imports {m}"
    calls = {ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    assert not calls & {"time.time", "_time.time", "time.monotonic", "datetime.now", "datetime.utcnow"}
