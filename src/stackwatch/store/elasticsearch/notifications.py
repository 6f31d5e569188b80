"""The notification archive in Elasticsearch (`notifications.backend: elasticsearch`): the same
`archive.NotificationStore` answers as the embedded SQLite store (tests/store/test_notifications_contract.py
runs one suite against both), over daily indices (`notifications_layout`).

Writing: one bulk request per batch with `op_type: create` and the message_id as `_id`, so a duplicate is a
409 and dropped, counted. Transient trouble (429, 502-504, connection refused, timeouts) is retried with
backoff for `RetryPolicy.retry_for` seconds, then `StoreUnavailable` is raised: the sink refuses the batch,
the consumer acknowledges nothing, and RabbitMQ redelivers it later. A document refused for good (a mapping
error) raises `EventsRejected` after the others are stored: the batch is then refused too, and its
redelivery stores only what was missing (the rest are duplicates).

`refresh`: False by default (a bulk returns once the documents are durable in the translog; searches see them
within the index refresh interval, 1 s by default); "wait_for" makes add() return once they are searchable
(the tests; a small deployment that wants `events watch` to be instant).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Iterable, Sequence

from elasticsearch import Elasticsearch, helpers

from stackwatch.stacktach.archive import DeadLetter, ResourceEvent, StoredNotification
from stackwatch.store.elasticsearch import layout, notifications_layout as nl
from stackwatch.store.elasticsearch.bulk import (TRANSIENT_STATUS, BulkStats, EventsRejected, Rejection, RetryPolicy,
                                                 StoreUnavailable, call, is_transient)
from stackwatch.store.elasticsearch.events import Sequence as SeqNumbers

log = logging.getLogger(__name__)

PAGE = 5000
MAX_INSTANCES = 65536          # buckets of the alive-instances aggregation (Elasticsearch's search.max_buckets)
_GONE = ("deleted", "soft-delete", "shelved_offloaded")


class ElasticsearchNotificationStore:
    def __init__(self, client_or_hosts: Elasticsearch | str | Sequence[str],
                 index_prefix: str = "stackwatch-notifications", *, refresh: str | bool = False,
                 retry: RetryPolicy = RetryPolicy(), shards: int = 1, replicas: int | None = None,
                 request_timeout: float = 30.0, **client_options: Any):
        self.prefix = layout.check_prefix(index_prefix)
        self.dead_prefix = nl.dead_prefix(self.prefix)
        self.pattern, self.dead_pattern = layout.index_pattern(self.prefix), layout.index_pattern(self.dead_prefix)
        self.refresh, self.retry, self.stats = refresh, retry, BulkStats()
        self._seq = SeqNumbers()
        if isinstance(client_or_hosts, Elasticsearch):
            self.client, self._owns_client = client_or_hosts, False
        else:
            hosts = [client_or_hosts] if isinstance(client_or_hosts, str) else list(client_or_hosts)
            self.client = Elasticsearch(hosts, request_timeout=request_timeout, max_retries=0, retry_on_status=(),
                                        **client_options)
            self._owns_client = True
        try:
            self._call("index template", lambda: self.client.indices.put_index_template(
                name=self.prefix, **nl.template(self.pattern, shards, replicas)))
            self._call("index template", lambda: self.client.indices.put_index_template(
                name=self.dead_prefix, **nl.dead_template(self.dead_pattern, shards, replicas)))
        except BaseException:
            self.close()
            raise

    # -- writing ----------------------------------------------------------------------------------------
    def add(self, rows: Iterable[tuple], dead: Sequence[DeadLetter] = ()) -> int:
        """A notification Elasticsearch refuses for good (e.g. a keyword longer than it indexes) is kept as a
        dead letter with the reason, so the queue never blocks on it; EventsRejected only if that fails too."""
        rows = list(rows)                       # read first: a generator fills `dead` as it goes
        actions, refused = [], []
        by_id: dict[str, tuple] = {}
        for seq, row in zip(self._seq.take(len(rows)), rows):
            doc = nl.document(row, seq)
            try:
                index = layout.index_for(self.prefix, doc["ts"])
            except (OverflowError, ValueError):
                refused.append((row, f"ts {doc['ts']!r} has no daily index"))
                continue
            by_id[nl.doc_id(doc["message_id"])] = row
            actions.append({"_op_type": "create", "_index": index, "_id": nl.doc_id(doc["message_id"]),
                            "_source": doc})
        created, rejected = self._bulk(actions) if actions else (0, [])
        refused += [(by_id[r.doc_id], f"{r.status} {r.reason}") for r in rejected if r.doc_id in by_id]
        dead = list(dead) + [DeadLetter(time.time(), row[2], "", "", row[0], "rejected by Elasticsearch",
                                        nl.raw_bytes(row[21])) for row, _why in refused]
        for row, why in refused:
            log.error("Elasticsearch refused notification %s (%s): kept as a dead letter", row[0], why)
        if dead:
            dead_actions = [{"_op_type": "create", "_index": layout.index_for(self.dead_prefix, d.received_at),
                             "_id": f"{seq:014x}-dead", "_source": nl.dead_document(d, seq)}
                            for seq, d in zip(self._seq.take(len(dead)), dead)]
            _, failures = self._bulk(dead_actions, count=False)
            if failures:
                self.stats.rejected += len(failures)
                raise EventsRejected(created, failures)
        return created

    def _bulk(self, actions: list[dict], count: bool = True) -> tuple[int, list[Rejection]]:
        """(documents created, rejections); 409 = already there (a duplicate); transient trouble retried."""
        pending = {(a["_index"], a["_id"]): a for a in actions}
        created, failures = 0, []
        next_delay = self.retry.delays()
        while pending:
            problem: Any = None
            try:
                for ok, item in helpers.streaming_bulk(self.client, list(pending.values()), chunk_size=2000,
                                                       raise_on_error=False, raise_on_exception=False,
                                                       max_retries=0, refresh=self.refresh):
                    ((_op, info),) = item.items()
                    key, status = (info.get("_index"), info["_id"]), info.get("status", 500)
                    if ok:
                        created += 1
                    elif status == 409:
                        pass                                  # a duplicate: the first copy is stored
                    elif status in TRANSIENT_STATUS:
                        problem = f"HTTP {status}"
                        continue
                    else:
                        failures.append(Rejection(info["_id"], status, str(info.get("error"))))
                    pending.pop(key, None)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                problem = exc
            if pending:
                delay = next_delay()
                self.stats.last_error = str(problem)
                if delay is None:
                    raise StoreUnavailable(f"Elasticsearch unavailable for {len(pending)} notification(s): {problem}")
                self.stats.retries += 1
                log.warning("Elasticsearch busy or unreachable (%s); retrying %d notification(s) in %.1fs",
                            problem, len(pending), delay)
                time.sleep(delay)
        if count:
            self.stats.indexed += created
        return created, failures

    # -- reading ----------------------------------------------------------------------------------------
    def query(self, *, instance: str | None = None, request_id: str | None = None, tenant: str | None = None,
              name: str | None = None, event_type: str | None = None, service: str | None = None,
              errors_only: bool = False, start: float | None = None, end: float | None = None,
              limit: int = 1000, newest_first: bool = False) -> list[StoredNotification]:
        clauses: list[dict] = []
        for field, value in (("instance_uuid", instance), ("tenant_id", tenant), ("name", name),
                             ("event_type", event_type), ("service", service)):
            if value is not None:
                clauses.append({"term": {field: value}})
        if request_id is not None:
            clauses.append({"bool": {"should": [{"term": {"request_id": request_id}},
                                                {"term": {"global_request_id": request_id}}],
                                     "minimum_should_match": 1}})
        if errors_only:
            clauses.append({"term": {"is_error": True}})
        bounds = {k: v for k, v in (("gte", start), ("lt", end)) if v is not None}
        if bounds:
            clauses.append({"range": {"ts": bounds}})
        order = "desc" if newest_first else "asc"
        hits = self._hits(self.pattern, {"bool": {"filter": clauses}}, [{"ts": order}, {"seq": order}], limit)
        return [nl.stored_notification(h) for h in hits]

    def alive_instances(self) -> tuple[dict[str, int], dict[str, int]]:
        query = {"bool": {"filter": [{"term": {"service": "nova"}}, {"exists": {"field": "instance_uuid"}},
                                     {"exists": {"field": "state"}}]}}
        aggs = {"instances": {"terms": {"field": "instance_uuid", "size": MAX_INSTANCES},
                              "aggs": {"latest": {"top_hits": {"size": 1, "sort": [{"ts": "desc"}, {"seq": "desc"}],
                                                               "_source": ["host", "flavor", "state"]}}}}}
        resp = self._call("alive instances", lambda: self.client.search(
            index=self.pattern, query=query, aggs=aggs, size=0, allow_no_indices=True, ignore_unavailable=True))
        agg = (resp.get("aggregations") or {}).get("instances") or {"buckets": []}
        if agg.get("sum_other_doc_count"):
            log.warning("more than %d instances: the notification inventory counts the first %d only",
                        MAX_INSTANCES, MAX_INSTANCES)
        by_host: dict[str, int] = {}
        by_flavor: dict[str, int] = {}
        for bucket in agg["buckets"]:
            src = bucket["latest"]["hits"]["hits"][0]["_source"]
            if src.get("state") in _GONE:
                continue
            host, flavor = src.get("host") or "unknown", src.get("flavor") or "unknown"
            by_host[host] = by_host.get(host, 0) + 1
            by_flavor[flavor] = by_flavor.get(flavor, 0) + 1
        return by_host, by_flavor

    def resource_events(self, service: str) -> list[ResourceEvent]:
        query = {"bool": {"filter": [{"term": {"service": service}}, {"exists": {"field": "resource_id"}}]}}
        hits = self._hits(self.pattern, query, [{"ts": "asc"}, {"seq": "asc"}], 10_000_000)
        return [ResourceEvent(h["resource_id"], float(h["ts"]), h["name"], h.get("state"), h.get("size"),
                              h.get("tenant_id"), h.get("host") or "") for h in hits]

    def count(self) -> int:
        resp = self._call("count", lambda: self.client.count(index=self.pattern, allow_no_indices=True,
                                                             ignore_unavailable=True))
        return int(resp["count"])

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        hits = self._hits(self.dead_pattern, {"match_all": {}}, [{"received_at": "desc"}, {"seq": "desc"}], limit)
        return [nl.dead_letter(h) for h in hits]

    def dead_letter_counts(self) -> dict[str, int]:
        resp = self._call("dead letter counts", lambda: self.client.search(
            index=self.dead_pattern, size=0, aggs={"reasons": {"terms": {"field": "reason", "size": 1000}}},
            allow_no_indices=True, ignore_unavailable=True))
        buckets = ((resp.get("aggregations") or {}).get("reasons") or {}).get("buckets", [])
        return {b["key"]: int(b["doc_count"]) for b in buckets}

    def enforce_retention(self, now: float, retention: float) -> int:
        cutoff = now - retention
        deleted = 0
        for prefix, field in ((self.prefix, "ts"), (self.dead_prefix, "received_at")):
            indices = self._call("list indices", lambda: self.client.indices.get(
                index=layout.index_pattern(prefix), allow_no_indices=True, ignore_unavailable=True))
            for index in sorted(indices):
                day = layout.day_of(prefix, index)
                if day is None or day >= cutoff:
                    continue
                if day + layout.DAY <= cutoff:
                    deleted += int(self._call("count", lambda: self.client.count(index=index))["count"])
                    self._call("delete index", lambda: self.client.indices.delete(index=index))
                else:
                    resp = self._call("delete by query", lambda: self.client.delete_by_query(
                        index=index, query={"range": {field: {"lt": cutoff}}}, refresh=True, conflicts="proceed"))
                    deleted += int(resp.get("deleted", 0))
        return deleted

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    # -- helpers ----------------------------------------------------------------------------------------
    def _hits(self, pattern: str, query: dict, sort: list[dict], limit: int) -> list[dict]:
        """Up to `limit` sources, paged with search_after."""
        out: list[dict] = []
        after = None
        while len(out) < limit:
            size = min(PAGE, limit - len(out))
            kwargs: dict[str, Any] = {"index": pattern, "query": query, "sort": sort, "size": size,
                                      "allow_no_indices": True, "ignore_unavailable": True}
            if after is not None:
                kwargs["search_after"] = after
            hits = self._call("search", lambda: self.client.search(**kwargs))["hits"]["hits"]
            out.extend(h["_source"] for h in hits)
            if len(hits) < size:
                break
            after = hits[-1]["sort"]
        return out

    def _call(self, what: str, fn):
        return call(self.retry, self.stats, what, fn)
