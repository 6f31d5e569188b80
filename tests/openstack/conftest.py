"""Fixtures of the OpenStack tests: a fake cloud on loopback with the OS_* environment pointing at it."""

from __future__ import annotations

import os

import pytest

from tests.openstack.fake_cloud import FakeCloud


def point_env_at(monkeypatch, cloud: FakeCloud) -> None:
    for key in list(os.environ):
        if key.startswith("OS_"):
            monkeypatch.delenv(key)
    for key, value in cloud.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def fake_cloud(monkeypatch):
    with FakeCloud(servers=120, hypervisors=3) as cloud:
        point_env_at(monkeypatch, cloud)
        yield cloud
