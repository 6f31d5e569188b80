"""Writing to Elasticsearch without losing anything: bulk indexing with retry and back-pressure, and the
errors the event store raises.

Transient trouble (HTTP 429 from a full write queue, 502/503/504, connection refused or reset, timeouts) is
retried with exponential backoff for at most `RetryPolicy.retry_for` seconds, then `StoreUnavailable` is
raised: the caller must not acknowledge what it was storing (AMQP: no ack; rsyslog: no RELP ack), so the
sender holds on to it. A document Elasticsearch refuses for good (a mapping conflict, a 400) is never
retried and never dropped quietly: the rest of the batch is stored, then `EventsRejected` names each one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError, Elasticsearch, helpers

log = logging.getLogger(__name__)

TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
T = TypeVar("T")


class StoreUnavailable(Exception):
    """Elasticsearch did not accept the request within the retry budget; nothing may be acknowledged."""


class EventsRejected(Exception):
    """Some documents were refused for good; the others (`stored`) are stored and searchable."""

    def __init__(self, stored: int, failures: list[Rejection]):
        self.stored, self.failures = stored, failures
        shown = "; ".join(f"{f.doc_id}: {f.status} {f.reason}" for f in failures[:3])
        more = f" (and {len(failures) - 3} more)" if len(failures) > 3 else ""
        super().__init__(f"{len(failures)} event(s) rejected, {stored} stored: {shown}{more}")


@dataclass(frozen=True, slots=True)
class Rejection:
    doc_id: str
    status: int
    reason: str


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    retry_for: float = 60.0        # seconds of retrying before StoreUnavailable
    initial_backoff: float = 0.2
    max_backoff: float = 10.0

    def delays(self) -> Callable[[], float | None]:
        """A function giving the next sleep, or None once sleeping it would exceed the budget."""
        deadline = time.monotonic() + self.retry_for
        state = {"next": self.initial_backoff}

        def next_delay() -> float | None:
            delay = state["next"]
            if time.monotonic() + delay > deadline:
                return None
            state["next"] = min(self.max_backoff, delay * 2)
            return delay
        return next_delay


@dataclass
class BulkStats:
    """Running totals since the store was opened (for a collector to expose)."""

    indexed: int = 0
    rejected: int = 0
    retries: int = 0
    last_error: str = field(default="", repr=False)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, (TransportConnectionError, ConnectionTimeout)):
        return True
    return isinstance(exc, ApiError) and exc.meta.status in TRANSIENT_STATUS


def call(policy: RetryPolicy, stats: BulkStats, what: str, fn: Callable[[], T]) -> T:
    """`fn()`, retried on transient errors; StoreUnavailable once the budget is spent."""
    next_delay = policy.delays()
    while True:
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            _wait(next_delay, stats, what, exc)


def bulk_index(client: Elasticsearch, actions: list[dict[str, Any]], policy: RetryPolicy, stats: BulkStats,
               refresh: str | bool, chunk_size: int = 2000, max_chunk_bytes: int = 20 * 2**20) -> int:
    """Index `actions` (each with a unique `_id`, so a retry overwrites rather than duplicates). Returns
    once every document is acknowledged (and, with refresh="wait_for", searchable)."""
    pending = {a["_id"]: a for a in actions}
    failures: list[Rejection] = []
    stored = 0
    next_delay = policy.delays()
    while pending:
        problem: Any = None
        try:
            for ok, item in helpers.streaming_bulk(
                    client, list(pending.values()), chunk_size=chunk_size, max_chunk_bytes=max_chunk_bytes,
                    raise_on_error=False, raise_on_exception=False, max_retries=0, refresh=refresh):
                ((_op, info),) = item.items()
                doc_id, status = info["_id"], info.get("status", 500)
                if ok:
                    del pending[doc_id]
                    stored += 1
                elif status in TRANSIENT_STATUS:
                    problem = f"HTTP {status}: {_reason(info)}"
                else:
                    del pending[doc_id]
                    failures.append(Rejection(doc_id, status, _reason(info)))
        except Exception as exc:
            if not is_transient(exc):
                raise
            problem = exc
        if pending:
            _wait(next_delay, stats, f"bulk of {len(pending)} event(s)", problem)
    stats.indexed += stored
    if failures:
        stats.rejected += len(failures)
        stats.last_error = failures[-1].reason
        log.error("Elasticsearch rejected %d event(s) (stored %d): %s", len(failures), stored,
                  "; ".join(f"{f.doc_id}: {f.status} {f.reason}" for f in failures[:5]))
        raise EventsRejected(stored, failures)
    return stored


def _wait(next_delay: Callable[[], float | None], stats: BulkStats, what: str, problem: Any) -> None:
    stats.last_error = str(problem)
    delay = next_delay()
    if delay is None:
        raise StoreUnavailable(f"Elasticsearch unavailable for {what}: {problem}")
    stats.retries += 1
    log.warning("Elasticsearch busy or unreachable for %s (%s); retrying in %.1fs", what, problem, delay)
    time.sleep(delay)


def _reason(info: dict) -> str:
    error = info.get("error")
    if isinstance(error, dict):
        return f"{error.get('type', '')}: {error.get('reason', '')}".strip(": ")
    return str(error or "unknown error")
