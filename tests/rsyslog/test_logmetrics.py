import pytest

from stackwatch.model import Kind
from stackwatch.rsyslog.logmetrics import LogMetrics, quantile
from stackwatch.rsyslog.parse import parse_lines

API_LINES = [
    '2026-11-25 10:00:00.001 2101 INFO nova.osapi_compute.wsgi.server [req-a u p - - -] 10.0.0.1 '
    '"GET /v2.1/servers/detail HTTP/1.1" status: 200 len: 1893 time: 0.2000000',
    '2026-11-25 10:00:01.001 2101 INFO nova.osapi_compute.wsgi.server [req-b u p - - -] 10.0.0.1 '
    '"POST /v2.1/servers HTTP/1.1" status: 202 len: 800 time: 0.4000000',
    '2026-11-25 10:00:02.001 2101 INFO nova.osapi_compute.wsgi.server [req-c u p - - -] 10.0.0.1 '
    '"GET /v2.1/servers/x HTTP/1.1" status: 404 len: 100 time: 0.0100000',
    '2026-11-25 10:00:03.001 2101 ERROR nova.api.openstack.wsgi [req-d u p - - -] Unexpected exception in API method',
    '2026-11-25 10:00:03.001 2101 ERROR nova.api.openstack.wsgi Traceback (most recent call last):',
    '2026-11-25 10:00:03.001 2101 ERROR nova.api.openstack.wsgi   File "x.py", line 1, in f',
    '2026-11-25 10:00:03.001 2101 ERROR nova.api.openstack.wsgi ValueError: boom',
]


def test_api_requests_errors_and_latency_from_log_lines():
    m = LogMetrics()
    for r in parse_lines(API_LINES, syslog=False, source="/var/log/nova/nova-api.log", host="ctl1"):
        m.observe(r)
    samples = {(s.key.name, s.key.labels): s for s in m.samples(now=1000.0)}
    req = {(dict(k[1])["method"], dict(k[1])["status_class"]): s.value
           for k, s in samples.items() if k[0] == "stackwatch_api_requests_total"}
    assert req == {("GET", "2xx"): 1.0, ("POST", "2xx"): 1.0, ("GET", "4xx"): 1.0}
    errors = [s for k, s in samples.items() if k[0] == "stackwatch_log_errors_total"]
    assert [(dict(s.key.labels)["service"], s.value, s.kind) for s in errors] == [("nova", 1.0, Kind.COUNTER)]
    tracebacks = [s for k, s in samples.items() if k[0] == "stackwatch_log_tracebacks_total"]
    assert tracebacks[0].value == 1.0
    p50 = [s for k, s in samples.items() if k[0] == "stackwatch_api_request_duration_seconds"
           and dict(k[1])["quantile"] == "0.5"]
    assert p50[0].value == pytest.approx(0.2)
    # latency quantiles cover one window: the next call has none until new requests arrive
    assert not [s for s in m.samples(now=1060.0) if s.key.name == "stackwatch_api_request_duration_seconds"]


@pytest.mark.parametrize("values, q, expected", [([1.0], 0.99, 1.0), ([1, 2, 3, 4], 0.5, 2.5), ([0, 10], 0.95, 9.5)])
def test_quantile(values, q, expected):
    assert quantile([float(v) for v in values], q) == pytest.approx(expected)
