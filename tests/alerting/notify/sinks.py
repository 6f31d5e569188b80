"""Test helpers: a local HTTP receiver that records what it is sent and answers as told (200, 400, 500,
or hangs until released), and sample notifications."""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from stackwatch.alerting.notification import AlertSnapshot, GroupNotification, common


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class HttpSink:
    """Answers `status` (or hangs while `hang` is set) and records every request it read."""

    status: int = 200
    answer: bytes = b'{"status":"success"}'
    requests: list[Received] = field(default_factory=list)
    hang: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> "HttpSink":
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with sink.arrived:
                    sink.requests.append(Received("POST", self.path, dict(self.headers), body))
                    sink.arrived.notify_all()
                if sink.hang.is_set():
                    sink.release.wait(60)
                try:
                    self.send_response(sink.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(sink.answer)))
                    self.end_headers()
                    self.wfile.write(sink.answer)
                except OSError:
                    pass          # the client gave up waiting (a hang test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.requests) >= count, timeout)
            return list(self.requests)

    def stop(self) -> None:
        self.release.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


def snapshot(host: str = "compute-1", status: str = "firing", alertname: str = "HostDown",
             severity: str = "critical", starts_at: float = 1_764_000_000.0, ends_at: float | None = None,
             summary: str = "", **extra) -> AlertSnapshot:
    labels = tuple(sorted({"alertname": alertname, "host": host, "severity": severity, "role": "compute",
                           **extra}.items()))
    return AlertSnapshot(f"fp-{alertname}-{host}", status, labels,
                         (("summary", summary or f"{host} is down"),), starts_at, ends_at,
                         f"http://127.0.0.1:9844/alerts/fp-{alertname}-{host}")


def notification(receiver: str = "hook", event: str = "trigger", alerts: tuple[AlertSnapshot, ...] | None = None,
                 nid: str = "n-1", created_at: float = 1_764_000_100.0) -> GroupNotification:
    alerts = alerts if alerts is not None else (snapshot("compute-1"), snapshot("compute-2"))
    group = (("alertname", "HostDown"), ("role", "compute"))
    return GroupNotification(
        nid, receiver, '{}:{alertname="HostDown", role="compute"}', group, event, alerts, created_at,
        "http://127.0.0.1:9844", common([a.labels for a in alerts]), common([a.annotations for a in alerts]))


def need_program(path: str) -> str:
    """A real program a test needs: skip on a laptop without it, fail in CI."""
    if os.path.exists(path):
        return path
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"CI must provide {path} (scripts/test.sh installs it)")
    pytest.skip(f"{path} not installed")
