"""The route tree as Alertmanager users know it: which routes (and so which receivers) an alert goes to,
and the group it joins on each.

Pure: stdlib only. Routes arrive fully resolved (the config builder applies the inheritance of
`group_by`, `group_wait`, `group_interval`, `repeat_interval`, `period` and `escalate` from parent to child).
An alert walks the tree depth-first: the deepest matching routes win; a matching child stops the walk
of its siblings unless it says `continue: true`; when no child matches, the node itself takes the alert.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from stackwatch.alerting.matchers import Matcher

ALL_LABELS = "..."


@dataclass(frozen=True, slots=True)
class Escalation:
    """After `after` seconds without acknowledgement, a critical group is also sent to `receiver`."""

    after: float
    receiver: str


@dataclass(frozen=True, slots=True)
class Route:
    id: str                                  # position in the tree: "0", "0.1", "0.1.0" (part of group keys)
    receiver: str                            # a receiver or a contact group
    matchers: tuple[Matcher, ...] = ()
    group_by: tuple[str, ...] = ("alertname",)
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 4 * 3600.0
    continue_: bool = False
    period: str = "24x7"
    escalate: tuple[Escalation, ...] = ()
    send_resolved: bool = True
    routes: tuple["Route", ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(m.matches(labels) for m in self.matchers)

    def walk(self) -> Iterable["Route"]:
        yield self
        for child in self.routes:
            yield from child.walk()


def match_routes(root: Route, labels: Mapping[str, str]) -> list[Route]:
    """The routes that take an alert with `labels` (the root always matches, as Alertmanager's)."""
    return _match(root, labels)


def _match(node: Route, labels: Mapping[str, str]) -> list[Route]:
    out: list[Route] = []
    for child in node.routes:
        if child.matches(labels):
            out.extend(_match(child, labels))
            if not child.continue_:
                break
    return out or [node]


def group_labels(route: Route, labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    """The labels that name the alert's group on `route` (all of them with `group_by: [...]`)."""
    if ALL_LABELS in route.group_by:
        return tuple(sorted(labels.items()))
    return tuple((name, labels.get(name, "")) for name in sorted(route.group_by) if name in labels)


def group_key(route: Route, grouped: tuple[tuple[str, str], ...]) -> str:
    """Stable across restarts: route position plus group labels, as Alertmanager's `{}/...:{a="b"}`."""
    inner = ", ".join(f'{k}="{v}"' for k, v in grouped)
    return f"{route.id}:{{{inner}}}"
