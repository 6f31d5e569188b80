"""The rabbitmq check: the pure judgement of queues, consumers, alarms and connections; the management API
adapter against a loopback HTTP server serving real captured answers (tests/fixtures/rabbitmq, MIT) and
misbehaving (401, 403, 500, not JSON, another shape, a hang, nothing listening). The real broker is in
tests/checks/lab/test_lab_checks.py."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from stackwatch.checks.probe import ProbeError
from stackwatch.checks.rabbitmq import RabbitmqCheck, RabbitmqOptions, judge
from stackwatch.checks.rabbitmq_api import Broker, NodeRow, QueueRow, credentials
from stackwatch.states import State

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "rabbitmq"


def q(name, messages=0, consumers=1, unacked=0, vhost="/"):
    return QueueRow(vhost, name, messages, messages - unacked, unacked, consumers, "running")


def node(name="rabbit@a", **kw):
    values = dict(running=True, mem_alarm=False, disk_alarm=False, partitions=(), mem_used=100, mem_limit=1000,
                  disk_free=10 ** 9, disk_limit=5 * 10 ** 7)
    values.update(kw)
    return NodeRow(name, **values)


def broker(*queues, nodes=None, connections=5):
    return Broker(list(queues), [node()] if nodes is None else nodes, connections)


OPTS = RabbitmqOptions(warning="100", critical="1000")


@pytest.mark.parametrize("queues, state", [
    ([q("a", 10), q("b", 100)], State.OK),                       # equal to the range's end is fine
    ([q("a", 10), q("b", 101)], State.WARNING),
    ([q("a", 1001)], State.CRITICAL),
    ([q("a", 5, consumers=0)], State.WARNING),                   # messages and nobody consuming them
    ([q("a", 0, consumers=0)], State.OK),                        # an idle queue without consumer is fine
])
def test_depth_and_consumers(queues, state):
    assert judge(broker(*queues), OPTS).state is state


def test_status_line_names_the_queues_without_consumer():
    outcome = judge(broker(q("notifications.info", 54, consumers=0), q("compute", 0)), OPTS)
    check = RabbitmqCheck(OPTS)
    line = check.status_line(outcome)
    assert line.startswith("RABBITMQ WARNING - 1 queues with messages and no consumer (notifications.info=54)")
    assert "2 queues, 54 messages, 0 unacknowledged, 1 without consumer, 5 connections, 1 node" in line
    perf = {p.label: p for p in outcome.perfdata}
    assert (perf["messages"].value, perf["max_depth"].value, perf["no_consumer"].value) == (54, 54, 1)
    assert perf["max_depth"].warning == "100" and perf["connections"].value == 5


def test_patterns_select_and_exclude():
    queues = [q("notifications.info", 50, consumers=0), q("versioned_notifications.info", 50, consumers=0),
              q("stackwatch.test.1", 3, consumers=0), q("conductor", 0)]
    only = RabbitmqOptions(queues="stackwatch.test.*")
    outcome = judge(broker(*queues), only)
    assert outcome.state is State.WARNING and "stackwatch.test.1=3" in outcome.summary
    assert "notifications" not in outcome.summary.split(" - ")[0]
    none = RabbitmqOptions(exclude="*notifications.info,stackwatch.*")
    assert judge(broker(*queues), none).state is State.OK
    missing = judge(broker(*queues), RabbitmqOptions(queues="cinder-volume*"))
    assert missing.state is State.UNKNOWN and missing.summary == "no queue matches cinder-volume* among the broker's 4"
    assert judge(broker(), RabbitmqOptions()).state is State.OK   # an empty broker, all queues asked: a fact
    critical = RabbitmqOptions(queues="stackwatch.test.*", no_consumer_critical="0")
    assert judge(broker(*queues), critical).state is State.CRITICAL


def test_unacked_and_connections_by_ranges():
    opts = RabbitmqOptions(unacked_warning="10", unacked_critical="100", connections_warning="50",
                           connections_critical="@0")
    assert judge(broker(q("a", 20, unacked=5), q("b", 20, unacked=5)), opts).state is State.OK
    outcome = judge(broker(q("a", 20, unacked=11)), opts)
    assert outcome.state is State.WARNING and "11 unacknowledged messages" in outcome.summary
    assert judge(broker(q("a", 200, unacked=101)), opts).state is State.CRITICAL
    assert judge(broker(q("a"), connections=51), opts).state is State.WARNING
    assert judge(broker(q("a"), connections=0), opts).state is State.CRITICAL  # nobody connected at all


@pytest.mark.parametrize("field, words", [
    ({"mem_alarm": True}, "memory alarm on rabbit@a"),
    ({"disk_alarm": True}, "disk free alarm on rabbit@a"),
    ({"partitions": ("rabbit@b",)}, "network partition seen by rabbit@a"),
    ({"running": False}, "node rabbit@a is not running"),
])
def test_node_alarms_are_critical(field, words):
    outcome = judge(broker(q("a"), nodes=[node(**field)]), OPTS)
    assert outcome.state is State.CRITICAL and words in outcome.summary


def test_queue_without_statistics_yet_is_said():
    fresh = QueueRow("/", "new", None, None, None, None, None)  # stats arrive with the next emission
    outcome = judge(broker(fresh, q("old", 3)), OPTS)
    assert outcome.state is State.OK and "1 queues without statistics yet" in outcome.summary
    blind = judge(broker(fresh, fresh._replace(name="other")), OPTS)  # no counts at all: no OK
    assert blind.state is State.UNKNOWN and "gives no message counts for the 2 matching queues" in blind.summary


def test_credentials_come_from_env_or_file(tmp_path):
    assert credentials("u", "PW", None, {"PW": "s3cret"}) == ("u", "s3cret")
    (tmp_path / "pw").write_text("from-file\n")
    assert credentials(None, "PW", str(tmp_path / "pw"), {"STACKWATCH_RABBITMQ_USER": "m"}) == ("m", "from-file")
    for args, env, words in [((None, "PW", None), {}, "no management API user"),
                             (("u", "PW", None), {}, "PW is not set"),
                             (("u", None, None), {}, "no password"),
                             (("u", None, str(tmp_path / "nope")), {}, "cannot read the password file")]:
        with pytest.raises(ProbeError, match=words):
            credentials(*args, environ=env)


# ------------------------------------------------------------------------------ the HTTP adapter --
class FakeManagement:
    """/api/queues, /api/nodes, /api/overview from files, or a failure for every request."""

    def __init__(self, routes: dict[str, bytes]):
        self.routes, self.mode, self.auth = routes, "ok", []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.auth.append(self.headers.get("Authorization"))
                path = self.path.split("?", 1)[0]
                status, body = 200, fake.routes.get(path, b'{"error":"Object Not Found"}')
                if path not in fake.routes:
                    status = 404
                if fake.mode == "hang":
                    time.sleep(2)
                elif fake.mode in ("401", "403", "500"):
                    status, body = int(fake.mode), b'{"error":"boom","reason":"x"}'
                elif fake.mode == "garbage":
                    body = b"<html><body>proxy error</body></html>"
                elif fake.mode == "shape":
                    body = b'{"queues": "not a list"}'
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.handle_error = lambda request, address: None  # a client that timed out closed its end
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def mgmt(monkeypatch):
    monkeypatch.setenv("STACKWATCH_RABBITMQ_USER", "monitor")
    monkeypatch.setenv("STACKWATCH_RABBITMQ_PASSWORD", "pw")
    fake = FakeManagement({"/api/queues": (FIXTURES / "queues-3.5.1.json").read_bytes(),
                           "/api/nodes": (FIXTURES / "nodes-3.7.0.json").read_bytes(),
                           "/api/overview": (FIXTURES / "overview-3.7.0.json").read_bytes()})
    yield fake
    fake.close()


def test_real_captured_answers(mgmt):
    outcome = RabbitmqCheck(RabbitmqOptions(url=mgmt.url, warning="20", critical="100")).run()
    # RabbitMQ 3.5.1's capture: myQueue1 6, myQueue2 25, myQueue3 23, myQueue4 0 messages, all without consumer
    assert outcome.state is State.WARNING
    assert "queue myQueue2 has 25 messages" in outcome.summary and "queue myQueue3 has 23 messages" in outcome.summary
    assert "3 queues with messages and no consumer (myQueue1=6, myQueue2=25, myQueue3=23)" in outcome.summary
    assert "4 queues, 54 messages" in outcome.summary and "1 connections, 1 node" in outcome.summary
    assert mgmt.auth[0] == "Basic bW9uaXRvcjpwdw=="  # monitor:pw


@pytest.mark.parametrize("mode, words", [
    ("401", "credentials refused (HTTP 401)"), ("403", "not allowed for this user (HTTP 403"),
    ("500", "HTTP 500 for /api/queues"), ("garbage", "malformed JSON for /api/queues"),
    ("shape", "malformed answer for /api/queues: expected a JSON list, got dict"), ("hang", "timed out after 0.5s"),
])
def test_management_api_failures_are_unknown(mgmt, mode, words):
    mgmt.mode = mode
    outcome = RabbitmqCheck(RabbitmqOptions(url=mgmt.url, api_timeout=0.5)).run()
    assert outcome.state is State.UNKNOWN and words in outcome.summary and "\n" not in outcome.summary


def test_nothing_listening_is_unknown(monkeypatch):
    monkeypatch.setenv("STACKWATCH_RABBITMQ_USER", "monitor")
    monkeypatch.setenv("STACKWATCH_RABBITMQ_PASSWORD", "pw")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outcome = RabbitmqCheck(RabbitmqOptions(url=f"http://127.0.0.1:{port}")).run()
    assert outcome.state is State.UNKNOWN and "unreachable" in outcome.summary


def test_a_node_list_of_another_shape_is_unknown(mgmt):
    mgmt.routes["/api/nodes"] = json.dumps({"nodes": []}).encode()
    outcome = RabbitmqCheck(RabbitmqOptions(url=mgmt.url)).run()
    assert outcome.state is State.UNKNOWN and "/api/nodes" in outcome.summary
    assert RabbitmqCheck(RabbitmqOptions(url=mgmt.url, nodes=False)).run().state is State.WARNING


def test_a_password_in_the_url_is_never_shown(mgmt):
    mgmt.mode = "500"
    url = mgmt.url.replace("http://", "http://guest:hunter2@")
    outcome = RabbitmqCheck(RabbitmqOptions(url=url)).run()
    assert outcome.state is State.UNKNOWN and "hunter2" not in outcome.summary and mgmt.url in outcome.summary
