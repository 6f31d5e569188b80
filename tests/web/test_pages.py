"""The HTML pages, against a real SQLite store: overview, host, trends, alerts, errors, /metrics."""

import re
from pathlib import Path

from prometheus_client import CollectorRegistry, Gauge

import stackwatch.web
from stackwatch.web import create_app

from .conftest import NOW, XSS

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def cell(html: str, host: str, check: str) -> str:
    """The overview cell for host/check (found through its title)."""
    m = re.search(r'<td class="cell ([^"]*)">\s*<a href="/hosts/%s" title="%s on %s: ' % (host, check, host), html)
    assert m, f"no cell for {host}/{check}"
    rest = html[m.start():]
    return rest[:rest.index("</td>")]


def test_overview_grid(client):
    resp = client.get("/")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    html = resp.text
    assert '<meta http-equiv="refresh" content="30">' in html
    for word in ("h1", "h2", "disk", "load", "ntp", "OK", "CRITICAL", "WARNING", "UNKNOWN"):
        assert word in html
    ok = cell(html, "h1", "disk")
    assert "state-ok" in ok and "42s" in ok and "STALE" not in ok
    assert "state-critical" in cell(html, "h1", "load") and "5s" in cell(html, "h1", "load")
    stale = cell(html, "h2", "disk")                      # 600s old, the disk check runs every 60s
    assert "state-warning stale" in stale and "10m" in stale and "STALE" in stale
    assert html.count('class="cell missing"') == 2        # h2/load and h2/ntp have no result
    assert 'href="/hosts/h1"' in html
    summary = re.search(r'<section class="summary".*?</section>', html, re.S).group(0)
    numbers = dict((name, int(n)) for n, name in re.findall(r'<span class="n">(\d+)</span> (\w+)', summary))
    assert numbers == {"CRITICAL": 1, "WARNING": 1, "UNKNOWN": 1, "OK": 1, "STALE": 1, "FIRING": 1}


def test_overview_escapes_check_output(client):
    html = client.get("/").text
    assert XSS not in html and ESCAPED in html


def test_overview_uses_a_stylesheet_served_here(client):
    html = client.get("/").text
    assert "<script" not in html.replace(ESCAPED, "")
    href = re.search(r'<link rel="stylesheet" href="([^"]+)"', html).group(1)
    assert href.startswith("/static/")
    css = client.get(href)
    assert css.status_code == 200 and css.mimetype == "text/css" and ".state-critical" in css.text
    css.close()


def test_security_headers(client):
    resp = client.get("/")
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_secret_key_is_random_per_app(config, web_store):
    a, b = create_app(config, web_store), create_app(config, web_store)
    assert len(a.config["SECRET_KEY"]) >= 32 and a.config["SECRET_KEY"] != b.config["SECRET_KEY"]


def test_host_page(client, seeded):
    html = client.get("/hosts/h1").text
    assert "DISK OK - / 41% used" in html and "/=41% (warn 80, crit 90)" in html
    assert "load1=12.5" in html
    assert XSS not in html and ESCAPED in html
    assert "<dt>attempts</dt><dd>4</dd>" in html           # four OK disk results in a row
    assert "recent history (4)" in html
    assert f'href="/trends/{seeded.series_id}"' in html and f'href="/trends/{seeded.other_id}"' not in html
    assert f'href="/alerts/{seeded.firing_fp}"' in html
    h2 = client.get("/hosts/h2").text
    assert "STALE" in h2 and "10.0.0.2" in h2


def test_unknown_host_is_a_404_page(client):
    resp = client.get("/hosts/nope")
    assert resp.status_code == 404 and resp.mimetype == "text/html"
    assert "&#39;nope&#39;" in resp.text or "'nope'" in resp.text


def test_trend_list_and_filter(client, seeded):
    html = client.get("/trends").text
    assert f'href="/trends/{seeded.series_id}"' in html and f'href="/trends/{seeded.other_id}"' in html
    html = client.get("/trends", query_string={"q": 'host="h2"'}).text
    assert f'href="/trends/{seeded.other_id}"' in html and f'href="/trends/{seeded.series_id}"' not in html
    html = client.get("/trends", query_string={"q": "<nothing>"}).text
    assert "No series match" in html and "&lt;nothing&gt;" in html


def test_trend_1h_is_answered_by_raw_samples(client, seeded):
    html = client.get(f"/trends/{seeded.series_id}?range=1h").text
    assert "<svg" in html and 'class="line"' in html
    assert re.search(r"raw samples \(samples_raw\), 6\d points", html)


def test_trend_30d_is_answered_by_the_1h_rollup(client, seeded):
    html = client.get(f"/trends/{seeded.series_id}?range=30d").text
    assert re.search(r"1h rollup \(rollups\(step=3600\)\), \d{3} points", html)
    assert "<svg" in html and "<polygon" in html                   # min/max band
    assert html.count('class="line"') == 2                         # the missing day breaks the line
    for r in ("1h", "1d", "7d", "30d", "90d"):
        assert f'href="/trends/{seeded.series_id}?range={r}"' in html


def test_trend_errors(client, seeded):
    bad = client.get(f"/trends/{seeded.series_id}?range=forever")
    assert bad.status_code == 400 and "bad range" in bad.text
    assert client.get("/trends/9999").status_code == 404


def test_alert_pages(client, seeded):
    html = client.get("/alerts").text
    assert "HighLoad" in html and "DiskFilling" in html and "critical" in html
    assert XSS not in html and ESCAPED in html
    assert html.index("HighLoad") < html.index("Recently resolved") < html.index("DiskFilling")
    page = client.get(f"/alerts/{seeded.firing_fp}").text
    assert "pending</span> → <span class=\"st-firing\">firing" in page
    assert 'href="/hosts/h1"' in page
    missing = client.get("/alerts/0000")
    assert missing.status_code == 404 and missing.mimetype == "text/html"


def test_metrics_mounted_when_a_registry_is_given(config, web_store):
    registry = CollectorRegistry()
    Gauge("stackwatch_test_value", "a test gauge", registry=registry).set(7)
    client = create_app(config, web_store, registry=registry, clock=lambda: NOW).test_client()
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    assert "stackwatch_test_value 7.0" in resp.text
    assert client.get("/").status_code == 200
    assert create_app(config, web_store).test_client().get("/metrics").status_code == 404


def test_templates_mark_nothing_safe():
    folder = Path(stackwatch.web.__file__).parent / "templates"
    for path in folder.glob("*.html"):
        assert "|safe" not in path.read_text().replace(" ", ""), path.name
