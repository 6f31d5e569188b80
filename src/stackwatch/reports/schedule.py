"""Scheduled reports: at each cron time, the last complete period's report is written into the reports
directory (older ones beyond `keep` removed) and, when configured, mailed through an email receiver of
`alerting.receivers` with the HTML attached.

Adapter: the file system and the SMTP receiver (alerting.notify.smtp). A failure is logged and counted by the
scheduler; the next run tries again, and a report already on disk for that period is not rebuilt.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from stackwatch.reports.archive import list_reports, reports_dir
from stackwatch.reports.gather import build_report
from stackwatch.reports.period import last_complete
from stackwatch.reports.render import default_name, write
from stackwatch.reports.settings import ReportSchedule

log = logging.getLogger(__name__)


def run_scheduled(store, config, schedule: ReportSchedule, now: float, receivers=()) -> list[Path]:
    """Write (and mail) the report of the last complete period of `schedule.kind`; returns the files written."""
    period = last_complete(schedule.kind, now)
    directory = reports_dir(config)
    directory.mkdir(parents=True, exist_ok=True)
    slo = getattr(getattr(config, "reports", None), "slo", 99.0)
    report = build_report(store, schedule.kind, period, now, slo=slo)
    written = []
    for fmt in schedule.formats:
        written += write(report, fmt, directory / default_name(report, fmt))
    prune(directory, schedule.kind, getattr(getattr(config, "reports", None), "keep", 12))
    if schedule.receiver:
        receiver = next((r for r in receivers if getattr(r, "name", None) == schedule.receiver), None)
        if receiver is None or not hasattr(receiver, "deliver_message"):
            raise ValueError(f"report schedule names receiver {schedule.receiver!r}, which is not an email receiver")
        html = next(p for p in written if p.suffix == ".html") if any(p.suffix == ".html" for p in written) else None
        to = schedule.to or receiver.to
        receiver.deliver_message(report_message(report, receiver.sender, to, html), to)
        log.info("report %s %s mailed to %s", schedule.kind, period.label, ", ".join(to))
    return written


def report_message(report, sender: str, to, html_file: Path | None) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = f"stackwatch {report.kind} report {report.period.label}"
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(report.generated_at, usegmt=True)
    msg["Message-ID"] = make_msgid("stackwatch-report")
    lines = [f"The stackwatch {report.kind} report for {report.period.label} is attached."]
    if not report.has_data:
        lines.append("The stores hold no data for this period: the report says so.")
    for section in report.sections:
        lines.append(f"- {section.title}: {section.empty or 'see the report'}")
    msg.set_content("\n".join(lines))
    if html_file is not None:
        msg.add_attachment(html_file.read_bytes(), maintype="text", subtype="html", filename=html_file.name)
    return msg


def prune(directory: Path, kind: str, keep: int) -> int:
    """Remove the oldest reports of `kind` beyond `keep` (per format)."""
    removed = 0
    by_fmt: dict[str, list] = {}
    for r in list_reports(directory):
        if r.kind == kind:
            by_fmt.setdefault(r.fmt, []).append(r)
    for items in by_fmt.values():
        for old in items[keep:]:
            (directory / old.name).unlink(missing_ok=True)
            removed += 1
    return removed
