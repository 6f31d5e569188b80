"""A receiver that hangs holds up neither evaluation nor paging nor the other receivers: the pass returns
at once (the outbox only stores), and the healthy receiver gets its page while the other hangs."""

from __future__ import annotations

import socket
import threading
import time

from stackwatch.alerting.runtime import AlertingRuntime
from stackwatch.config import build_config
from stackwatch.model import CheckResult, State
from stackwatch.store.sqlite import open_store


class Hanging:
    """Accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hook"
        self.conns, self.stop = [], threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                pass

    def close(self):
        self.stop.set()
        for c in self.conns:
            c.close()
        self.sock.close()


def test_hanging_receiver_blocks_nothing(tmp_path, sink):
    hanging = Hanging()
    raw = {"data_dir": str(tmp_path),
           "inventory": {"hosts": [{"name": "c1", "address": "10.0.0.1", "roles": ["compute"]}]},
           "alerting": {"rules": [{"name": "ProcessDown", "check": "proc-*", "severity": "critical"}],
                        "receivers": [{"name": "stuck", "type": "webhook", "url": hanging.url, "timeout": "3s"},
                                      {"name": "ops", "type": "webhook", "url": sink.url}],
                        "route": {"receiver": "ops", "group_wait": "0s", "routes": [
                            {"matchers": ['severity="critical"'], "receiver": "stuck", "continue": True},
                            {"matchers": ['alertname=~".+"'], "receiver": "ops"}]}}}
    config = build_config(raw, tmp_path / "config.yaml", environ={})
    store = open_store(config.database_path, config.metrics)
    paging = AlertingRuntime.build(config, store)
    paging.start()
    try:
        now = time.time()
        store.checks.record(CheckResult("c1", "proc-nova-compute", State.CRITICAL, "0 processes", now))
        paging.tick(now)
        assert sorted(d.receiver for d in paging.outbox.deliveries()) == ["ops", "stuck"]
        (body,) = sink.wait_for(1)                         # delivered while "stuck" still hangs
        assert body["receiver"] == "ops"
        assert [d.state for d in paging.outbox.deliveries(receiver="stuck")] == ["pending"]
        store.checks.record(CheckResult("c1", "proc-nova-compute", State.OK, "1 process", now + 400))
        paging.tick(now + 400)                             # the next pass is not held up either
        assert len(paging.outbox.deliveries(receiver="ops")) == 2
    finally:
        paging.stop()
        hanging.close()
        store.close()
