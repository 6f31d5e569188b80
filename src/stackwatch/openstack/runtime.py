"""OpenStack in serve: the inventory cycle, the configured probes (as check results under the probes' host, and
series) and the reaper, as scheduler jobs. Built by `Runtime` when config.yaml has an `openstack:` section."""

from __future__ import annotations

import logging
import time
from typing import Callable

from stackwatch.model import CheckResult

log = logging.getLogger(__name__)

REAPER_INTERVAL = 900.0


class OpenStackRuntime:
    def __init__(self, config, metrics, record_check: Callable[[CheckResult], None]):
        from stackwatch.collectors.openstack import InventoryCycle
        from stackwatch.openstack.source import InventorySource

        self.config, self.oc, self.metrics, self.record_check = config, config.openstack, metrics, record_check
        self.source = InventorySource(self.oc)
        self.cycle = InventoryCycle(self.source, self.oc.collectors, min_age=self.oc.interval / 2)

    def schedule(self, scheduler) -> None:
        if self.oc.collectors:
            scheduler.add("openstack:inventory", self.collect, self.oc.interval, min(30.0, self.oc.interval / 10))
        probes = self.oc.probes
        for kind in probes.kinds:
            scheduler.add(f"openstack:probe-{kind}", self._probe_job(kind), probes.interval,
                          min(60.0, probes.interval / 10))
        if probes.kinds:
            scheduler.add("openstack:probe-reaper", self.reap, REAPER_INTERVAL, 30.0, run_now=False)

    def collect(self, now: float) -> None:
        self.metrics.write(self.cycle.collect(now))

    def _probe_job(self, kind: str):
        from stackwatch.checks.probes import core
        from stackwatch.checks.probes.service import run_probe

        def job(now: float) -> None:
            started = time.perf_counter()
            result = run_probe(kind, self.oc, self.config.data_dir)
            outcome = core.evaluate(result, self.oc.probes.slow)
            self.record_check(outcome.to_result(self.oc.probes.host, f"probe-{kind}", now,
                                                time.perf_counter() - started))
            self.metrics.write(core.samples(result, now))
        return job

    def reap(self, now: float) -> None:
        from stackwatch.checks.probes.service import leaked_samples, reap_all

        found = reap_all(self.oc, self.config.data_dir, now, kinds=self.oc.probes.kinds)
        for kind, (n, errors) in found.items():
            if n or errors:
                log.warning("probe reaper: %s: %d leftover(s), %d not deleted %s", kind, n, len(errors), errors[:1])
        self.metrics.write(leaked_samples(found, now))

    def close(self) -> None:
        self.cycle.close()
        self.source.close()
