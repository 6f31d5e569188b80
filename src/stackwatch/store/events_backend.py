"""Choosing the event store from config: the embedded SQLite store by default, Elasticsearch at scale."""

from __future__ import annotations


def open_event_store(config, sqlite_store):
    """The EventStore that `config.logs.backend` names; the SQLite one lives in `sqlite_store`."""
    if config.logs.backend != "elasticsearch":
        return sqlite_store.events
    from stackwatch.store.elasticsearch import open_event_store as open_elasticsearch

    return open_elasticsearch(config.logs.elasticsearch)
