"""Decoding notifications in a helper process, so that decoding and normalizing (JSON twice, the field
mapping) run on one core while this process reads AMQP and writes the archive on another (the log
ingest's `ParseWorker` does the same for syslog).

`normalize(...)` is the one decoding step, used here and in the helper: AMQP message fields in, a stored
row (`archive.COLUMNS`) or a dead-letter verdict out. `DecodeHelper` is the helper: a fresh interpreter
(no fork of a process running threads) talking over two pipes in marshal'ed plain values, chunk i+1
decoding while the caller stores chunk i. Any trouble (the helper died, hung, failed on a chunk) raises
`HelperFailed` and the caller decodes that chunk itself: nothing is lost or stored twice.
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Iterator

from stackwatch import fastjson, helperprocess
from stackwatch.helperprocess import HelperFailed, HelperProcess  # noqa: F401 (HelperFailed: the callers')

from stackwatch.stacktach.archive import DeadLetter
from stackwatch.stacktach.names import PUBLISHER_SERVICES
from stackwatch.stacktach.notification import MalformedNotification, Notification, decode_fields

KNOWN_SERVICES = frozenset(PUBLISHER_SERVICES.values()) | {"swift", "placement", "ironic", "octavia", "manila",
                                                           "designate", "trove", "magnum", "barbican"}

Item = tuple   # (body: bytes, amqp message_id | None, exchange, deployment, received_at)


def message_id_of(n: Notification, amqp_message_id: str | None, body: bytes) -> str:
    """oslo's message_id, else the AMQP property, else a digest of the body (so redeliveries still match)."""
    return n.message_id or amqp_message_id or "sha256:" + hashlib.sha256(body).hexdigest()


def notification_row(n: Notification, message_id: str, received_at: float, deployment: str) -> tuple:
    """A Notification in `archive.COLUMNS` order."""
    return (message_id, n.timestamp if n.timestamp is not None else received_at, deployment, n.event_type,
            n.name, n.priority or "", n.publisher_id or "", n.service, n.host or "", n.request_id,
            n.global_request_id, n.tenant_id, n.user_id, n.instance_uuid, n.state, n.old_state, n.task_state,
            1 if n.is_error else 0, n.flavor, n.resource_id, n.size, n.raw)


def normalize(item: Item, max_bytes: int) -> tuple:
    """("r", row) for a notification to store, ("d", message_id | None, reason) for a dead letter: the row
    `notification_row` makes of `decode`'s Notification, built from `decode_fields` (no usage fields, no
    Notification: a third less work per message; JSON by `fastjson`, orjson with the stdlib's answers)."""
    body, amqp_id, exchange, deployment, received_at = item
    try:
        f = decode_fields(body, max_bytes, exchange=exchange, cell=deployment, usage=False, loads=fastjson.loads)
    except MalformedNotification as exc:
        return ("d", amqp_id, exc.reason)
    message_id = f["message_id"] or amqp_id or "sha256:" + hashlib.sha256(body).hexdigest()
    if f["service"] not in KNOWN_SERVICES:
        return ("d", message_id, "unknown event type")
    ts = f["timestamp"]
    return ("r", (message_id, ts if ts is not None else received_at, deployment, f["event_type"], f["name"],
                  f["priority"] or "", f["publisher_id"] or "", f["service"], f["host"] or "", f["request_id"],
                  f["global_request_id"], f["tenant_id"], f["user_id"], f["instance_uuid"], f["state"],
                  f["old_state"], f["task_state"], 1 if f["is_error"] else 0, f["flavor"], f["resource_id"],
                  f["size"], f["raw"]))


def sort_answers(answers: Iterable[tuple[tuple, tuple]], dead: list[DeadLetter], kinds: list[tuple]) -> Iterator[tuple]:
    """The rows of `normalize` answers, each paired with its message's (received_at, deployment, exchange,
    routing_key, body); dead letters go to `dead`, each row's (service, host, name, is_error) to `kinds`."""
    for (received_at, deployment, exchange, routing_key, body), answer in answers:
        if answer[0] == "d":
            dead.append(DeadLetter(received_at, deployment, exchange, routing_key, answer[1], answer[2], body))
            continue
        row = answer[1]
        kinds.append((row[7], row[8], row[4], row[17]))
        yield row


class DecodeHelper(HelperProcess):
    """A chunk of items in (`send`), their `normalize` answers out (`receive`), in order."""

    def __init__(self, max_bytes: int):
        super().__init__("stackwatch.stacktach.decode_helper:_serve", [str(max_bytes)])


def _serve(argv: list[str]) -> None:
    """The helper's entry point: a chunk of items in, their `normalize` answers out."""
    max_bytes = int(argv[2])
    helperprocess.serve(argv, lambda items: [normalize(item, max_bytes) for item in items])
