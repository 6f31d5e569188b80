"""Adapter: RabbitMQ's management HTTP API (plain urllib), read into the records the rabbitmq check judges.

Three GETs: /api/queues (or /api/queues/VHOST) with only the columns needed, /api/nodes (memory and disk
alarms, partitions, running; needs a user tagged `monitoring` or `administrator`) and /api/overview (the
connection count). Every failure is a one-line `ProbeError`: unreachable, timed out, credentials refused
(401), not allowed (403), HTTP 5xx, a body that is not JSON or not of the documented shape.

The password is read from an environment variable or a file, never from the command line (where `ps`
would show it) or config.yaml.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections import namedtuple

from stackwatch.checks.probe import ProbeError, one_line

QueueRow = namedtuple("QueueRow", "vhost name messages ready unacked consumers state")
NodeRow = namedtuple("NodeRow", "name running mem_alarm disk_alarm partitions mem_used mem_limit disk_free disk_limit")
Broker = namedtuple("Broker", "queues nodes connections")

_QUEUE_COLUMNS = "vhost,name,messages,messages_ready,messages_unacknowledged,consumers,state"
_NODE_COLUMNS = "name,running,mem_alarm,disk_free_alarm,partitions,mem_used,mem_limit,disk_free,disk_free_limit"


def credentials(user: str | None, password_env: str | None, password_file: str | None,
                environ=os.environ) -> tuple[str, str]:
    """(user, password): the user from the option or $STACKWATCH_RABBITMQ_USER, the password from the file
    or the environment variable; ProbeError saying what is missing."""
    user = user or environ.get("STACKWATCH_RABBITMQ_USER")
    if not user:
        raise ProbeError("no management API user: give --user or set STACKWATCH_RABBITMQ_USER")
    if password_file:
        try:
            with open(password_file, encoding="utf-8") as fh:
                return user, fh.read().strip("\r\n")
        except OSError as exc:
            raise ProbeError(f"cannot read the password file {password_file}: {exc.strerror}") from None
    if password_env:
        password = environ.get(password_env)
        if password is None:
            raise ProbeError(f"the password variable {password_env} is not set")
        return user, password
    raise ProbeError("no password: give --password-env VARIABLE or --password-file PATH")


class ManagementApi:
    """GETs against one management API base URL (http://host:15672) with basic auth."""

    def __init__(self, url: str, user: str, password: str, timeout: float):
        parts = urllib.parse.urlsplit(url.rstrip("/"))
        if parts.username is not None or parts.password is not None:  # never echo a password in a status line
            parts = parts._replace(netloc=parts.hostname + (f":{parts.port}" if parts.port else ""))
        self.url = urllib.parse.urlunsplit(parts)
        self.timeout = timeout
        self._auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def get(self, path: str, **params):
        query = ("?" + urllib.parse.urlencode(params)) if params else ""
        url = f"{self.url}/api/{path}{query}"
        req = urllib.request.Request(url, headers={"Authorization": self._auth, "Accept": "application/json"})
        where = f"management API {self.url}"
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                body = resp.read()
        except urllib.error.HTTPError as exc:
            detail = one_line(exc.read()[:200].decode("utf-8", "replace"), 120)
            exc.close()
            if exc.code == 401:
                raise ProbeError(f"{where}: credentials refused (HTTP 401)") from None
            if exc.code == 403:
                raise ProbeError(f"{where}: /api/{path} not allowed for this user (HTTP 403; it needs the "
                                 f"monitoring tag)") from None
            raise ProbeError(f"{where}: HTTP {exc.code} for /api/{path}: {detail}") from None
        except (socket.timeout, TimeoutError):
            raise ProbeError(f"{where}: timed out after {self.timeout:g}s") from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise ProbeError(f"{where}: timed out after {self.timeout:g}s") from None
            raise ProbeError(f"{where}: unreachable: {one_line(reason)}") from None
        except (OSError, ValueError) as exc:  # connection reset, bad status line, bad URL
            raise ProbeError(f"{where}: {type(exc).__name__}: {one_line(exc)}") from None
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ProbeError(f"{where}: malformed JSON for /api/{path}: {one_line(exc, 100)}") from None


def _shape(value, kind: type, what: str):
    if not isinstance(value, kind):
        raise ProbeError(f"malformed answer for {what}: expected a JSON {kind.__name__}, got {type(value).__name__}")
    return value


def _count(row: dict, key: str) -> int | None:
    value = row.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def fetch(api: ManagementApi, vhost: str | None = None, nodes: bool = True) -> Broker:
    """The queues (of `vhost`, or all), the nodes and the connection count."""
    path = "queues" if vhost is None else "queues/" + urllib.parse.quote(vhost, safe="")
    queues = []
    for q in _shape(api.get(path, columns=_QUEUE_COLUMNS), list, "/api/queues"):
        _shape(q, dict, "a queue")
        queues.append(QueueRow(q.get("vhost", ""), str(q.get("name", "")), _count(q, "messages"),
                               _count(q, "messages_ready"), _count(q, "messages_unacknowledged"),
                               _count(q, "consumers"), q.get("state")))
    node_rows = []
    if nodes:
        for n in _shape(api.get("nodes", columns=_NODE_COLUMNS), list, "/api/nodes"):
            _shape(n, dict, "a node")
            node_rows.append(NodeRow(str(n.get("name", "")), bool(n.get("running", False)),
                                     bool(n.get("mem_alarm", False)), bool(n.get("disk_free_alarm", False)),
                                     tuple(map(str, n.get("partitions") or ())), _count(n, "mem_used"),
                                     _count(n, "mem_limit"), _count(n, "disk_free"), _count(n, "disk_free_limit")))
    overview = _shape(api.get("overview", columns="object_totals"), dict, "/api/overview")
    totals = overview.get("object_totals") or {}
    connections = _count(totals, "connections") if isinstance(totals, dict) else None
    return Broker(queues, node_rows, connections)
