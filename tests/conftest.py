"""Shared fixtures: configs built from dicts, a fresh store in tmp_path, and service skips (fail in CI)."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def find_corpus() -> Path:
    """The shared corpus: $STACKWATCH_CORPUS, else ../shared/corpus beside this checkout (as CI lays it
    out), else /work/shared/corpus. The first that exists wins; the last is returned when none does."""
    candidates = [os.environ.get("STACKWATCH_CORPUS"), ROOT.parent / "shared" / "corpus", "/work/shared/corpus"]
    paths = [Path(c) for c in candidates if c]
    return next((p for p in paths if p.is_dir()), paths[-1])


CORPUS = find_corpus()


def minimal_raw(tmp_path: Path, **extra) -> dict:
    raw = {
        "data_dir": str(tmp_path / "data"),
        "inventory": {"hosts": [{"name": "h1", "address": "127.0.0.1", "roles": []}]},
    }
    raw.update(extra)
    return raw


@pytest.fixture
def make_config(tmp_path):
    from stackwatch.config import build_config

    def make(**extra):
        return build_config(minimal_raw(tmp_path, **extra), tmp_path / "config.yaml", environ={})
    return make


@pytest.fixture
def store(tmp_path):
    from stackwatch.config import MetricsConfig
    from stackwatch.store.sqlite import open_store

    s = open_store(tmp_path / "store.db", MetricsConfig())
    yield s
    s.close()


def console_script(name: str) -> str:
    path = Path(sys.executable).with_name(name)
    if not path.exists():
        found = shutil.which(name)
        if not found:
            pytest.fail(f"console script {name} not installed: pip install -e .")
        return found
    return str(path)


def need_program(path: str) -> str:
    """A real program a test needs: skip on a laptop without it, fail in CI."""
    if os.path.exists(path):
        return path
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide {path} (.ci/run installs it)")
    pytest.skip(f"{path} not installed")


def pytest_terminal_summary(terminalreporter):
    """List what tests left in test-artifacts/ (the report's first-page screenshot and PDF) in the output."""
    artifacts = Path(os.environ.get("STACKWATCH_ARTIFACTS", ROOT / "test-artifacts"))
    if artifacts.is_dir():
        files = sorted(p for p in artifacts.iterdir() if p.is_file())
        if files:
            terminalreporter.section("test artifacts")
            for p in files:
                terminalreporter.write_line(f"{p} ({p.stat().st_size:,} bytes)")


def pytest_collection_modifyitems(config, items):
    """Mark every test that uses the OpenStack lab `lab` (scripts/test.sh runs them once the lab is up)."""
    for item in items:
        if "openstack_lab" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.lab)
