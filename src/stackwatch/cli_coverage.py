"""`stackwatch coverage [--json] [--host H]`: for every inventory host and every service its roles expect,
is there a check, is its last result fresh, do the host's logs arrive, are its metrics fresh; gaps first.
Exit code as a Nagios plugin's: 0 all covered, 1 something amber (no logs, stale metrics), 2 something red
(a service without a check, a stale check, a silent host). Registered on the `stackwatch` group by cli.py.
"""

from __future__ import annotations

import json
import sys
import time

import click

from stackwatch.cli import cli, config_options, existing_store, fail

COLUMNS = ("VERDICT", "HOST", "ROLE", "SERVICE", "CHECK", "RESULT", "LOGS", "METRICS", "WHY")


@cli.command("coverage")
@config_options
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of the table.")
@click.option("--host", default=None, help="Only this inventory host.")
def coverage(config, as_json: bool, host: str | None) -> None:
    """Is every host and service of the inventory checked, fresh, logging and measured?"""
    from stackwatch.coverage.assess import Report
    from stackwatch.coverage.service import CoverageService
    from stackwatch.store.events_backend import open_event_store

    if host is not None:
        try:
            config.inventory.host(host)
        except KeyError as exc:
            fail(exc.args[0])
    store = existing_store(config)
    try:
        events = open_event_store(config, store)
        report = CoverageService(config, store, events).report(time.time())
        if events is not store.events and hasattr(events, "close"):
            events.close()
    finally:
        store.close()
    if host is not None:
        report = Report(report.now, tuple(h for h in report.hosts if h.host == host), report.problems)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2))
    else:
        _table(report)
    sys.exit(report.exit_code)


def _table(report) -> None:
    rows = [(r.verdict.upper() if r.level != "green" else "ok", r.host, r.role or "-", r.service or "-",
             r.check or "-", _result(r), _age(r.logs_age, "none" if r.logs_expected else "-"), _age(r.metrics_age, "none"), r.reason)
            for r in report.rows]
    widths = [max(len(COLUMNS[i]), *(len(row[i]) for row in rows)) if rows else len(COLUMNS[i])
              for i in range(len(COLUMNS) - 1)]
    for line in [COLUMNS] + rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(line, widths)) + "  " + line[-1])
    counts = report.counts()
    silent = [h.host for h in report.hosts if h.silent]
    click.echo(f"\n{len(report.hosts)} host(s), {sum(counts.values())} service(s): {counts['red']} red, "
               f"{counts['amber']} amber, {counts['green']} green"
               + (f"; silent: {', '.join(silent)}" if silent else ""))
    for problem in report.problems:
        click.echo(f"warning: {problem}", err=True)


def _result(row) -> str:
    if row.source is None:
        return "-"
    if row.age is None:
        return "via NRPE" if row.source == "nrpe" else "never"
    return f"{row.state.name} {_age(row.age, '')}"


def _age(seconds: float | None, missing: str) -> str:
    if seconds is None:
        return missing
    s = int(seconds)
    if s < 120:
        return f"{s}s"
    if s < 7200:
        return f"{s // 60}m"
    if s < 172800:
        return f"{s // 3600}h"
    return f"{s // 86400}d"
