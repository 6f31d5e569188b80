"""Events (log records, notifications) in Elasticsearch: the `EventStore` protocol over daily indices, giving
the same answers as `stackwatch.store.sqlite.events.SqliteEventStore` (tests/store/test_events_contract.py).

Ordering: search is newest first, trace oldest first, by (`ts`, then insertion). Insertion order is `seq`, a
number from `Sequence` (microseconds since the epoch, bumped to stay strictly increasing within a process),
then `eid` (`seq` in hex plus a random tag per store) breaks the tie between two writers in the same
microsecond and is the document `_id`, so a retried bulk overwrites instead of duplicating.
`Event.id` is `seq`.
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import threading
import time
from typing import Any, Iterable, Mapping, Sequence as Seq

from elasticsearch import Elasticsearch

from stackwatch.store.elasticsearch import layout
from stackwatch.store.elasticsearch.bulk import BulkStats, EventsRejected, Rejection, RetryPolicy, bulk_index, call
from stackwatch.store.interfaces import EVENT_FILTERS, Event

log = logging.getLogger(__name__)

PAGE = 5000                       # hits per request; below index.max_result_window (10,000)
_NOTHING = {"bool": {"must_not": {"match_all": {}}}}


class Sequence:
    """Strictly increasing integers close to the wall clock in microseconds (below 2**53, so they survive
    any JSON number handling)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def take(self, n: int) -> range:
        with self._lock:
            first = max(self._last + 1, time.time_ns() // 1000)
            self._last = first + n - 1
            return range(first, first + n)


_SEQUENCE = Sequence()


class ElasticsearchEventStore:
    """The EventStore protocol on Elasticsearch 8 (and on the noida-db stand-in the tests start)."""

    def __init__(self, client_or_hosts: Elasticsearch | str | Seq[str], index_prefix: str = "stackwatch-events",
                 *, refresh: str | bool = "wait_for", retry: RetryPolicy = RetryPolicy(), shards: int = 1,
                 replicas: int | None = None, request_timeout: float = 30.0, **client_options: Any):
        """`client_or_hosts`: a client (the caller keeps ownership) or URL(s) to build one from, with
        `client_options` (basic_auth=, ca_certs=, ...). `refresh`: "wait_for" (default: add() returns once
        the events are searchable), True (force a refresh: tests, tiny volumes) or False (faster, but a
        search right after add() may miss them, which the contract does not allow). Creates or updates the
        index template; raises StoreUnavailable if Elasticsearch cannot be reached within `retry`."""
        self.prefix = layout.check_prefix(index_prefix)
        self.pattern = layout.index_pattern(self.prefix)
        self.refresh = refresh
        self.retry = retry
        self.stats = BulkStats()
        self._tag = secrets.token_hex(4)
        if isinstance(client_or_hosts, Elasticsearch):
            self.client, self._owns_client = client_or_hosts, False
        else:
            hosts = [client_or_hosts] if isinstance(client_or_hosts, str) else list(client_or_hosts)
            # Retries are ours (with backoff and a budget), not the transport's immediate ones.
            self.client = Elasticsearch(hosts, request_timeout=request_timeout, max_retries=0,
                                        retry_on_status=(), **client_options)
            self._owns_client = True
        body = layout.template(self.prefix, shards, replicas)
        try:
            self._call("index template", lambda: self.client.indices.put_index_template(name=self.prefix, **body))
        except BaseException:
            self.close()
            raise

    def add(self, events: Iterable[Event]) -> int:
        events = list(events)
        if not events:
            return 0
        actions, unplaceable = [], []
        for seq, e in zip(_SEQUENCE.take(len(events)), events):
            eid = f"{seq:014x}-{self._tag}"
            try:
                index = layout.index_for(self.prefix, e.ts)
            except (OverflowError, ValueError):        # nan, inf, beyond year 9999: no daily index
                unplaceable.append(Rejection(eid, 400, f"ts {e.ts!r} has no daily index"))
                continue
            actions.append({"_op_type": "index", "_index": index, "_id": eid, "_source": _document(e, seq, eid)})
        try:
            stored = bulk_index(self.client, actions, self.retry, self.stats, self.refresh) if actions else 0
        except EventsRejected as exc:
            self.stats.rejected += len(unplaceable)
            raise EventsRejected(exc.stored, unplaceable + exc.failures) from None
        if unplaceable:
            self.stats.rejected += len(unplaceable)
            raise EventsRejected(stored, unplaceable)
        return stored

    def search(self, text: str | None = None, start: float | None = None, end: float | None = None,
               filters: Mapping[str, str] | None = None, limit: int = 100) -> list[Event]:
        clauses = _time_range(start, end)
        if text and text.strip():
            clauses.extend(_all_words(text))
        for key, value in (filters or {}).items():
            if key not in EVENT_FILTERS:
                raise ValueError(f"cannot filter events on {key!r}; use one of {', '.join(EVENT_FILTERS)}")
            # as SQL's `column = NULL`, a None value matches nothing
            clauses.append({"term": {key: value}} if value is not None else _NOTHING)
        return self._hits({"bool": {"filter": clauses}}, "desc", limit)

    def trace(self, ident: str, start: float | None = None, end: float | None = None,
              limit: int = 10000) -> list[Event]:
        ident = ident.strip()
        if not ident:
            return []
        names_it = [{"term": {col: ident}} for col in ("instance_uuid", "request_id", "global_request_id")]
        names_it.append({"bool": {"filter": _all_words(ident)}})
        query = {"bool": {"filter": _time_range(start, end), "should": names_it, "minimum_should_match": 1}}
        return self._hits(query, "asc", limit)

    def count(self) -> int:
        resp = self._call("count", lambda: self.client.count(index=self.pattern, allow_no_indices=True,
                                                             ignore_unavailable=True))
        return int(resp["count"])

    def enforce_retention(self, now: float, retention: float) -> int:
        """Delete every event with ts < now - retention: whole daily indices when their day is entirely
        older, a delete-by-query in the index of the day the cutoff falls in. Returns the events deleted."""
        cutoff = now - retention
        whole, partial = [], []
        for index in self._indices():
            day = layout.day_of(self.prefix, index)
            if day is None:
                continue
            if day + layout.DAY <= cutoff:
                whole.append(index)
            elif day < cutoff:
                partial.append(index)
        deleted = 0
        for i in range(0, len(whole), 50):          # keep the URL short
            names = ",".join(whole[i:i + 50])
            deleted += int(self._call("count", lambda: self.client.count(index=names))["count"])
            self._call("delete indices", lambda: self.client.indices.delete(index=names))
            log.info("retention: deleted indices %s", names)
        for index in partial:
            resp = self._call("delete by query", lambda: self.client.delete_by_query(
                index=index, query={"range": {"ts": {"lt": cutoff}}}, refresh=True, conflicts="proceed"))
            deleted += int(resp.get("deleted", 0))
        return deleted

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def _indices(self) -> list[str]:
        resp = self._call("list indices", lambda: self.client.indices.get(
            index=self.pattern, allow_no_indices=True, ignore_unavailable=True, expand_wildcards="open"))
        return sorted(resp.body)

    def _hits(self, query: dict, order: str, limit: int) -> list[Event]:
        """Up to `limit` events in (ts, seq, eid) `order`, paging with search_after past PAGE hits."""
        out: list[Event] = []
        # unmapped_type: an index made by hand without these fields must not fail the whole search
        sort = [{"ts": {"order": order, "unmapped_type": "double"}},
                {"seq": {"order": order, "unmapped_type": "long"}},
                {"eid": {"order": order, "unmapped_type": "keyword"}}]
        after = None
        while len(out) < limit:
            size = min(PAGE, limit - len(out))
            kwargs: dict = {"index": self.pattern, "query": query, "sort": sort, "size": size,
                            "track_total_hits": False, "allow_no_indices": True, "ignore_unavailable": True}
            if after is not None:
                kwargs["search_after"] = after
            hits = self._call("search", lambda: self.client.search(**kwargs))["hits"]["hits"]
            out.extend(_event(h["_source"]) for h in hits)
            if len(hits) < size:
                break
            after = hits[-1]["sort"]
        return out

    def _call(self, what: str, fn):
        return call(self.retry, self.stats, what, fn)


def _document(e: Event, seq: int, eid: str) -> dict:
    # the same normalisation as the SQLite store: what json cannot hold comes back as str()
    fields = json.loads(json.dumps(dict(e.fields), default=str))
    return {
        "@timestamp": math.floor(e.ts * 1000), "ts": e.ts, "seq": seq, "eid": eid, "kind": e.kind, "host": e.host,
        "service": e.service, "program": e.program, "severity": e.severity, "request_id": e.request_id,
        "global_request_id": e.global_request_id, "instance_uuid": e.instance_uuid, "message": e.message,
        "text": layout.searchable_text(e.message, fields), "fields": fields, "raw": e.raw,
    }


def _event(src: dict) -> Event:
    return Event(float(src["ts"]), src["kind"], src["message"], src.get("host", ""), src.get("service", ""),
                 src.get("program", ""), src.get("severity", ""), src.get("request_id"),
                 src.get("instance_uuid"), src.get("global_request_id"), src.get("fields") or {},
                 src.get("raw", ""), id=src["seq"])


def _all_words(text: str) -> list[dict]:
    """Each whitespace-separated word as a phrase of its tokens in the message or traceback (the SQLite
    store's quoted FTS5 phrases): every word must appear; punctuation is never query syntax."""
    return [{"match_phrase": {"text": word}} for word in text.split()]


def _time_range(start: float | None, end: float | None) -> list[dict]:
    bounds = {k: v for k, v in (("gte", start), ("lte", end)) if v is not None}
    return [{"range": {"ts": bounds}}] if bounds else []
