"""`/metrics`: a prometheus-client Collector that exposes every current measurement, every check state,
alert counts and stackwatch's own health, read from the stores at scrape time (a registry of our own,
never the global one).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Callable, Iterator

from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from stackwatch.model import Kind, State

_INVALID = re.compile(r"[^a-zA-Z0-9_:]")


class StackwatchCollector:
    def __init__(self, store, scheduler, clock: Callable[[], float]):
        self.store, self.scheduler, self.clock = store, scheduler, clock

    def collect(self) -> Iterator[Metric]:
        yield from self._series()
        yield from self._checks()
        yield from self._alerts()
        yield from self._jobs()

    def _series(self) -> Iterator[Metric]:
        by_name: dict[str, list] = defaultdict(list)
        for info, ts, value in self.store.metrics.latest_raw():
            by_name[info.key.name].append((info, value))
        for name in sorted(by_name):
            rows = by_name[name]
            first = rows[0][0]
            label_names = sorted({k for info, _ in rows for k, _ in info.key.labels})
            clean = _INVALID.sub("_", name)
            help_text = first.help or name
            if first.kind is Kind.COUNTER:
                family = CounterMetricFamily(clean.removesuffix("_total"), help_text, labels=label_names)
            else:
                family = GaugeMetricFamily(clean, help_text, labels=label_names)
            for info, value in rows:
                labels = dict(info.key.labels)
                family.add_metric([labels.get(k, "") for k in label_names], value)
            yield family

    def _checks(self) -> Iterator[Metric]:
        state = GaugeMetricFamily("stackwatch_check_state",
                                  "Current check state (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)",
                                  labels=["host", "check", "state"])
        age = GaugeMetricFamily("stackwatch_check_last_run_timestamp_seconds", "When the check last ran",
                                labels=["host", "check"])
        duration = GaugeMetricFamily("stackwatch_check_duration_seconds", "How long the last run took",
                                     labels=["host", "check"])
        for c in self.store.checks.current():
            state.add_metric([c.host, c.check, State(c.state).name], int(c.state))
            age.add_metric([c.host, c.check], c.timestamp)
            duration.add_metric([c.host, c.check], c.duration)
        yield from (state, age, duration)

    def _alerts(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("stackwatch_alerts", "Active alerts by state and severity",
                                   labels=["state", "severity"])
        counts: dict[tuple[str, str], int] = defaultdict(int)
        for a in self.store.alerts.active():
            counts[(a.state.value, a.severity)] += 1
        for (st, sev), n in sorted(counts.items()):
            family.add_metric([st, sev], n)
        yield family

    def _jobs(self) -> Iterator[Metric]:
        runs = CounterMetricFamily("stackwatch_job_runs", "Scheduled job runs", labels=["job"])
        failures = CounterMetricFamily("stackwatch_job_failures", "Scheduled job runs that raised", labels=["job"])
        last = GaugeMetricFamily("stackwatch_job_last_duration_seconds", "Duration of the job's last run",
                                 labels=["job"])
        for name, stats in sorted(self.scheduler.stats.items()):
            runs.add_metric([name], stats.runs)
            failures.add_metric([name], stats.failures)
            last.add_metric([name], stats.last_duration)
        samples = CounterMetricFamily("stackwatch_store_samples_written", "Metric samples written to the store")
        samples.add_metric([], self.store.metrics.samples_written)
        yield from (runs, failures, last, samples)


def build_registry(store, scheduler, clock: Callable[[], float]) -> tuple[CollectorRegistry, Histogram]:
    """Our own registry with the store collector, and the store write-latency histogram to observe."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StackwatchCollector(store, scheduler, clock))
    write_latency = Histogram("stackwatch_store_write_seconds", "Latency of store write transactions",
                              registry=registry,
                              buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
    return registry, write_latency
