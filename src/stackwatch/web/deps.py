"""What the web layer is handed at startup (config, store, clock) and how a view reaches it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from flask import current_app

from stackwatch.config import Config

EXTENSION = "stackwatch"


@dataclass(frozen=True)
class WebDeps:
    config: Config
    store: Any  # stackwatch.store.sqlite.Store, or anything with the same .metrics/.checks/.alerts
    clock: Callable[[], float]
    events: Any = None  # the EventStore for logs (SQLite's, or Elasticsearch at scale)

    @property
    def event_store(self):
        return self.events if self.events is not None else self.store.events


def deps() -> WebDeps:
    return current_app.extensions[EXTENSION]
