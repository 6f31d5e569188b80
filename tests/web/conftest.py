"""Fixtures for the web tests: a config with two hosts and two checks, a real SQLite store filled through
its public API (checks, 30 days of metrics, alerts), and a Flask test client whose clock is fixed."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import pytest

from stackwatch.alerting.model import Alert, AlertState, Transition, fingerprint, make_labels
from stackwatch.config import Config, build_config
from stackwatch.model import CheckResult, Perfdata, Sample, SeriesKey, State
from stackwatch.store.sqlite import open_store
from stackwatch.web import create_app

NOW = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
DAY = 86400.0
XSS = "<script>alert(1)</script>"


def web_config(tmp_path: Path) -> Config:
    """h1 (this machine) and h2 (remote); checks disk (every 60s) and load (every 30s)."""
    raw = {
        "data_dir": str(tmp_path),
        "inventory": {"hosts": [{"name": "h1", "address": "127.0.0.1", "roles": []},
                                {"name": "h2", "address": "10.0.0.2", "roles": ["compute"]}]},
        "checks": {"host": [{"type": "disk", "options": {"path": "/"}}, {"type": "load", "interval": "30s"}]},
        # the default tiers spelled out: config.py cannot yet default them (list(MetricsConfig.rollups)
        # reads a slots descriptor); a 30-day query is then answered by the 1h tier
        "metrics": {"rollups": [{"step": "5m", "retention": "90d"}, {"step": "1h", "retention": "730d"},
                                {"step": "1d"}]},
    }
    return build_config(raw, tmp_path / "config.yaml", environ={})


@dataclass
class Seeded:
    series_id: int       # m{host="h1"}: 30 days, dense for the last 2
    other_id: int        # m{host="h2"}
    firing_fp: str
    resolved_fp: str


def seed(store) -> Seeded:
    checks = store.checks
    for age in (900, 600, 300):
        checks.record(CheckResult("h1", "disk", State.OK, "DISK OK - / 40% used", NOW - age))
    checks.record(CheckResult("h1", "disk", State.OK, "DISK OK - / 41% used", NOW - 42,
                              (Perfdata("/", 41.0, "%", "80", "90", 0, 100),), 0.05))
    checks.record(CheckResult("h1", "load", State.CRITICAL, XSS, NOW - 5, (Perfdata("load1", 12.5),)))
    checks.record(CheckResult("h2", "disk", State.WARNING, "DISK WARNING - / 85% used", NOW - 600))  # stale
    checks.record(CheckResult("h1", "ntp", State.UNKNOWN, "ntpd not answering", NOW - 120))  # not configured

    samples = []
    key1, key2 = SeriesKey.of("m", {"host": "h1"}), SeriesKey.of("m", {"host": "h2"})
    ts = NOW - 30 * DAY
    while ts <= NOW:
        gap = NOW - 20 * DAY <= ts < NOW - 19 * DAY  # one missing day: the chart must break its line
        if not gap:
            value = 50 + 40 * math.sin(ts / DAY * 2 * math.pi) + (ts % 7)
            samples.append(Sample(key1, ts, value))
            samples.append(Sample(key2, ts, value / 2))
        ts += 60.0 if ts >= NOW - 2 * DAY else 600.0
    store.metrics.write(samples)
    store.metrics.flush()

    labels = make_labels([("alertname", "HighLoad"), ("host", "h1")])
    firing = Alert(fingerprint(labels), "HighLoad", labels, (("summary", f"load is high {XSS}"),), "critical",
                   AlertState.FIRING, 12.5, NOW - 600, NOW - 300, None, NOW - 300)
    pending = firing.evolve(state=AlertState.PENDING, fired_at=None, updated_at=NOW - 600)
    labels2 = make_labels([("alertname", "DiskFilling"), ("host", "h2")])
    resolved = Alert(fingerprint(labels2), "DiskFilling", labels2, (("summary", "disk filling"),), "warning",
                     AlertState.RESOLVED, 70.0, None, NOW - 7200, NOW - 3600, NOW - 3600)
    store.alerts.save([firing, resolved], [
        Transition(pending, AlertState.INACTIVE, NOW - 600),
        Transition(firing, AlertState.PENDING, NOW - 300),
        Transition(resolved, AlertState.FIRING, NOW - 3600),
    ])
    ids = {info.key: info.id for info in store.metrics.series("m")}
    return Seeded(ids[key1], ids[key2], firing.fingerprint, resolved.fingerprint)


@pytest.fixture
def config(tmp_path) -> Config:
    return web_config(tmp_path)


@pytest.fixture
def web_store(tmp_path, config):
    s = open_store(tmp_path / "web.db", config.metrics)
    yield s
    s.close()


@pytest.fixture
def seeded(web_store) -> Seeded:
    return seed(web_store)


@pytest.fixture
def app(config, web_store, seeded):
    app = create_app(config, web_store, clock=lambda: NOW)
    app.testing = True
    return app


@pytest.fixture
def client(app):
    return app.test_client()
