"""The parser's modules are pure: they import the standard library and each other, nothing else, and
each says what it owns and that it is stdlib only (STYLE.md 2.2)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import stackwatch.rsyslog

PACKAGE = Path(stackwatch.rsyslog.__file__).parent
PARSER = ["record", "timestamps", "services", "syslog", "oslo", "draft", "assemble", "parse"]


@pytest.mark.parametrize("name", PARSER)
def test_parser_module_is_pure(name):
    tree = ast.parse((PACKAGE / f"{name}.py").read_text())
    doc = ast.get_docstring(tree)
    assert doc and "stdlib only" in doc.lower()
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
                assert module.removeprefix("stackwatch.rsyslog.") in PARSER, f"{name} imports {module}"
            else:
                assert top in sys.stdlib_module_names or top == "__future__", f"{name} imports {module}"
