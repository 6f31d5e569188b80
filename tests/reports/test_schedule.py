"""Scheduled reports: the job writes the last complete period's report into the reports directory, keeps only
the newest ones, and mails it through an email receiver of alerting.receivers to a real SMTP server (aiosmtpd,
STARTTLS and AUTH, the receiver tests' certificate); a bad cron expression is a config error."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from stackwatch.config import ConfigError, build_config
from stackwatch.reports.archive import list_reports
from stackwatch.reports.schedule import prune, run_scheduled
from stackwatch.reports.settings import ReportSchedule
from tests.alerting.notify.test_smtp import Mailbox, authenticator, receiver, server_context, smtpd, tls  # noqa: F401
from tests.reports import cloudgen

NOW = datetime(2026, 11, 3, 6, 0, tzinfo=timezone.utc).timestamp()     # a Tuesday: the last week is 2026-W44


def test_scheduled_weekly_report_is_written_and_mailed(store, make_config, tmp_path, smtpd, tls):  # noqa: F811
    config = make_config(reports={"keep": 2})
    cloud = cloudgen.make_cloud(NOW - 20 * 86400, NOW - 86400, tenants=5, nodes=2, instances=40)
    cloudgen.load_notifications(cloud, store.notifications)
    box = Mailbox()
    port = smtpd(box, tls_context=server_context(tls), authenticator=authenticator, auth_require_tls=True)
    mail = receiver(port, tls)
    schedule = ReportSchedule("weekly", "0 6 * * 1", "ops-mail", ("capacity@example.org",), ("html", "json"))
    written = run_scheduled(store, config, schedule, NOW, receivers=(mail,))
    assert sorted(p.name for p in written) == ["stackwatch-weekly-2026-W44.html", "stackwatch-weekly-2026-W44.json"]
    assert all(p.parent == config.data_dir / "reports" for p in written)
    (got,) = box.messages
    assert got["to"] == ["capacity@example.org"] and got["tls"] and got["login"] == "stackwatch"
    msg = got["message"]
    assert msg["Subject"] == "stackwatch weekly report 2026-W44"
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == "stackwatch-weekly-2026-W44.html"
    assert "Usage per tenant" in attachment.get_content()


def test_prune_keeps_the_newest_of_each_kind(tmp_path):
    import os

    for i, label in enumerate(("2026-W40", "2026-W41", "2026-W42")):
        p = tmp_path / f"stackwatch-weekly-{label}.html"
        p.write_text("x")
        os.utime(p, (1000 + i, 1000 + i))
    (tmp_path / "stackwatch-monthly-2026-09.html").write_text("x")
    assert prune(tmp_path, "weekly", 2) == 1
    assert sorted(r.name for r in list_reports(tmp_path)) == [
        "stackwatch-monthly-2026-09.html", "stackwatch-weekly-2026-W41.html", "stackwatch-weekly-2026-W42.html"]


def test_bad_cron_and_kind_are_config_errors(tmp_path):
    from tests.conftest import minimal_raw

    raw = minimal_raw(tmp_path, reports={"schedule": [{"kind": "yearly"}, {"kind": "weekly", "cron": "61 * * * *"}]})
    with pytest.raises(ConfigError) as err:
        build_config(raw, tmp_path / "config.yaml", environ={})
    text = str(err.value)
    assert "reports.schedule[0].kind" in text and "reports.schedule[1].cron" in text
