"""The running platform: the stores, the scheduled jobs (collectors, checks, alert evaluation, rollup
checkpoints, retention, log metrics), the log inputs and the metrics registry, wired from one Config. `stackwatch serve` adds the web
server around it; tests drive it directly.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from stackwatch.alerting.logwatch import LogWatch
from stackwatch.alerting.runtime import AlertingRuntime
from stackwatch.alerting.service import AlertService
from stackwatch.config import CheckSpec, Config
from stackwatch.exposition import build_registry
from stackwatch.model import CheckResult, Kind, Sample, SeriesKey, State
from stackwatch.scheduler import Scheduler
from stackwatch.logs_runtime import LogRuntime
from stackwatch.notifications_runtime import NotificationRuntime, open_notification_store
from stackwatch.store.events_backend import open_event_store
from stackwatch.store.sqlite import Store, open_store

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    config: Config
    store: Store
    scheduler: Scheduler
    alerts: AlertService
    registry: object
    events: object
    logs: LogRuntime
    notifications: NotificationRuntime
    clock: Callable[[], float] = time.time
    nagios_passive: object = None  # stackwatch.nagios.passive.CommandFile when nagios.passive is configured
    openstack: object = None  # stackwatch.openstack.runtime.OpenStackRuntime with an openstack: section
    coverage: object = None  # stackwatch.coverage.service.CoverageService: the coverage:evaluate job
    paging: AlertingRuntime | None = None  # evaluation + pager + outbox (alerting.runtime)

    @classmethod
    def build(cls, config: Config, clock: Callable[[], float] = time.time) -> "Runtime":
        store = open_store(config.database_path, config.metrics)
        try:
            events = open_event_store(config, store)
            scheduler = Scheduler(clock=clock)
            registry, write_latency = build_registry(store, scheduler, clock)
            store.db.on_write = write_latency.observe
            logwatch = LogWatch(config.alerting.rules)
            logs = LogRuntime.build(config, events, store.metrics, logwatch)
            store.notifications = open_notification_store(config, store)   # SQLite's, or Elasticsearch
            notifications = NotificationRuntime.build(config, store.notifications)
            paging = AlertingRuntime.build(config, store, logwatch, registry, clock)
            rt = cls(config, store, scheduler, paging.service, registry, events,
                     logs, notifications, clock, paging=paging)
            from stackwatch.nagios.passive import CommandFile
            rt.nagios_passive = CommandFile.from_config(config)
            rt._schedule()
        except BaseException:
            store.close()
            raise
        return rt

    def _schedule(self) -> None:
        from stackwatch.collectors import COLLECTORS, load_builtins
        from stackwatch.checks import get_check

        load_builtins()
        local = self.config.local_hosts()
        if not local:
            log.warning("no inventory host is this machine (%s): no local checks or collectors will run",
                        self.config.hostname)
        for spec in self.config.collectors:
            for host in local:
                collector = COLLECTORS.get(spec.type)(host.name)
                self.scheduler.add(f"collector:{spec.name}:{host.name}", self._collect_job(collector),
                                   spec.interval, spec.jitter)
        for spec in self.config.checks + self.config.cloud_checks:  # cloud_checks: checks.cloud, once each
            plugin = get_check(spec.type)
            for host in spec.hosts:
                self.scheduler.add(f"check:{host}:{spec.name}", self._check_job(host, spec, plugin(spec.options)),
                                   spec.interval, spec.jitter, on_failure=self._check_failed(host, spec))
        self.scheduler.add("alerts:evaluate", self.paging.tick if self.paging else self.alerts.evaluate_once,
                           self.config.alerting.evaluation_interval, 1)
        self.scheduler.add("store:flush-rollups", lambda now: self.store.metrics.flush(),
                           self.config.metrics.flush_interval, 2, run_now=False)
        self.scheduler.add("store:retention", self.enforce_retention, 3600, 60, run_now=False)
        self.scheduler.add("logs:metrics", self.logs.flush_metrics, 60, 2, run_now=False)
        from stackwatch.coverage.service import CoverageService
        self.coverage = CoverageService(self.config, self.store, self.events)
        self.scheduler.add("coverage:evaluate", self.coverage.evaluate_once, self.config.coverage.interval, 2,
                           run_now=False)
        if self.config.notifications.deployments:
            self.scheduler.add("notifications:trends", lambda now: self.notifications.write_trends(now, self.store),
                               60, 2, run_now=False)
            self.scheduler.add("notifications:queue-hygiene",
                               lambda now: self.notifications.check_queues(now, self.store.metrics), 60, 5)
        if self.config.openstack is not None and self.config.openstack.enabled:
            from stackwatch.openstack.runtime import OpenStackRuntime

            self.openstack = OpenStackRuntime(self.config, self.store.metrics, self.record_check)
            self.openstack.schedule(self.scheduler)
        if self.nagios_passive is not None:
            self.scheduler.add("nagios:passive-counts",
                               lambda now: self.store.metrics.write(self.nagios_passive.samples(now)), 60, 2,
                               run_now=False)

        reports = self.config.reports
        for i, schedule in enumerate(reports.schedule if reports is not None else ()):
            self.scheduler.add_cron(f"reports:{schedule.kind}:{i}", self._report_job(schedule), schedule.cron)

    def _report_job(self, schedule):
        def job(now: float) -> None:
            from stackwatch.reports.schedule import run_scheduled

            run_scheduled(self.store, self.config, schedule, now, getattr(self.config.alerting, "receivers", ()))
        return job

    def _collect_job(self, collector):
        def job(now: float) -> None:
            self.store.metrics.write(collector.collect(now))
        return job

    def _check_job(self, host: str, spec: CheckSpec, instance):
        def job(now: float) -> None:
            started = time.perf_counter()
            outcome = instance.run()
            self.record_check(CheckResult(host, spec.name, outcome.state, outcome.summary, now,
                                          tuple(outcome.perfdata), time.perf_counter() - started))
        return job

    def _check_failed(self, host: str, spec: CheckSpec):
        def on_failure(now: float, exc: BaseException) -> None:
            self.record_check(CheckResult(host, spec.name, State.UNKNOWN,
                                          f"check failed: {type(exc).__name__}: {exc}", now))
        return on_failure

    def record_check(self, result: CheckResult) -> None:
        """Store a check result and its state and perfdata as series, so checks have trends too."""
        self.store.checks.record(result)
        if self.nagios_passive is not None:
            self.nagios_passive.submit(result)  # never blocks, never raises: a Nagios not reading is counted
        labels = {"host": result.host, "check": result.check}
        samples = [Sample(SeriesKey.of("stackwatch_check_status", labels), result.timestamp, float(int(result.state)),
                          Kind.GAUGE, "Check state as a number (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN)")]
        for p in result.perfdata:
            samples.append(Sample(SeriesKey.of("stackwatch_check_perfdata", {**labels, "label": p.label,
                                                                            "uom": p.uom}),
                                  result.timestamp, float(p.value), Kind.GAUGE, "Check performance data"))
        self.store.metrics.write(samples)

    def enforce_retention(self, now: float) -> None:
        deleted = self.store.metrics.enforce_retention(now)
        deleted["check_results"] = self.store.checks.enforce_retention(now, self.config.storage.check_history_retention)
        deleted["alert_history"] = self.store.alerts.enforce_retention(now, self.config.storage.alert_history_retention)
        deleted["events"] = self.events.enforce_retention(now, self.config.logs.retention)
        deleted["notifications"] = self.store.notifications.enforce_retention(now, self.config.notifications.retention)
        if self.paging is not None:   # delivered and failed pages, as long as the alert history they explain
            deleted["outbox"] = self.paging.outbox.store.enforce_retention(
                now, self.config.storage.alert_history_retention)
        log.info("retention: deleted %s", deleted)

    def start(self) -> None:
        """Start the log inputs (they raise LogInputError, e.g. a port taken), then the scheduler."""
        self.logs.start()
        self.notifications.start()
        if self.paging is not None:
            self.paging.start()
        self.scheduler.start()

    def stop(self) -> None:
        """Stop the inputs (nothing unstored is acknowledged), let running jobs finish, write the last
        log metrics, checkpoint rollups and close the stores."""
        self.logs.stop()
        self.notifications.stop()
        self.scheduler.shutdown(wait=True)
        if self.openstack is not None:
            self.openstack.close()
        self.logs.flush_metrics(self.clock())
        if self.paging is not None:
            self.paging.stop()
        if self.events is not self.store.events and hasattr(self.events, "close"):
            self.events.close()
        self.store.close()
