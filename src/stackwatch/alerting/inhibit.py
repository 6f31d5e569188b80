"""Inhibition: a firing source alert mutes target alerts that share the `equal` labels (a host down mutes
its services; a region down mutes its hosts), as Alertmanager's inhibit_rules.

Pure: stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from stackwatch.alerting.matchers import Matcher, matches_all


@dataclass(frozen=True, slots=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...] = ()


class Inhibitor:
    """Built once per evaluation from the firing alerts; answers which alert mutes a target."""

    def __init__(self, rules: Iterable[InhibitRule], firing: Iterable[tuple[str, Mapping[str, str]]]):
        self._rules = list(rules)
        # per rule: equal-label values -> the fingerprints of firing source alerts carrying them
        self._sources: list[dict[tuple[str, ...], set[str]]] = []
        firing = list(firing)
        for rule in self._rules:
            index: dict[tuple[str, ...], set[str]] = {}
            for fp, labels in firing:
                if matches_all(rule.source, labels):
                    index.setdefault(tuple(labels.get(e, "") for e in rule.equal), set()).add(fp)
            self._sources.append(index)

    def inhibited_by(self, fp: str, labels: Mapping[str, str]) -> str | None:
        """The fingerprint of a firing source alert that mutes this one, or None."""
        for rule, index in zip(self._rules, self._sources):
            if not index or not matches_all(rule.target, labels):
                continue
            sources = index.get(tuple(labels.get(e, "") for e in rule.equal))
            if sources:
                # an alert matching both sides never mutes itself
                others = sources - {fp}
                if others:
                    return min(others)
        return None
