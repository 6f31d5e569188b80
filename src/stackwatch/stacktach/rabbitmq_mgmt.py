"""RabbitMQ management HTTP API adapter (stdlib urllib): overview and queue readings.

Reads `/api/overview` and `/api/queues[/VHOST]` (paged, `page_size` queues at a time, only the columns
the readings need) and returns `queue_hygiene.QueueReading`s: messages, consumers, message rates. What
to make of them (unconsumed notification queues that grow) is `queue_hygiene`'s business, which is pure.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from .queue_hygiene import QueueReading, parse_queues

QUEUE_COLUMNS = ("name,vhost,messages,messages_ready,messages_unacknowledged,consumers,message_stats,"
                 "arguments,effective_policy_definition,policy,state,durable")


class ManagementError(RuntimeError):
    """The management API did not answer, refused us, or answered something unreadable."""


class ManagementClient:
    def __init__(self, base_url: str, username: str, password: str, timeout: float = 10.0, page_size: int = 500):
        self.base_url = base_url.rstrip("/")
        self.timeout, self.page_size = timeout, page_size
        self._auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        url = self.base_url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        req = urllib.request.Request(url, headers={"Authorization": self._auth, "Accept": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            raise ManagementError(f"GET {path}: HTTP {exc.code} {exc.reason}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise ManagementError(f"GET {path}: {exc}") from exc
        except ValueError as exc:
            raise ManagementError(f"GET {path}: not JSON: {exc}") from exc

    def overview(self) -> dict[str, Any]:
        return self.get("/api/overview")

    def queues(self, vhost: str | None = None) -> list[QueueReading]:
        path = "/api/queues" + (f"/{urllib.parse.quote(vhost, safe='')}" if vhost is not None else "")
        readings: list[QueueReading] = []
        page = 1
        while True:
            doc = self.get(path, {"page": page, "page_size": self.page_size, "columns": QUEUE_COLUMNS})
            readings.extend(parse_queues(doc))
            if not isinstance(doc, dict) or page >= int(doc.get("page_count") or 1):
                return readings
            page += 1

    def reading(self, vhost: str | None = None) -> tuple[float, list[QueueReading]]:
        """(monotonic time, queues): two of them make the input of `queue_hygiene.unconsumed_growing`."""
        return time.monotonic(), self.queues(vhost)
