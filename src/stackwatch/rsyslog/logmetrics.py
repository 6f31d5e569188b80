"""Metrics from logs: records per service, host and level; errors and tracebacks; API requests per
service and status class with latency percentiles, from the request lines the API services write
(`10.0.0.1 "GET /v2.1/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2477829`).

Pure: stdlib only. The ingest pipeline feeds records in and periodically turns the totals into samples
for the trend store (counters, read as rates; latency quantiles as gauges over the last window).
"""

from __future__ import annotations

import re
from collections import defaultdict

from stackwatch.model import Kind, Sample, SeriesKey
from stackwatch.rsyslog.record import LogRecord

REQUEST_LINE = re.compile(
    r'"(?P<method>[A-Z]+) (?P<path>\S+) HTTP/[\d.]+" status: (?P<status>\d{3})\s+len: (?P<len>\d+)\s+'
    r'time: (?P<time>\d+(?:\.\d+)?)')
ERROR_LEVELS = frozenset(("ERROR", "CRITICAL", "FATAL", "TRACE"))
QUANTILES = (0.5, 0.95, 0.99)


class LogMetrics:
    """Running totals since this process started (a restart is a counter reset, which rates handle)."""

    def __init__(self, max_window_samples: int = 100_000):
        self.totals: dict[tuple[str, tuple[tuple[str, str], ...]], float] = defaultdict(float)
        self.latencies: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.max_window_samples = max_window_samples

    def observe(self, r: LogRecord) -> None:
        service = r.service or r.program or "unknown"
        host = r.host or ""
        level = r.level or ("UNPARSED" if not r.parsed else (r.severity_name or "").upper() or "NONE")
        t = self.totals
        t[("stackwatch_log_records_total", (("host", host), ("level", level), ("service", service)))] += 1
        if level in ERROR_LEVELS or (r.severity is not None and r.severity <= 3 and not r.level):
            t[("stackwatch_log_errors_total", (("host", host), ("service", service)))] += 1
        if r.traceback:
            t[("stackwatch_log_tracebacks_total", (("host", host), ("service", service)))] += 1
        if not r.parsed:
            t[("stackwatch_log_unparsed_total", (("host", host),))] += 1
        if "status: " in r.message:
            m = REQUEST_LINE.search(r.message)
            if m:
                api = r.program or service
                status_class = m.group("status")[0] + "xx"
                t[("stackwatch_api_requests_total", (("host", host), ("method", m.group("method")),
                                                     ("program", api), ("service", service),
                                                     ("status_class", status_class)))] += 1
                window = self.latencies[(service, api)]
                if len(window) < self.max_window_samples:
                    window.append(float(m.group("time")))

    def samples(self, now: float) -> list[Sample]:
        """Every total as a counter sample, and the latency quantiles of requests seen since the last call."""
        out = [Sample(SeriesKey(name, labels), now, value, Kind.COUNTER, _HELP.get(name, ""))
               for (name, labels), value in self.totals.items()]
        for (service, program), values in self.latencies.items():
            if not values:
                continue
            values.sort()
            for q in QUANTILES:
                out.append(Sample(SeriesKey.of("stackwatch_api_request_duration_seconds",
                                               {"service": service, "program": program, "quantile": str(q)}),
                                  now, quantile(values, q), Kind.GAUGE,
                                  "API request latency quantiles over the last window, from request log lines"))
            values.clear()
        return out


def quantile(sorted_values: list[float], q: float) -> float:
    """The q-quantile of already sorted values, linear interpolation (numpy's default)."""
    if not sorted_values:
        raise ValueError("no values")
    pos = (len(sorted_values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


_HELP = {
    "stackwatch_log_records_total": "Log records ingested, by host, service and level",
    "stackwatch_log_errors_total": "ERROR, CRITICAL and TRACE log records, by host and service",
    "stackwatch_log_tracebacks_total": "Log records carrying a Python traceback, by host and service",
    "stackwatch_log_unparsed_total": "Log lines no known format matched (kept raw)",
    "stackwatch_api_requests_total": "API requests seen in the API services' request log lines",
}
