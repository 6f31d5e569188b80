"""The `alerting:` section of config.yaml: rules (metric thresholds with hysteresis, check states with
Nagios soft/hard attempts, log patterns, absence of data), the route tree, inhibition rules, notification
periods, contact groups, and the receivers (built by `alerting.notify.config.build_receivers`).

Read with `config_reader.Reader` so every problem is reported with its dotted path; route defaults are
inherited from parent to child as in Alertmanager.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from stackwatch.alerting.matchers import MatcherError, parse_matchers
from stackwatch.alerting.periods import Period, check_timezone, parse_times, parse_weekdays
from stackwatch.alerting.routing import ALL_LABELS, Escalation, Route
from stackwatch.alerting.inhibit import InhibitRule
from stackwatch.config_reader import Reader

if TYPE_CHECKING:
    from stackwatch.alerting.logwatch import LogMatch

_OPS = (">", ">=", "<", "<=", "==", "!=")
ABSENT_KINDS = ("metric", "host", "log", "consumer")


@dataclass(frozen=True, slots=True)
class AbsentSpec:
    """Alert when something goes silent for `for_` seconds: a series (`metric` + matchers), a host (no check
    result), a log feed (no record from host/service) or a notification consumer (no notification from a
    deployment). `target` is the metric name or a glob on the host / service / deployment."""

    kind: str
    target: str = "*"
    service: str = "*"          # log feeds: the service glob (target is the host glob)
    for_: float = 600.0


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """An alert rule on a metric (`metric`, `op`, `threshold`), on check states (`check`), on log
    records (`log`: at least `min_count` matching records within `window`), or on silence (`absent`)."""

    name: str
    severity: str
    for_: float
    metric: str | None = None
    matchers: tuple[tuple[str, str], ...] = ()
    op: str = ">"
    threshold: float = 0.0
    check: str | None = None
    state: str = "CRITICAL"
    summary: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    log: "LogMatch | None" = None     # a log pattern rule: matches counted over `window`
    window: float = 300.0
    min_count: int = 1
    resolve_threshold: float | None = None   # hysteresis: a firing metric alert resolves only past this
    keep_firing_for: float = 0.0             # ...and only after its condition stayed false this long
    max_check_attempts: int = 1              # Nagios: a check state is HARD after this many results
    absent: AbsentSpec | None = None

    @property
    def kind(self) -> str:
        if self.absent is not None:
            return "absent"
        if self.log is not None:
            return "log"
        return "metric" if self.metric is not None else "check"


@dataclass(frozen=True, slots=True)
class ContactGroup:
    """Nagios's contact group: a list of receivers, paged within their notification period."""

    name: str
    receivers: tuple[str, ...]
    period: str = "24x7"


@dataclass(frozen=True, slots=True)
class AlertingConfig:
    evaluation_interval: float = 15.0
    staleness: float = 300.0
    rules: tuple[RuleSpec, ...] = ()
    route: Route | None = None
    inhibit_rules: tuple[InhibitRule, ...] = ()
    periods: tuple[Period, ...] = ()
    contact_groups: tuple[ContactGroup, ...] = ()
    receivers: tuple[Any, ...] = ()          # alerting.notify.config's receiver specs (each has .name)
    external_url: str = ""
    delivery: Any = None                     # the outbox's RetryPolicy (alerting.delivery), None: defaults

    def receiver_names(self) -> set[str]:
        return {getattr(r, "name", "") for r in self.receivers}


ALERTING_KEYS = ("evaluation_interval", "staleness", "rules", "route", "inhibit_rules", "periods",
                 "contact_groups", "receivers", "external_url", "delivery")


def build_alerting(r: Reader, m: dict) -> AlertingConfig:
    rules = _build_rules(r, m)
    periods = _build_periods(r, r.mapping(m.get("periods"), "alerting.periods"))
    period_names = {p.name for p in periods} | {"24x7"}
    receivers = _build_receivers(r, m.get("receivers"))
    names = {getattr(x, "name", "") for x in receivers}
    groups = _build_contact_groups(r, r.mapping(m.get("contact_groups"), "alerting.contact_groups"),
                                   names, period_names)
    targets = names | {g.name for g in groups}
    route = None
    if m.get("route") is not None:
        route = _build_route(r, m["route"], "alerting.route", None, "0", targets, period_names)
    inhibit = []
    for i, item in enumerate(r.list(m.get("inhibit_rules"), "alerting.inhibit_rules")):
        path = f"alerting.inhibit_rules[{i}]"
        im = r.mapping(item, path, ("source_matchers", "target_matchers", "equal"))
        inhibit.append(InhibitRule(_matchers(r, im, "source_matchers", path), _matchers(r, im, "target_matchers", path),
                                   r.str_list(im, "equal", path)))
    delivery = None
    if m.get("delivery") is not None:
        from stackwatch.alerting.notify.config import build_delivery

        delivery = build_delivery(r, m["delivery"], "alerting.delivery")
    return AlertingConfig(r.duration(m, "evaluation_interval", "alerting", "15s"),
                          r.duration(m, "staleness", "alerting", "5m"), tuple(rules), route, tuple(inhibit),
                          tuple(periods), tuple(groups), tuple(receivers),
                          str(r.str(m, "external_url", "alerting", "")).rstrip("/"), delivery)


def _build_receivers(r: Reader, raw: Any) -> tuple:
    from stackwatch.alerting.notify.config import build_receivers

    return tuple(build_receivers(r, raw, "alerting.receivers"))


def _matchers(r: Reader, m: dict, key: str, path: str) -> tuple:
    raw = m.get(key)
    if raw is None:
        return ()
    if not isinstance(raw, (list, str)):
        r.problem(f"{path}.{key}", "expected a list of matchers such as ['severity=~\"critical|warning\"']")
        return ()
    try:
        return parse_matchers(raw)
    except MatcherError as exc:
        r.problem(f"{path}.{key}", str(exc))
        return ()


_ROUTE_KEYS = ("receiver", "matchers", "group_by", "group_wait", "group_interval", "repeat_interval", "continue",
               "period", "escalate", "send_resolved", "routes")


def _build_route(r: Reader, raw: Any, path: str, parent: Route | None, rid: str, targets: set[str],
                 periods: set[str]) -> Route:
    m = r.mapping(raw, path, _ROUTE_KEYS)
    base = parent or Route(id=rid, receiver="")
    receiver = r.str(m, "receiver", path, base.receiver if parent else None)
    if receiver is None:
        r.problem(f"{path}.receiver", "required on the top route", "name a receiver or a contact group")
        receiver = ""
    elif receiver not in targets and (parent is None or "receiver" in m):
        r.problem(f"{path}.receiver", f"unknown receiver or contact group {receiver!r}",
                  f"known: {', '.join(sorted(targets)) or 'none (define alerting.receivers)'}")
    group_by = r.str_list(m, "group_by", path) if "group_by" in m else base.group_by
    if ALL_LABELS in group_by and len(group_by) > 1:
        r.problem(f"{path}.group_by", "'...' groups by all labels and stands alone")
    period = r.str(m, "period", path, base.period)
    if period not in periods:
        r.problem(f"{path}.period", f"unknown period {period!r}", f"known: {', '.join(sorted(periods))}")
    escalate = base.escalate
    if "escalate" in m:
        escalate = []
        for i, e in enumerate(r.list(m.get("escalate"), f"{path}.escalate")):
            ep = f"{path}.escalate[{i}]"
            em = r.mapping(e, ep, ("after", "receiver"))
            name = r.str(em, "receiver", ep)
            if name and name not in targets:
                r.problem(f"{ep}.receiver", f"unknown receiver or contact group {name!r}")
            escalate.append(Escalation(r.duration(em, "after", ep), name))
        escalate = tuple(sorted(escalate, key=lambda e: e.after))
    node = Route(
        id=rid, receiver=receiver, matchers=_matchers(r, m, "matchers", path), group_by=tuple(group_by),
        group_wait=r.duration(m, "group_wait", path, base.group_wait if parent else "30s"),
        group_interval=r.duration(m, "group_interval", path, base.group_interval if parent else "5m"),
        repeat_interval=r.duration(m, "repeat_interval", path, base.repeat_interval if parent else "4h"),
        continue_=r.bool(m, "continue", path, False), period=period, escalate=tuple(escalate),
        send_resolved=r.bool(m, "send_resolved", path, base.send_resolved))
    children = tuple(_build_route(r, c, f"{path}.routes[{i}]", node, f"{rid}.{i}", targets, periods)
                     for i, c in enumerate(r.list(m.get("routes"), f"{path}.routes")))
    return replace(node, routes=children)


def _build_periods(r: Reader, m: dict) -> list[Period]:
    out = []
    for name, spec in m.items():
        path = f"alerting.periods.{name}"
        pm = r.mapping(spec, path, ("timezone", "weekdays", "times"))
        tz = str(r.str(pm, "timezone", path, "UTC"))
        try:
            check_timezone(tz)
            weekdays = parse_weekdays(list(r.str_list(pm, "weekdays", path))) if "weekdays" in pm else frozenset(range(7))
            times = parse_times(list(r.str_list(pm, "times", path))) if "times" in pm else ((0, 1440),)
        except ValueError as exc:
            r.problem(path, str(exc))
            continue
        out.append(Period(str(name), tz, weekdays, times))
    return out


def _build_contact_groups(r: Reader, m: dict, receivers: set[str], periods: set[str]) -> list[ContactGroup]:
    out = []
    for name, spec in m.items():
        path = f"alerting.contact_groups.{name}"
        gm = r.mapping(spec, path, ("receivers", "period"))
        members = r.str_list(gm, "receivers", path)
        for x in members:
            if x not in receivers:
                r.problem(f"{path}.receivers", f"unknown receiver {x!r}",
                          f"known: {', '.join(sorted(receivers)) or 'none'}")
        period = str(r.str(gm, "period", path, "24x7"))
        if period not in periods:
            r.problem(f"{path}.period", f"unknown period {period!r}", f"known: {', '.join(sorted(periods))}")
        out.append(ContactGroup(str(name), members, period))
    return out


def _build_rules(r: Reader, m: dict) -> list[RuleSpec]:
    rules, seen = [], set()
    for i, rule in enumerate(r.list(m.get("rules"), "alerting.rules")):
        path = f"alerting.rules[{i}]"
        rm = r.mapping(rule, path, ("name", "severity", "for", "metric", "match", "op", "threshold", "check",
                                    "state", "summary", "labels", "log", "window", "count", "resolve_threshold",
                                    "keep_firing_for", "max_check_attempts", "absent"))
        name = r.str(rm, "name", path)
        if name in seen:
            r.problem(f"{path}.name", f"duplicate rule {name!r}")
        seen.add(name)
        metric, check, log, absent = rm.get("metric"), rm.get("check"), rm.get("log"), rm.get("absent")
        if sum(x is not None for x in (metric, check, log, absent)) != 1:
            r.problem(path, "give exactly one of metric, check or log, or absent (a rule on silence)")
        matchers = r.mapping(rm.get("match"), f"{path}.match")
        labels = r.mapping(rm.get("labels"), f"{path}.labels")
        state = r.choice(rm, "state", path, ("CRITICAL", "WARNING", "UNKNOWN"), "CRITICAL")
        resolve = rm.get("resolve_threshold")
        rules.append(RuleSpec(
            name=name,
            severity=r.choice(rm, "severity", path, ("critical", "warning", "info"), "warning"),
            for_=r.duration(rm, "for", path, "0s"),
            metric=None if metric is None else r.str(rm, "metric", path),
            matchers=tuple(sorted((str(k), str(v)) for k, v in matchers.items())),
            op=r.choice(rm, "op", path, _OPS, ">"),
            threshold=float(r.number(rm, "threshold", path, 0.0)) if metric is not None else 0.0,
            check=None if check is None else r.str(rm, "check", path),
            state=state,
            summary=r.str(rm, "summary", path, ""),
            labels=tuple(sorted((str(k), str(v)) for k, v in labels.items())),
            log=None if log is None else build_log_match(r, r.mapping(log, f"{path}.log", (
                "pattern", "level", "service", "program", "group_by")), f"{path}.log"),
            window=r.duration(rm, "window", path, "5m"),
            min_count=int(r.number(rm, "count", path, 1, 1)),
            resolve_threshold=None if resolve is None else float(r.number(rm, "resolve_threshold", path, 0.0)),
            keep_firing_for=r.duration(rm, "keep_firing_for", path, "0s"),
            max_check_attempts=int(r.number(rm, "max_check_attempts", path, 1, 1)),
            absent=None if absent is None else _build_absent(r, absent, f"{path}.absent"),
        ))
    return rules


def _build_absent(r: Reader, raw: Any, path: str) -> AbsentSpec | None:
    m = r.mapping(raw, path, ABSENT_KINDS + ("service", "for"))
    kinds = [k for k in ABSENT_KINDS if k in m]
    if len(kinds) != 1:
        r.problem(path, f"give exactly one of {', '.join(ABSENT_KINDS)}",
                  "e.g. absent: {host: 'compute-*', for: 10m}")
        return None
    kind = kinds[0]
    return AbsentSpec(kind, str(r.str(m, kind, path)), str(r.str(m, "service", path, "*")),
                      r.duration(m, "for", path, "10m"))


def build_log_match(r: Reader, m: dict, path: str):
    from stackwatch.alerting.logwatch import LogMatch

    pattern = r.str(m, "pattern", path, None)
    if pattern is not None:
        try:
            re.compile(pattern)
        except re.error as exc:
            r.problem(f"{path}.pattern", f"bad regular expression: {exc}")
            pattern = None

    def words(key: str) -> tuple[str, ...]:
        value = m.get(key)
        return (str(value),) if isinstance(value, str) else r.str_list(m, key, path)
    group_by = words("group_by") if "group_by" in m else ("host", "service")
    for g in group_by:
        if g not in ("host", "service", "program", "level", "instance_uuid"):
            r.problem(f"{path}.group_by", f"cannot group by {g!r}", "use host, service, program, level, instance_uuid")
    return LogMatch(pattern, tuple(x.upper() for x in words("level")), words("service"), words("program"), group_by)


__all__ = ["AbsentSpec", "AlertingConfig", "ALERTING_KEYS", "ContactGroup", "RuleSpec", "build_alerting"]
