"""The `reports:` section of config.yaml: where reports are kept, the probes' SLO, and scheduled reports
(cron expressions, as crontab writes them) mailed through an email receiver of `alerting.receivers`.

    reports:
      directory: reports            # under data_dir
      keep: 12                      # newest reports of each kind kept on disk
      slo: 99.0                     # probe success target, percent
      schedule:
        - {kind: weekly, cron: "0 6 * * 1", mail: {receiver: ops-mail, to: [capacity@example.org]}}
        - {kind: quarterly, cron: "0 7 2 1,4,7,10 *"}

Pure apart from reading the mapping with config_reader.Reader (stdlib). A cron expression is checked with
APScheduler's own parser so a typo is a config error, not a job that never runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackwatch.config_reader import Reader

KINDS = ("weekly", "monthly", "quarterly")
DEFAULT_CRON = {"weekly": "0 6 * * 1", "monthly": "0 6 1 * *", "quarterly": "0 6 1 1,4,7,10 *"}


@dataclass(frozen=True, slots=True)
class ReportSchedule:
    kind: str
    cron: str
    receiver: str | None = None          # an email receiver's name in alerting.receivers
    to: tuple[str, ...] = ()             # overrides that receiver's recipients for reports
    formats: tuple[str, ...] = ("html",)


@dataclass(frozen=True, slots=True)
class ReportsConfig:
    directory: Path                      # relative paths are under data_dir
    keep: int = 12
    slo: float = 99.0
    schedule: tuple[ReportSchedule, ...] = ()


def build_reports(r: Reader, raw: Any) -> ReportsConfig:
    m = r.mapping(raw, "reports", ("directory", "keep", "slo", "schedule"))
    directory = Path(r.str(m, "directory", "reports", "reports"))
    keep = int(r.number(m, "keep", "reports", 12, minimum=1))
    slo = float(r.number(m, "slo", "reports", 99.0, minimum=0))
    schedules = []
    for i, item in enumerate(r.list(m.get("schedule"), "reports.schedule")):
        where = f"reports.schedule[{i}]"
        s = r.mapping(item, where, ("kind", "cron", "mail", "formats"))
        kind = r.choice(s, "kind", where, KINDS)
        cron = r.str(s, "cron", where, DEFAULT_CRON.get(kind, "0 6 * * 1"))
        problem = cron_problem(cron)
        if problem:
            r.problem(f"{where}.cron", problem, "five fields: minute hour day-of-month month day-of-week")
        receiver, to = None, ()
        if s.get("mail") is not None:
            mail = r.mapping(s.get("mail"), f"{where}.mail", ("receiver", "to"))
            receiver = r.str(mail, "receiver", f"{where}.mail")
            to = r.str_list(mail, "to", f"{where}.mail") if "to" in mail else ()
        formats = r.str_list(s, "formats", where) if "formats" in s else ("html",)
        for f in formats:
            if f not in ("html", "json"):
                r.problem(f"{where}.formats", f"{f!r} is not one of html, json")
        schedules.append(ReportSchedule(kind, cron, receiver, tuple(to), tuple(formats)))
    return ReportsConfig(directory, keep, slo, tuple(schedules))


def cron_problem(expr: str) -> str | None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expr, timezone="UTC")
    except (ValueError, TypeError) as exc:
        return f"bad cron expression {expr!r}: {exc}"
    return None
