"""Alerts: identity (fingerprint of labels), lifecycle states and transitions.

Pure: stdlib only. An alert is one instance of a rule for one label set (one host's check, one series).
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, replace
from typing import Iterable


class AlertState(str, enum.Enum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"


Labels = tuple[tuple[str, str], ...]


def make_labels(pairs: Iterable[tuple[str, str]]) -> Labels:
    return tuple(sorted({str(k): str(v) for k, v in pairs}.items()))


def fingerprint(labels: Labels) -> str:
    """Stable id of a label set (Alertmanager's idea: same labels, same alert)."""
    text = "\x1f".join(f"{k}\x1e{v}" for k, v in sorted(labels))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Alert:
    fingerprint: str
    rule: str
    labels: Labels
    annotations: Labels
    severity: str
    state: AlertState
    value: float | None
    active_since: float | None
    fired_at: float | None
    resolved_at: float | None
    updated_at: float
    last_active_at: float | None = None   # the last time its condition held (keep_firing_for counts from it)
    muted: str = ""                       # set by the dispatcher: maintenance:ID | silenced:ID | inhibited:FP

    def label(self, name: str, default: str = "") -> str:
        return dict(self.labels).get(name, default)

    @property
    def summary(self) -> str:
        return dict(self.annotations).get("summary", "")

    def evolve(self, **changes) -> "Alert":
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Transition:
    """An alert moved from one state to another at `at` (what routing and history consume)."""

    alert: Alert
    previous: AlertState
    at: float
