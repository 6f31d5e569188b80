import time

from stackwatch.model import State
from stackwatch.runtime import Runtime


def test_check_that_raises_becomes_unknown(make_config):
    cfg = make_config(checks={"host": [{"type": "disk", "options": {"path": "/"}}]}, collectors=[])
    rt = Runtime.build(cfg)
    try:
        spec = cfg.checks[0]
        rt._check_failed("h1", spec)(1000.0, RuntimeError("probe exploded"))
        (cur,) = rt.store.checks.current("h1")
        assert cur.state is State.UNKNOWN and "probe exploded" in cur.summary
    finally:
        rt.stop()


def test_a_cycle_stores_checks_metrics_and_alerts(make_config):
    cfg = make_config(
        checks={"host": [{"type": "disk", "name": "disk-root", "options": {"path": "/", "warning": "101%",
                                                                         "critical": "100%"}}]},
        collectors=[{"type": "host", "interval": "1s"}],
        alerting={"rules": [{"name": "DiskCritical", "check": "disk-*", "state": "CRITICAL", "for": "0s",
                             "severity": "critical"}]},
    )
    rt = Runtime.build(cfg)
    rt.start()
    try:
        deadline = time.time() + 20
        while time.time() < deadline and not rt.store.alerts.active():
            time.sleep(0.2)
        (cur,) = rt.store.checks.current("h1")
        assert cur.state is State.CRITICAL  # free space is always below 100%
        (alert,) = rt.store.alerts.active()
        assert alert.rule == "DiskCritical" and alert.label("host") == "h1"
        assert rt.store.metrics.latest("stackwatch_host_load1")
        assert rt.store.metrics.latest("stackwatch_check_status", {"check": "disk-root"})[0][2] == 2.0
    finally:
        rt.stop()
