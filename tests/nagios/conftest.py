"""Fixtures of the Nagios tests: the 6-host cloud config and an NRPE-runnable stackwatch-check."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from .daemons import check_program_for, cloud_config, nrpe_user


@pytest.fixture
def cloud(tmp_path):
    return cloud_config(tmp_path)


@pytest.fixture(scope="session")
def nrpe_check_program():
    """(user NRPE runs as, a stackwatch-check that user can execute)."""
    shared = Path(tempfile.mkdtemp(prefix="sw-nrpe-check-"))
    shared.chmod(0o755)
    user = nrpe_user()
    try:
        yield user, check_program_for(user, shared)
    finally:
        shutil.rmtree(shared, ignore_errors=True)
