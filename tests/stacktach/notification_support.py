"""Helpers for the notification tests: fixture and corpus paths (the corpus is skipped when absent
and a failure in CI), the v2 envelope, notigen template rendering, and a synthetic notification
builder. Not a conftest, so it does not collide with the AMQP tests in this folder."""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from stackwatch.stacktach.notification import Notification, decode

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "notifications"
from tests.conftest import CORPUS  # noqa: E402  (../shared/corpus beside the checkout, or /work/shared)
BASE = datetime(2014, 6, 2, 12, 0, 0, tzinfo=timezone.utc)   # "now" when rendering templates


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The shared notification corpus; skipped on a laptop without it, a failure in CI."""
    if not (CORPUS / "notifications").is_dir():
        if in_ci():
            pytest.fail(f"CI must provide the notification corpus at {CORPUS} (or set STACKWATCH_CORPUS)")
        pytest.skip(f"notification corpus not found at {CORPUS}")
    return CORPUS / "notifications"


def envelope(doc: dict | str) -> bytes:
    """Wrap a message as oslo.messaging's v2 driver does on the wire."""
    inner = doc if isinstance(doc, str) else json.dumps(doc)
    return json.dumps({"oslo.version": "2.0", "oslo.message": inner}).encode()


def bare(doc: dict) -> bytes:
    return json.dumps(doc).encode()


def resolved_samples(path: Path | None = None) -> dict[str, dict]:
    """nova's versioned doc samples with $ref resolved: sample file name -> notification."""
    path = path or FIXTURES / "nova-versioned-samples" / "resolved.jsonl"
    out = {}
    with path.open() as fh:
        for line in fh:
            rec = json.loads(line)
            out[rec["sample_file"]] = rec["notification"]
    return out


_PLACEHOLDER = re.compile(r"\[\[\[\[([A-Za-z][A-Za-z0-9_]*?)(?:_(\d+))?\]\]\]\]")


def template_time(time_map: dict, placeholder: str, now: datetime = BASE) -> datetime:
    """notigen's `time_map` entry [days, seconds, micro] as an offset from `now`. (notigen passes
    the third number as milliseconds; it looks like captured microseconds, so we use those.)"""
    days, seconds, micro = time_map[placeholder]
    return now + timedelta(days=days, seconds=seconds, microseconds=micro)


def render_template(path: Path, now: datetime = BASE, host: str = "c-0042") -> tuple[dict, list[dict]]:
    """A notigen template -> (its metadata, the notifications with placeholders filled in
    deterministically: UUID_n from the file name and n, DT_n = now + time_map offset)."""
    text = path.read_text()
    meta = json.loads(text)[0]
    tmap = meta["time_map"]

    def fill(m: re.Match) -> str:
        kind, n = m.group(1), m.group(2)
        if kind == "DT":
            return template_time(tmap, m.group(0), now).strftime("%Y-%m-%d %H:%M:%S.%f")
        if kind == "UUID":
            return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{path.name}/{n}"))
        if kind == "XUUID":
            return uuid.uuid5(uuid.NAMESPACE_URL, f"{path.name}/x{n}").hex
        if kind == "V4":
            return f"10.0.{int(n) // 250}.{int(n) % 250 + 1}"
        if kind == "V6":
            return f"fd00::{int(n) + 1:x}"
        return {"publisher_id": f"compute.{host}", "host": host, "node": host,
                "tenant_id": "5fb0de36b7d4467abc06d8b8e52fb3b1", "user_id": "aa8d3a2b10f1475c90a1f4a0ba6c3dd2",
                }.get(kind, f"{kind}-{n or 0}")

    rendered = json.loads(_PLACEHOLDER.sub(fill, text))
    return meta, rendered[1:]


def note(event_type: str, ts: float | None, uuid_: str = "11111111-2222-3333-4444-555555555555",
         priority: str = "INFO", host: str = "c1", message_id: str | None = None, **payload) -> Notification:
    """A synthetic legacy nova notification, decoded."""
    doc = {"event_type": event_type, "priority": priority, "publisher_id": f"compute.{host}",
           "payload": {"instance_id": uuid_, "tenant_id": "t1", "host": host, **payload}}
    if ts is not None:
        doc["timestamp"] = datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
    if message_id is not None:
        doc["message_id"] = message_id
    return decode(bare(doc))
