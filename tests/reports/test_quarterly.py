"""A quarterly report over 90 days of a cloud of 50 tenants, 20 compute nodes and 2,000 instances, loaded
through the public ingest paths (tests/reports/cloudgen.py): its totals agree with the same numbers computed
directly from the stored raw notifications; it reads rollups, never raw points; a tenant deleted mid-period is
reported up to its deletion; the audit finds the planted problems; CSV/JSON carry every table; a period with no
data says so. The HTML opens in headless Chromium and prints to PDF with every chart visible.
"""

from __future__ import annotations

import json
import os
import statistics
import shutil
import subprocess
import zlib
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from stackwatch.reports.gather import build_report
from stackwatch.reports.period import parse_period, previous
from stackwatch.reports.render import render_html, write
from stackwatch.store.sqlite import open_store
from stackwatch.store.sqlite.acks import SqliteAckStore
from tests.reports import cloudgen

ROOT = Path(__file__).resolve().parents[2]
PERIOD = parse_period("2026-Q3")
NOW = PERIOD.end + 20 * 86400


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    from stackwatch.config import load_config

    data = tmp_path_factory.mktemp("report-data")
    config = load_config(ROOT / "config.yaml").with_data_dir(data)
    store = open_store(config.database_path, config.metrics)
    cloud = cloudgen.make_cloud(previous(PERIOD).start + 60 * 86400, PERIOD.end)
    cloudgen.load_notifications(cloud, store.notifications)
    cloudgen.load_metrics(cloud, store.metrics, every=3 * 3600.0)
    cloud.alerts = cloudgen.load_alerts(cloud, store.alerts, acks=SqliteAckStore(store.db))
    report = build_report(store, "quarterly", PERIOD, NOW)
    yield config, store, cloud, report
    store.close()


def _epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp()


def raw_instance_hours(store) -> dict[str, float]:
    """Per tenant, hours alive in the period, straight from the stored raw bodies (not the decoder, not the
    lifecycle code): launched_at of create.end, deleted_at of delete.end."""
    launched, deleted, tenant = {}, {}, {}
    for (raw,) in store.db.read().execute("SELECT raw FROM notifications"):
        if isinstance(raw, bytes):                  # rows some development builds wrote zlib-compressed
            raw = zlib.decompress(raw).decode("utf-8")
        msg = json.loads(json.loads(raw)["oslo.message"])
        p = msg["payload"]
        if msg["event_type"] == "compute.instance.create.end":
            launched[p["instance_id"]] = _epoch(p["launched_at"])
            tenant[p["instance_id"]] = p["tenant_id"]
        elif msg["event_type"] == "compute.instance.delete.end":
            deleted[p["instance_id"]] = _epoch(p["deleted_at"])
    hours: dict[str, float] = defaultdict(float)
    for uuid, start in launched.items():
        end = deleted.get(uuid, float("inf"))
        alive = min(end, PERIOD.end) - max(start, PERIOD.start)
        if alive > 0:
            hours[tenant[uuid]] += alive / 3600.0
    return dict(hours)


def test_tenant_totals_agree_with_the_raw_notifications(loaded):
    _config, store, cloud, report = loaded
    expected = raw_instance_hours(store)
    table = report.table("tenant_usage")
    got = {row[0]: row[2] for row in table.rows}
    assert len(expected) == 50 and set(got) == set(expected)
    for t, hours in expected.items():
        assert got[t] == pytest.approx(hours, abs=0.01), t
    cols = table.columns
    for row in table.rows:                          # 2 images each, one deleted; 3 floating IPs each
        assert (row[cols.index("Images")], row[cols.index("Floating IPs")]) == (1, 3.0), row
    cloud_rows = {row[0]: row[1] for row in report.table("cloud_totals").rows}
    assert cloud_rows["Instance-hours"] == pytest.approx(sum(expected.values()), abs=0.05)
    assert len(cloud.instances) == 2000 and len(cloud.nodes) == 20


def test_report_reads_rollups_never_raw_points(loaded):
    *_, report = loaded
    assert any(s.startswith("rollups(") for s in report.sources)
    assert not any("samples_raw" in s for s in report.sources)


def test_tenant_deleted_mid_period_is_reported_up_to_its_deletion(loaded):
    _config, store, cloud, report = loaded
    row = next(r for r in report.table("tenant_usage").rows if r[0] == cloud.deleted_tenant)
    assert row[-1] == datetime.fromtimestamp(cloud.tenant_deleted_at, timezone.utc).strftime("%Y-%m-%d")
    mine = [x for x in cloud.instances if x.tenant == cloud.deleted_tenant]
    assert all(x.deleted_at < cloud.tenant_deleted_at for x in mine)
    expected = sum(max(0.0, min(x.deleted_at, PERIOD.end) - max(x.launched_at, PERIOD.start)) for x in mine) / 3600
    assert expected > 0 and row[2] == pytest.approx(expected, abs=0.01)


def test_audit_counts_find_the_planted_problems(loaded):
    _config, _store, cloud, report = loaded
    verified, failed, missing = report.table("audit_summary").rows[0]
    assert missing == len(cloud.missing_exists) and failed == len(cloud.wrong_exists)
    problems = {r[0]: r[1] for r in report.table("audit_problems").rows}
    assert {u for u, s in problems.items() if s == "missing"} == cloud.missing_exists
    assert verified > 1000


def test_every_section_has_data_and_forecast_and_flavor_fit(loaded):
    _config, _store, cloud, report = loaded
    assert all(s.has_data for s in report.sections), [s.key for s in report.sections if not s.has_data]
    forecast = {r[0]: r for r in report.table("capacity_forecast").rows}
    assert set(forecast) == {"vCPUs", "RAM MB", "Disk GB", "Floating IPs"}
    assert forecast["Floating IPs"][6] == "runs out"     # grows linearly toward used + free
    fit = {r[0]: r[4] for r in report.table("flavor_fit").rows}
    assert set(fit) == set(cloudgen.FLAVORS) and all(isinstance(v, int) for v in fit.values())
    assert fit["m1.tiny"] >= fit["m1.xlarge"]
    nodes = report.table("compute_nodes").rows
    assert len(nodes) == 20
    fired = {r[0]: r[1] for r in report.table("alerts_by_severity").rows}
    in_period = [a for a in cloud.alerts if PERIOD.start <= a[1] < PERIOD.end]
    assert fired == {s: sum(1 for a in in_period if a[0] == s) for s in ("critical", "warning")}
    for row in report.table("alerts_by_severity").rows:     # time to ack: median over the acked ones, minutes
        acked = sorted((a[3] - a[1]) / 60 for a in in_period if a[0] == row[0] and a[3] is not None)
        assert row[2] == len(acked) and row[3] == pytest.approx(statistics.median(acked), abs=0.01)


def test_csv_and_json_carry_every_table(loaded, tmp_path):
    *_, report = loaded
    files = write(report, "csv", tmp_path / "csv")
    assert {f.stem for f in files} == {t.key for t in report.tables()}
    header = (tmp_path / "csv" / "tenant_usage.csv").read_text().splitlines()
    assert header[0].startswith("Tenant,Instances,Instance-hours") and len(header) == 51
    doc = json.loads(write(report, "json", tmp_path / "r.json")[0].read_text())
    assert doc["period"]["label"] == "2026-Q3" and doc["has_data"] is True
    assert sum(len(s["tables"]) for s in doc["sections"]) == len(report.tables())


def test_a_period_with_no_data_says_so(loaded, tmp_path):
    config, store, *_ = loaded
    from stackwatch.cli import cli

    result = CliRunner().invoke(cli, ["report", "quarterly", "--config", str(config.path), "--data-dir",
                                      str(config.data_dir), "--period", "2025-Q1", "--no-progress",
                                      "--output", str(tmp_path / "empty.html")])
    assert result.exit_code == 0, result.output
    assert "no data in this period" in result.output
    html = (tmp_path / "empty.html").read_text()
    assert 'id="no-data"' in html and "No data for this period" in html


def test_strings_from_notifications_are_escaped(tmp_path):
    from stackwatch.reports.model import Report, Section, Table

    evil = "<script>alert(1)</script>"
    t = Table("x", "X", ("Tenant",), ((evil,),))
    html = render_html(Report("weekly", PERIOD, previous(PERIOD), NOW, evil, (Section("s", "S", (t,)),)))
    assert evil not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_html_prints_to_pdf_in_headless_chromium_with_every_chart(loaded, tmp_path):
    *_, report = loaded
    browser, pdftotext, pdftoppm = _chromium(), shutil.which("pdftotext"), shutil.which("pdftoppm")
    if not (browser and pdftotext and pdftoppm):
        message = "needs Debian's chromium and poppler-utils (pdftotext, pdftoppm)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    html = tmp_path / "report.html"
    write(report, "html", html)
    pdf = tmp_path / "report.pdf"
    proc = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                           f"--print-to-pdf={pdf}", html.as_uri()], capture_output=True, text=True, timeout=120)
    assert pdf.exists() and pdf.stat().st_size > 10_000, proc.stderr[-2000:]
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    charts = [c for s in report.sections for c in s.charts]
    assert len(charts) >= 5
    for c in charts:                                 # each chart's title, drawn inside its SVG, is in the PDF
        assert c.title in text, c.title
    assert "no data in this range" not in text
    # the PDF's pages as images: the series colour is drawn (lines, not just titles)
    subprocess.run([pdftoppm, "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True, timeout=120)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3
    first = pages[0].read_bytes()
    assert first.startswith(b"\x89PNG")
    artifacts = Path(os.environ.get("STACKWATCH_ARTIFACTS", ROOT / "test-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "report-quarterly-first-page.png"
    subprocess.run([pdftoppm, "-r", "80", "-png", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(shot.with_suffix(""))], check=True, timeout=60)
    shutil.copy(pdf, artifacts / "report-quarterly.pdf")
    print(f"\nreport first page: {shot} ({len(pages)} pages, {len(charts)} charts)")
    assert shot.exists()
