"""The notification modules are pure: stdlib and each other only, each with a docstring that says
what it owns and "stdlib only" (STYLE.md 2.2)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import stackwatch.stacktach

PACKAGE = Path(stackwatch.stacktach.__file__).parent
PURE = ["notification", "usage", "names", "times", "faults", "lifecycle", "errors", "audit", "archive", "inventory", "message"]


@pytest.mark.parametrize("name", PURE)
def test_module_is_pure(name):
    source = (PACKAGE / f"{name}.py").read_text()
    tree = ast.parse(source)
    doc = ast.get_docstring(tree)
    assert doc and "stdlib only" in doc.lower()
    assert len(source.splitlines()) <= 320
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{name}: relative import"
            modules = [node.module or ""]
            if node.module == "stackwatch.stacktach":             # from stackwatch.stacktach import names
                modules = [f"stackwatch.stacktach.{a.name}" for a in node.names]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if module == "stackwatch.model":                     # the pure domain vocabulary (Sample)
                continue
            if top == "stackwatch":
                assert module.removeprefix("stackwatch.stacktach.") in PURE, f"{name} imports {module}"
            else:
                assert top in sys.stdlib_module_names or top == "__future__", f"{name} imports {module}"
    assert "time.time" not in source and "datetime.now" not in source and "utcnow()" not in source.replace("`timeutils.utcnow()`", "")
