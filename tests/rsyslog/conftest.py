"""Fixtures for the log parser tests: the shared corpus (skip when absent, fail in CI) and the
Apache-2.0 fixture files copied into tests/fixtures/logs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stackwatch.rsyslog.parse import parse_lines

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
from tests.conftest import CORPUS  # noqa: E402  (../shared/corpus beside the checkout, or /work/shared)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared corpus folder; skipped on a laptop without it, a failure in CI."""
    if not (CORPUS / "logs").is_dir():
        if in_ci():
            pytest.fail(f"CI must provide the log corpus at {CORPUS} (or set STACKWATCH_CORPUS)")
        pytest.skip(f"log corpus not found at {CORPUS}")
    return CORPUS


def parse_file(path: Path, syslog: bool = False, **kw) -> list:
    with path.open("rb") as fh:
        return list(parse_lines(fh, syslog, source=str(path), **kw))
