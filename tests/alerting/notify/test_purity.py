"""The payload builders' modules and the retry policy need nothing beyond the standard library and the
pure notification contract (STYLE.md 2.2): they can be read and tested without a network or a store."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import stackwatch.alerting.notify

PACKAGE = Path(stackwatch.alerting.notify.__file__).parent
STDLIB_ONLY = ["base", "retry", "webhook", "alertmanager", "pagerduty", "slack", "http_post"]
ALLOWED = {"stackwatch.alerting.notification"} | {f"stackwatch.alerting.notify.{m}" for m in STDLIB_ONLY}


@pytest.mark.parametrize("name", STDLIB_ONLY)
def test_module_imports_only_the_standard_library(name):
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    doc = ast.get_docstring(tree)
    assert doc, f"{name} needs a docstring saying what it owns"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            modules = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules = [node.module or ""]
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if top == "stackwatch":
                assert module in ALLOWED, f"{name} imports {module}"
            else:
                assert top in sys.stdlib_module_names or top == "__future__", f"{name} imports {module}"


@pytest.mark.parametrize("name", ["base", "retry"])
def test_pure_modules_say_so(name):
    assert "stdlib only" in ast.get_docstring(ast.parse((PACKAGE / f"{name}.py").read_text())).lower()
