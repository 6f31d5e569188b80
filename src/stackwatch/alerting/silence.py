"""What keeps an alert from paging, decided with `now` passed in: silences (matchers between a start and an
end, with author and comment), maintenance windows (per host or per role: the guide's compute-node
maintenance; the alert is muted and marked as in maintenance), and acknowledgements (stop re-paging
until the alert resolves or the ack expires).

Pure: stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from stackwatch.alerting.matchers import Matcher, matches_all


@dataclass(frozen=True, slots=True)
class Silence:
    id: str
    matchers: tuple[Matcher, ...]
    starts_at: float
    ends_at: float
    author: str
    comment: str
    created_at: float = 0.0

    def active(self, now: float) -> bool:
        return self.starts_at <= now < self.ends_at

    def matches(self, labels: Mapping[str, str]) -> bool:
        return matches_all(self.matchers, labels)


@dataclass(frozen=True, slots=True)
class Maintenance:
    """A planned window: alerts about these hosts, or hosts of these roles, are muted and marked."""

    id: str
    hosts: tuple[str, ...]
    roles: tuple[str, ...]
    starts_at: float
    ends_at: float
    author: str
    comment: str
    created_at: float = 0.0

    def active(self, now: float) -> bool:
        return self.starts_at <= now < self.ends_at

    def covers(self, labels: Mapping[str, str], roles_of: Mapping[str, tuple[str, ...]]) -> bool:
        host = labels.get("host", "")
        if host and host in self.hosts:
            return True
        if self.roles:
            if labels.get("role", "") in self.roles:
                return True
            if host and set(roles_of.get(host, ())) & set(self.roles):
                return True
        return False


@dataclass(frozen=True, slots=True)
class Ack:
    fingerprint: str
    author: str
    comment: str
    created_at: float
    expires_at: float | None = None

    def active(self, now: float, fired_at: float | None, still_firing: bool) -> bool:
        """An ack holds for the firing episode it was made in, until it expires."""
        if not still_firing:
            return False
        if self.expires_at is not None and now >= self.expires_at:
            return False
        return fired_at is None or fired_at <= self.created_at


def mute_reason(labels: Mapping[str, str], now: float, silences: Iterable[Silence],
                windows: Iterable[Maintenance], roles_of: Mapping[str, tuple[str, ...]]) -> str:
    """'maintenance:ID', 'silenced:ID' or '' (a maintenance window wins: it is what the alert is marked as)."""
    for w in windows:
        if w.active(now) and w.covers(labels, roles_of):
            return f"maintenance:{w.id}"
    for s in silences:
        if s.active(now) and s.matches(labels):
            return f"silenced:{s.id}"
    return ""
