"""The alerting core is pure (STYLE.md 2.2): stdlib and other pure modules only, `now` passed in."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).parents[2] / "src" / "stackwatch"
PURE = {"alerting/matchers.py", "alerting/routing.py", "alerting/inhibit.py", "alerting/silence.py",
        "alerting/periods.py", "alerting/dispatch.py", "alerting/notification.py", "alerting/model.py",
        "alerting/rules.py", "alerting/logwatch.py", "alerting/timeinput.py", "model.py", "timespec.py",
        "states.py"}


def _runtime_nodes(tree):
    """Every node except the bodies of `if TYPE_CHECKING:` (imports for annotations only)."""
    skip = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.If) and isinstance(n.test, ast.Name) and n.test.id == "TYPE_CHECKING":
            skip.update(id(x) for b in n.body for x in ast.walk(b))
    return [n for n in ast.walk(tree) if id(n) not in skip]


def imports(rel: str) -> set[str]:
    tree = ast.parse((ROOT / rel).read_text())
    nodes = _runtime_nodes(tree)
    names = {a.name for n in nodes if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module for n in nodes if isinstance(n, ast.ImportFrom) and n.module}


@pytest.mark.parametrize("rel", sorted(PURE))
def test_pure_alerting_module_imports_only_stdlib_and_pure_modules(rel):
    for name in imports(rel):
        top = name.split(".")[0]
        if top == "stackwatch":
            target = name.removeprefix("stackwatch.").replace(".", "/") + ".py"
            assert target in PURE, f"{rel} imports {name}, which is not pure"
        else:
            assert not __import__("importlib.util").util.find_spec(top) or \
                "site-packages" not in str(__import__("importlib.util").util.find_spec(top).origin), \
                f"{rel} imports the third-party {top}"
    text = (ROOT / rel).read_text()
    assert "time.time(" not in text and "datetime.now(" not in text, f"{rel} reads the clock"
