"""Alerting at the issue's sizes: one evaluation cycle of 10,000 rules against the embedded store, and
routing 10,000 firing alerts (marking, inhibition, route tree, grouping, paging through the real outbox).

Baselines measured in the same run: for evaluation, reading the same inputs from the store once and
comparing each rule's values in a bare loop (the irreducible work); for routing, matching every alert's
labels against every route's matchers with plain dict lookups. Targets: <= 1 s each.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from pathlib import Path

from stackwatch.alerting.dispatch import AlertView, Dispatcher
from stackwatch.alerting.model import Alert, AlertState, fingerprint, make_labels
from stackwatch.alerting.outbox import Outbox
from stackwatch.alerting.pager import Pager
from stackwatch.alerting.service import AlertService, host_labels_of
from stackwatch.config import build_config
from stackwatch.model import CheckResult, Sample, SeriesKey, State
from stackwatch.store.sqlite import open_store
from stackwatch.store.sqlite.outbox import SqliteOutboxStore

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
RULES = max(100, int(10_000 * SCALE))
ALERTS = max(100, int(10_000 * SCALE))
HOSTS = max(10, int(500 * SCALE))


def config(tmp: Path):
    hosts = [{"name": f"c{i}", "address": f"10.0.{i // 250}.{i % 250 + 1}",
              "roles": ["compute"] if i % 5 else ["network"], "labels": {"region": f"r{i % 3}"}}
             for i in range(HOSTS)]
    # the shape of a big installation: per-host thresholds on series (80%), per-host check rules (15%,
    # Nagios soft/hard), absence of series (5%); each rule names what it watches
    rules = []
    for i in range(RULES):
        host = f"c{(i // 50) % HOSTS}"
        if i % 20 < 16:
            rules.append({"name": f"m{i}", "metric": f"metric_{i % 50}", "match": {"host": host},
                          "op": ">", "threshold": 50 + i % 40, "for": "1m", "severity": "warning",
                          "resolve_threshold": 45 + i % 40})
        elif i % 20 < 19:
            rules.append({"name": f"k{i}", "check": f"check-{i % 20}", "match": {"host": host}, "state": "WARNING",
                          "max_check_attempts": 3, "severity": "critical"})
        else:
            rules.append({"name": f"a{i}", "absent": {"metric": f"metric_{i % 50}", "for": "10m"},
                          "match": {"host": host}})
    routes = [{"matchers": [f'alertname=~"m{d}.*"'], "receiver": "ops", "group_by": ["alertname", "region"]}
              for d in range(10)]
    routes.insert(0, {"matchers": ['severity="critical"', 'role=~"compute|network"'], "receiver": "pager",
                      "group_by": ["alertname", "role"], "continue": True})
    raw = {"data_dir": str(tmp), "inventory": {"hosts": hosts},
           "alerting": {"rules": rules,
                        "receivers": [{"name": n, "type": "webhook", "url": "http://127.0.0.1:9/x"} for n in ("ops", "pager")],
                        "route": {"receiver": "ops", "group_by": ["alertname"], "group_wait": "0s", "routes": routes},
                        "inhibit_rules": [{"source_matchers": ['alertname="HostDown"'],
                                           "target_matchers": ['alertname!="HostDown"'], "equal": ["host"]}]}}
    return build_config(raw, tmp / "config.yaml", environ={})


def bench_evaluation(cfg, store) -> None:
    now = time.time()
    rnd = random.Random(1)
    samples = [Sample(SeriesKey.of(f"metric_{m}", {"host": f"c{h}"}), now - 5, rnd.uniform(0, 100))
               for m in range(50) for h in range(HOSTS)]
    store.metrics.write(samples)
    for h in range(HOSTS):
        for c in range(20):
            state = State.WARNING if rnd.random() < 0.2 else State.OK
            store.checks.record(CheckResult(f"c{h}", f"check-{c}", state, "x", now - 5))
    svc = AlertService(cfg.alerting, store, host_labels=host_labels_of(cfg.inventory))
    svc.evaluate_once(now)                       # first cycle creates the alerts
    t0 = time.perf_counter()
    transitions = svc.evaluate_once(now + 61)    # a steady cycle: pending -> firing, state saved
    ours = time.perf_counter() - t0

    t0 = time.perf_counter()                     # baseline: the same inputs, a bare comparison per rule
    by_host = {}
    for info, ts, value in store.metrics.latest():
        by_host.setdefault((info.key.name, dict(info.key.labels).get("host")), []).append((info.key.labels, value))
    checks = {(c.host, c.check): c for c in store.checks.current()}
    store.alerts.active()
    hits = 0
    for rule in cfg.alerting.rules:
        if rule.metric:
            want = dict(rule.matchers)
            hits += sum(1 for labels, v in by_host.get((rule.metric, want["host"]), ()) if v > rule.threshold)
        elif rule.check:
            want = dict(rule.matchers)
            c = checks.get((want["host"], rule.check))
            hits += c is not None and c.state.severity >= 1 and c.attempts >= rule.max_check_attempts
        else:
            hits += (rule.absent.target, dict(rule.matchers)["host"]) not in by_host
    base = time.perf_counter() - t0
    print(f"evaluation of {RULES} rules ({len(samples)} series, {HOSTS * 20} checks): {ours:.3f} s "
          f"({len(transitions)} transitions)  [target: <= 1 s]")
    print(f"baseline (same inputs read once, bare comparisons, {hits} hits): {base:.3f} s; ratio {ours / base:.1f}x")


def bench_routing(cfg, store) -> None:
    now = time.time()
    rnd = random.Random(2)
    alerts = []
    for i in range(ALERTS):
        h = rnd.randrange(HOSTS)
        labels = make_labels([("alertname", f"m{i % 97}"), ("host", f"c{h}"), ("region", f"r{h % 3}"),
                              ("role", "compute" if h % 5 else "network"),
                              ("severity", "critical" if i % 4 == 0 else "warning")])
        alerts.append(Alert(fingerprint(labels), f"m{i % 97}", labels, (("summary", "s"),), dict(labels)["severity"],
                            AlertState.FIRING, 1.0, now - 120, now - 60, None, now - 60))
    store.alerts.save(alerts)
    dispatcher = Dispatcher(cfg.alerting.route)
    views = [AlertView(a) for a in alerts]
    t0 = time.perf_counter()
    plan = dispatcher.plan(views, {}, now)
    pure = time.perf_counter() - t0

    outbox = Outbox(SqliteOutboxStore(store.db), cfg.alerting.receivers)   # not started: submit only stores
    pager = Pager(cfg.alerting, store, outbox, {h.name: h.roles for h in cfg.inventory.hosts})
    t0 = time.perf_counter()
    full = pager.run_once(now)
    whole = time.perf_counter() - t0

    routes = list(cfg.alerting.route.walk())
    plain = [[(m.name, m.value) for m in r.matchers if m.op == "="] for r in routes]
    t0 = time.perf_counter()
    n = 0
    for a in alerts:
        d = dict(a.labels)
        for ms in plain:
            n += all(d.get(k) == v for k, v in ms)
    base = time.perf_counter() - t0
    print(f"routing {ALERTS} alerts, pure (route tree, grouping, {len(plan.pages)} pages planned): {pure:.3f} s  "
          f"[target: <= 1 s]")
    print(f"routing {ALERTS} alerts, whole pass (store read, marks, inhibition, outbox submit of "
          f"{len(full.pages)} pages, notification log): {whole:.3f} s")
    print(f"baseline (plain equality match of every alert against {len(routes)} routes): {base:.3f} s; "
          f"ratios {pure / base:.1f}x pure, {whole / base:.1f}x whole")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config(Path(tmp))
        store = open_store(Path(tmp) / "bench.db", cfg.metrics)
        try:
            bench_evaluation(cfg, store)
        finally:
            store.close()
        store = open_store(Path(tmp) / "bench2.db", cfg.metrics)
        try:
            bench_routing(cfg, store)
        finally:
            store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
