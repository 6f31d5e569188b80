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


def test_retention_job_forgets_old_delivered_pages(make_config):
    from stackwatch.alerting.notification import AlertSnapshot, GroupNotification

    cfg = make_config(checks={"host": []}, collectors=[], storage={"alert_history_retention": "30d"},
                      alerting={"receivers": [{"name": "hook", "type": "webhook", "url": "http://127.0.0.1:9/"}],
                                "route": {"receiver": "hook"}})
    rt = Runtime.build(cfg)
    try:
        assert rt.paging is not None
        old = time.time() - 40 * 86400
        n = GroupNotification("n-old", "hook", "{}:{}", (), "trigger",
                              (AlertSnapshot("fp", "firing", (("alertname", "X"),), (), old),), old)
        store = rt.paging.outbox.store
        store.add(n, old)
        with store.db.write() as conn:   # delivered long ago
            conn.execute("UPDATE outbox SET state = 'delivered', finished_at = ? WHERE notification_id = 'n-old'", (old,))
        rt.enforce_retention(time.time())
        assert store.db.read().execute("SELECT count(*) FROM outbox").fetchone()[0] == 0
    finally:
        rt.stop()
