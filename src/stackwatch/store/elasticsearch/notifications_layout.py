"""How notifications are laid out in Elasticsearch: two index templates (notifications, dead letters), the
document of each, and the document id. Stdlib only (it builds request bodies; `notifications.py` sends them).

- Daily indices, as for log records (`layout`): notifications in `<prefix>-YYYY.MM.DD` by the UTC day of the
  notification's own timestamp (the time it was received when it has none), dead letters in
  `<prefix>_dead-YYYY.MM.DD` by the day they were received; retention deletes whole days.
- The document `_id` is the message_id (a SHA-256 of it when longer than Elasticsearch's 512 bytes), written
  with `op_type: create`: a redelivered or twice-bound notification gets 409 and is counted as a duplicate,
  never stored twice. (Both copies carry the same timestamp, so they meet in the same daily index.)
- Mapping `dynamic: strict`: ids, names, hosts, states are `keyword` (exact, case-sensitive filters: findable
  by instance, request id, global request id, tenant, event type, name, service, resource and time); `ts` a
  `double` (the caller's float seconds, compared exactly as SQLite's REAL), `@timestamp` the same instant for
  Kibana; `seq` (`long`) orders equal timestamps by insertion; `raw` is stored, not indexed.
"""

from __future__ import annotations

import base64
import hashlib
import math
from typing import Any

from stackwatch.stacktach.archive import COLUMNS, DeadLetter, StoredNotification

KEYWORDS = ("message_id", "deployment", "event_type", "name", "priority", "publisher_id", "service", "host",
            "request_id", "global_request_id", "tenant_id", "user_id", "instance_uuid", "state", "old_state",
            "task_state", "flavor", "resource_id")
_MAX_ID_BYTES = 512


def dead_prefix(prefix: str) -> str:
    """Dead letters' indices: `<prefix>_dead-*`, which `<prefix>-*` does not match."""
    return f"{prefix}_dead"


def doc_id(message_id: str) -> str:
    if len(message_id.encode("utf-8", "surrogatepass")) <= _MAX_ID_BYTES:
        return message_id
    return "sha256:" + hashlib.sha256(message_id.encode("utf-8", "surrogatepass")).hexdigest()


def document(row: tuple, seq: int) -> dict[str, Any]:
    """A row in `archive.COLUMNS` order -> its document."""
    doc = dict(zip(COLUMNS, row))
    doc["ts"] = float(doc["ts"])
    doc["is_error"] = bool(doc["is_error"])
    doc["size"] = None if doc["size"] is None else float(doc["size"])
    doc["seq"] = seq
    doc["@timestamp"] = math.floor(doc["ts"] * 1000)
    return doc


def raw_bytes(raw: str) -> bytes:
    return raw.encode("utf-8", "surrogatepass")


def stored_notification(src: dict[str, Any]) -> StoredNotification:
    values = [src.get(c) for c in COLUMNS]
    return StoredNotification(int(src["seq"]), *values[:17], bool(src.get("is_error")), *values[18:21],
                              src.get("raw") or "")


def dead_document(d: DeadLetter, seq: int) -> dict[str, Any]:
    return {"received_at": float(d.received_at), "@timestamp": math.floor(d.received_at * 1000), "seq": seq,
            "deployment": d.deployment, "exchange": d.exchange, "routing_key": d.routing_key,
            "message_id": d.message_id, "reason": d.reason,
            "raw_base64": base64.b64encode(bytes(d.raw)).decode("ascii")}


def dead_letter(src: dict[str, Any]) -> DeadLetter:
    return DeadLetter(float(src["received_at"]), src.get("deployment", ""), src.get("exchange", ""),
                      src.get("routing_key", ""), src.get("message_id"), src.get("reason", ""),
                      base64.b64decode(src.get("raw_base64") or ""))


def template(pattern: str, shards: int = 1, replicas: int | None = None) -> dict:
    properties: dict[str, Any] = {name: {"type": "keyword"} for name in KEYWORDS}
    properties.update({
        "@timestamp": {"type": "date", "format": "epoch_millis"},
        "ts": {"type": "double"}, "seq": {"type": "long"}, "is_error": {"type": "boolean"},
        "size": {"type": "double"}, "raw": {"type": "text", "index": False},
    })
    return _template(pattern, properties, shards, replicas)


def dead_template(pattern: str, shards: int = 1, replicas: int | None = None) -> dict:
    properties: dict[str, Any] = {name: {"type": "keyword"} for name in
                                  ("deployment", "exchange", "routing_key", "message_id", "reason")}
    properties.update({
        "@timestamp": {"type": "date", "format": "epoch_millis"},
        "received_at": {"type": "double"}, "seq": {"type": "long"},
        "raw_base64": {"type": "text", "index": False},     # the body exactly as received, base64
    })
    return _template(pattern, properties, shards, replicas)


def _template(pattern: str, properties: dict, shards: int, replicas: int | None) -> dict:
    settings: dict[str, Any] = {"number_of_shards": shards}
    if replicas is not None:
        settings["number_of_replicas"] = replicas
    return {"index_patterns": [pattern], "priority": 200,
            "template": {"settings": settings, "mappings": {"dynamic": "strict", "properties": properties}},
            "_meta": {"managed_by": "stackwatch", "schema": 1}}
