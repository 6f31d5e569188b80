"""The Elasticsearch backend for events (log records and notifications) at scale: the same `EventStore`
answers as the embedded SQLite store, over daily indices (`layout`), written with retry and back-pressure
(`bulk`). Only this package imports the `elasticsearch` client.

Tests run it against noida-db, a small Elasticsearch-8-API-compatible server started from
tests/store/es_server.py. noida-db is a stand-in for Elasticsearch used in tests only; production runs
Elasticsearch 8.
"""

from __future__ import annotations

from typing import Any

from stackwatch.config import ElasticsearchConfig
from stackwatch.store.elasticsearch.bulk import EventsRejected, Rejection, RetryPolicy, StoreUnavailable
from stackwatch.store.elasticsearch.events import ElasticsearchEventStore

__all__ = ["ElasticsearchEventStore", "EventsRejected", "Rejection", "RetryPolicy", "StoreUnavailable",
           "open_event_store"]


def open_event_store(config: ElasticsearchConfig, **options: Any) -> ElasticsearchEventStore:
    """The event store for `logs.elasticsearch` in config.yaml; raises StoreUnavailable."""
    if config.username:
        options.setdefault("basic_auth", (config.username, config.password or ""))
    if config.ca_file:
        options.setdefault("ca_certs", config.ca_file)
    return ElasticsearchEventStore(list(config.hosts), config.index_prefix, **options)
