"""Pure modules import only the stdlib and other pure modules (STYLE.md 2.2)."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).parents[2] / "src" / "stackwatch"
PURE = ["model.py", "timespec.py", "inventory.py", "config_reader.py", "store/rollup.py", "store/interfaces.py",
        "alerting/model.py", "alerting/rules.py", "alerting/logwatch.py", "checks/core.py", "web/chart.py",
        "states.py", "rsyslog/message.py", "rsyslog/framing.py", "rsyslog/relp.py", "rsyslog/logmetrics.py",
        "rsyslog/trace.py", "rsyslog/record.py", "rsyslog/syslog.py", "rsyslog/oslo.py", "rsyslog/assemble.py",
        "rsyslog/parse.py"]
FORBIDDEN = {"pika", "elasticsearch", "sqlite3", "smtplib", "requests", "flask", "apscheduler", "yaml",
             "prometheus_client", "psutil", "waitress", "click", "jinja2"}


@pytest.mark.parametrize("rel", PURE)
def test_pure_module_imports_no_adapter(rel):
    tree = ast.parse((ROOT / rel).read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert not names & FORBIDDEN, f"{rel} imports {names & FORBIDDEN}"
    assert ast.get_docstring(tree), f"{rel} has no docstring saying what it owns"


def test_every_module_says_what_it_owns():
    missing = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*.py") if not ast.get_docstring(ast.parse(p.read_text()))]
    assert missing == []
