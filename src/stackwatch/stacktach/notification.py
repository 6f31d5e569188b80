"""One OpenStack notification: bytes off the bus -> a frozen `Notification`, or `MalformedNotification`.

Pure: stdlib only. This module owns the wire format: the oslo.messaging v2 envelope
(`{"oslo.version": "2.0", "oslo.message": "<JSON string>"}`) or a bare message; legacy
notifications (`compute.instance.create.end`, `payload.instance_id`, `_context_*` keys, `""` for null
times) and nova's versioned ones (`instance.create.end`, `payload.nova_object.data` with nested
nova_objects such as `flavor` and `fault`), all mapped onto the same fields. `name` is the
normalized event name (see `stackwatch.stacktach.names`); `payload` is the plain dict with every
nova_object replaced by its data, recursively.

Anything that is JSON, an object and has an `event_type` decodes, whatever its event type or
publisher: fields that are absent or of the wrong type are None. Only bodies that cannot be
understood raise `MalformedNotification`, whose short `reason` the consumer logs and counts.
Auth tokens are secrets (NOTES 3.1b): `_context_auth_token`'s value, and any `auth_token` inside the
payload, is replaced by "<redacted>" in `payload` and wherever it occurs in `raw`; otherwise `raw`
is the body as received.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from stackwatch.stacktach import names
from stackwatch.stacktach.faults import Fault, fault_of
from stackwatch.stacktach.times import integer, parse_time, text
from stackwatch.stacktach.usage import NO_USAGE, usage_fields

DEFAULT_MAX_BYTES = 1 << 20          # the largest real notifications (create with a catalog) are ~100 KiB
REDACTED = "<redacted>"
_SECRET_KEYS = {"auth_token", "_context_auth_token"}
_MIN_SECRET = 8


class MalformedNotification(ValueError):
    """The body cannot be turned into a Notification; the consumer dead-letters it.

    `reason` is one of: "not bytes", "too large", "not UTF-8", "not JSON", "not an object", "bad envelope",
    "envelope not JSON", "no event_type", "payload not an object", "too deeply nested"."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Notification:
    message_id: str | None
    event_type: str                  # as sent
    name: str                        # normalized: legacy and versioned forms agree
    priority: str | None             # upper-cased: INFO, ERROR, WARN, ...
    publisher_id: str | None
    service: str                     # nova, glance, cinder, neutron, keystone, ...
    host: str | None
    timestamp: float | None          # epoch seconds; None when absent (nova's doc samples)
    request_id: str | None
    global_request_id: str | None
    tenant_id: str | None
    user_id: str | None
    instance_uuid: str | None
    state: str | None
    old_state: str | None
    task_state: str | None
    flavor: str | None               # flavor name, else flavor id
    image: str | None                # image uuid
    launched_at: float | None
    deleted_at: float | None
    terminated_at: float | None
    audit_period_beginning: float | None
    audit_period_ending: float | None
    vcpus: int | None
    memory_mb: int | None
    root_gb: int | None
    fault: Fault | None
    is_error: bool
    payload: Mapping[str, Any]
    raw: str
    payload_type: str | None = None  # versioned: nova_object.name ("InstanceActionPayload")
    cell: str | None = None          # legacy payload cell_name, else the deployment passed in
    resource_id: str | None = None   # the volume (cinder volume.*) or image (glance image.*) it is about
    size: float | None = None        # that volume's size in GB, that image's in bytes


def decode(body: bytes, max_bytes: int = DEFAULT_MAX_BYTES, *, exchange: str | None = None,
           cell: str | None = None) -> Notification:
    """Decode one AMQP body. `exchange` is the fallback service for unknown publishers, `cell` the
    fallback cell (the consumer's deployment). Raises MalformedNotification, nothing else."""
    return Notification(**decode_fields(body, max_bytes, exchange=exchange, cell=cell))


def decode_fields(body: bytes, max_bytes: int = DEFAULT_MAX_BYTES, *, exchange: str | None = None,
                  cell: str | None = None, usage: bool = True,
                  loads: Callable[[str], Any] = json.loads) -> dict[str, Any]:
    """`decode`'s fields as a dict (the capture path's: a dict is cheaper to build than a Notification).

    `usage=False` skips the usage fields (image, launched_at, deleted_at, terminated_at, the audit
    period, vcpus, memory_mb, root_gb: left None), which the archive's row does not hold: the capture
    path decodes every message once, and parsing their times costs a tenth of the decoding. What is
    read back from the archive is decoded again from the raw body, with them.

    `loads` is the JSON decoder: the stdlib's by default; the capture path passes a faster one that must
    return what `json.loads` returns and raise ValueError (or RecursionError) where it does."""
    if not isinstance(body, (bytes, bytearray, memoryview)):
        raise MalformedNotification("not bytes", type(body).__name__)
    body = bytes(body)
    if len(body) > max_bytes:
        raise MalformedNotification("too large", f"{len(body)} bytes > {max_bytes}")
    try:
        raw = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedNotification("not UTF-8", str(exc)) from None
    try:
        return _decode(raw.removeprefix("\ufeff"), exchange, cell, usage, loads)
    except RecursionError:
        raise MalformedNotification("too deeply nested") from None


def _decode(raw: str, exchange: str | None, cell: str | None, usage: bool,
            loads: Callable[[str], Any]) -> dict[str, Any]:
    doc = _loads(loads, raw, "not JSON")
    message = raw                    # the message's own JSON text: the envelope's inner one, unescaped
    if "oslo.message" in doc:
        inner, version = doc["oslo.message"], doc.get("oslo.version")
        if not isinstance(inner, str):
            raise MalformedNotification("bad envelope", "oslo.message is not a string")
        if version is not None and not (isinstance(version, str) and version.startswith("2.")):
            raise MalformedNotification("bad envelope", f"oslo.version {version!r}")
        doc = _loads(loads, inner, "envelope not JSON")
        message = inner
    event_type = doc.get("event_type")
    if not isinstance(event_type, str) or not event_type.strip():
        raise MalformedNotification("no event_type")
    wire_payload = doc.get("payload")
    if wire_payload is None:
        wire_payload = {}
    if not isinstance(wire_payload, dict):
        raise MalformedNotification("payload not an object", type(wire_payload).__name__)

    payload_type = text(wire_payload.get("nova_object.name"))
    secrets: set[str] = set()
    # searched in the inner text, "\\u" only if it has a backslash: a two-character search is slow (~1.6 us)
    if "nova_object" in message or "auth_token" in message or ("\\" in message and "\\u" in message):
        p: dict[str, Any] = _flatten(wire_payload, secrets)
    else:            # nothing to unwrap or blank (a key spelt with a \u escape takes the walk above)
        p = wire_payload
    context = doc.get("context") if isinstance(doc.get("context"), dict) else {}

    def ctx(key: str) -> Any:
        value = doc.get("_context_" + key)
        return value if value is not None else context.get(key)

    initiator = p.get("initiator") if isinstance(p.get("initiator"), dict) else {}   # keystone CADF
    publisher_id = text(doc.get("publisher_id"))
    name = names.normalize_name(event_type)
    priority = text(doc.get("priority"))
    priority = priority.upper() if priority else None
    flavor = p.get("flavor") if isinstance(p.get("flavor"), dict) else {}
    fault = fault_of(p, payload_type, priority)
    token = text(ctx("auth_token"))
    if token:
        secrets.add(token)
    service = names.service_of(publisher_id, event_type, exchange)
    resource_id, size = _resource(service, name, p)
    state_update = p.get("state_update") if isinstance(p.get("state_update"), dict) else {}

    return dict(
        message_id=text(doc.get("message_id")),
        event_type=event_type,
        name=name,
        priority=priority,
        publisher_id=publisher_id,
        service=service,
        host=_host(publisher_id, p),
        timestamp=parse_time(doc.get("timestamp")),
        request_id=(text(ctx("request_id")) or text(p.get("request_id")) or text(initiator.get("request_id"))),
        global_request_id=text(ctx("global_request_id")),
        tenant_id=(text(p.get("tenant_id")) or text(p.get("project_id")) or text(ctx("project_id"))
                   or text(ctx("tenant")) or text(ctx("tenant_id")) or text(p.get("owner"))
                   or text(initiator.get("project_id"))),
        user_id=(text(p.get("user_id")) or text(ctx("user_id")) or text(ctx("user"))
                 or text(initiator.get("user_id"))),
        instance_uuid=_instance_uuid(p, payload_type),
        state=(text(p.get("state")) or text(p.get("status"))),
        old_state=(text(p.get("old_state")) or text(state_update.get("old_state"))),
        task_state=_task_state(p),
        flavor=_flavor(p, flavor),
        **(usage_fields(p, name, flavor) if usage else NO_USAGE),
        fault=fault,
        is_error=(priority in ("ERROR", "CRITICAL") or event_type.endswith(".error")
                  or name.endswith(".error") or fault is not None),
        payload=p,
        raw=_redact(raw, secrets),
        payload_type=payload_type,
        cell=text(p.get("cell_name")) or cell,
        resource_id=resource_id,
        size=size,
    )


def _resource(service: str, name: str, p: dict) -> tuple[str | None, float | None]:
    """The volume (and its size in GB) of a cinder `volume.*`, the image (and its size in bytes) of a
    glance `image.*`, for the event-driven inventory; (None, None) for anything else."""
    if service == "cinder" and name.startswith("volume."):
        return text(p.get("volume_id")), _number(p.get("size"))
    if service == "glance" and name.startswith("image."):
        return text(p.get("id")), _number(p.get("size"))
    return None, None


def _number(value: Any) -> float | None:
    """A size as cinder ("40", 40) or glance (bytes, or null while queued) sends it."""
    n = integer(value)
    if n is not None:
        return float(n)
    if isinstance(value, float) and value == value and value >= 0:
        return value
    return None


def _loads(loads: Callable[[str], Any], raw: str, reason: str) -> dict:
    try:
        doc = loads(raw)
    except ValueError as exc:                     # JSONDecodeError, and int-too-long
        raise MalformedNotification(reason, str(exc)) from None
    if not isinstance(doc, dict):
        raise MalformedNotification("not an object", type(doc).__name__)
    return doc


def _flatten(value: Any, secrets: set[str]) -> Any:
    """Replace each nova_object dict by its `nova_object.data`, recursively; blank `auth_token`s
    (`@wrap_exception` payloads carry the request context in `args.context`) and collect them."""
    if isinstance(value, dict):
        data = value.get("nova_object.data")
        if isinstance(data, dict):
            value = data
        out = {}
        for k, v in value.items():
            if k in _SECRET_KEYS and isinstance(v, str) and v:
                secrets.add(v)
                out[k] = REDACTED
            else:
                out[k] = _flatten(v, secrets)
        return out
    if isinstance(value, list):
        return [_flatten(v, secrets) for v in value]
    return value


def _redact(raw: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) >= _MIN_SECRET:                     # never blank short strings all over the body
            raw = raw.replace(secret, REDACTED)
    return raw


def _host(publisher_id: str | None, p: dict) -> str | None:
    """A compute publisher names the compute host; otherwise the payload's host (the instance's
    compute host, cinder's volume host), else the publisher's. cinder's @backend#pool is cut."""
    _kind, pub_host = names.split_publisher(publisher_id)
    if names.is_compute_publisher(publisher_id) and pub_host:
        return names.bare_host(pub_host)
    return names.bare_host(text(p.get("host")) or pub_host)


def _instance_uuid(p: dict, payload_type: str | None) -> str | None:
    found = (text(p.get("instance_id")) or text(p.get("instance_uuid")))
    if found is None and payload_type and payload_type.startswith("Instance"):
        found = text(p.get("uuid"))
    if found is None:                                         # @wrap_exception: {exception, args}
        args = p.get("args") if isinstance(p.get("args"), dict) else {}
        instance = args.get("instance") if isinstance(args.get("instance"), dict) else {}
        exc = p.get("exception") if isinstance(p.get("exception"), dict) else {}
        kwargs = exc.get("kwargs") if isinstance(exc.get("kwargs"), dict) else {}
        found = (text(instance.get("uuid")) or text(args.get("instance_uuid")) or text(kwargs.get("instance_uuid"))
                 or text(kwargs.get("instance_id")))
    return found


def _task_state(p: dict) -> str | None:
    if "task_state" in p:                                     # versioned
        return text(p.get("task_state"))
    if "new_task_state" in p:                                 # legacy compute.instance.update
        return text(p.get("new_task_state"))
    return text(p.get("state_description"))                   # legacy: the task state or ""


def _flavor(p: dict, flavor: dict) -> str | None:
    legacy = p.get("instance_type")
    if isinstance(legacy, dict):
        flavor = flavor or legacy
        legacy = None
    return (text(legacy) or text(flavor.get("name")) or text(p.get("instance_flavor_id"))
            or text(flavor.get("flavorid")))
