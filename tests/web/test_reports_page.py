"""The reports page: lists past reports newest first, serves one with a CSP that allows its inline CSS and
nothing else, refuses names that are not reports (no path traversal), escapes what it shows."""

from stackwatch.reports.model import Report, Section, Table
from stackwatch.reports.period import parse_period, previous
from stackwatch.reports.render import write
from tests.web.conftest import NOW, XSS


def _report(tmp_path, label="2026-Q3", kind="quarterly"):
    p = parse_period(label)
    t = Table("tenant_usage", "Usage per tenant", ("Tenant", "vCPU-hours"), ((XSS, 12.5),))
    rep = Report(kind, p, previous(p), NOW, "", (Section("tenants", "Usage per tenant", (t,)),))
    directory = tmp_path / "reports"
    return write(rep, "html", directory / f"stackwatch-{kind}-{label}.html")[0]


def test_lists_and_serves_reports_with_their_own_csp(client, tmp_path):
    _report(tmp_path)
    _report(tmp_path, "2026-W47", "weekly")
    page = client.get("/reports")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "stackwatch-quarterly-2026-Q3.html" in body and "stackwatch-weekly-2026-W47.html" in body
    one = client.get("/reports/stackwatch-quarterly-2026-Q3.html")
    assert one.status_code == 200 and one.mimetype == "text/html"
    csp = one.headers["Content-Security-Policy"]
    assert "style-src 'unsafe-inline'" in csp and "script-src" not in csp and "default-src 'none'" in csp
    html = one.get_data(as_text=True)
    assert XSS not in html and "&lt;script&gt;" in html


def test_only_report_names_are_served(client, tmp_path):
    _report(tmp_path)
    (tmp_path / "secret.txt").write_text("no")
    for name in ("..%2Fsecret.txt", "secret.txt", "stackwatch-quarterly-2026-Q9.html", "x.html"):
        assert client.get(f"/reports/{name}").status_code == 404, name


def test_empty_directory_says_how_to_make_one(client):
    body = client.get("/reports").get_data(as_text=True)
    assert "No report yet" in body
