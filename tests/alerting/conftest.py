"""Fixtures for the alerting tests: a real local HTTP server that receives webhook pages."""

from __future__ import annotations

import pytest

from tests.alerting.webhook_sink import WebhookSink


@pytest.fixture
def sink():
    s = WebhookSink()
    yield s
    s.close()
