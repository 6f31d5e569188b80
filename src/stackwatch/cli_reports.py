"""`stackwatch report weekly|monthly|quarterly`: the HDWMY usage and trend reports, written as HTML, CSV or JSON.
Registered on the `stackwatch` click group by `cli.py`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from stackwatch.cli import cli, config_options, existing_store, fail


@cli.command("report")
@config_options
@click.argument("kind", type=click.Choice(["weekly", "monthly", "quarterly"]))
@click.option("--period", default=None, help="2026-W47, 2026-11 or 2026-Q3 (default: the last complete one).")
@click.option("--start", default=None, metavar="YYYY-MM-DD", help="First day (with --end) instead of --period.")
@click.option("--end", default=None, metavar="YYYY-MM-DD", help="Last day, included.")
@click.option("--format", "fmt", type=click.Choice(["html", "csv", "json"]), default="html", show_default=True)
@click.option("--output", type=click.Path(path_type=Path), default=None,
              help="File (html, json) or directory (csv); default: a name from the period in the current directory.")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
def report(config, kind: str, period: str | None, start: str | None, end: str | None, fmt: str,
           output: Path | None, progress: bool | None) -> None:
    """Write a usage and trend report for a week, month or quarter (HTML for people, CSV/JSON for tools)."""
    from stackwatch.reports.archive import generate
    from stackwatch.reports.period import PeriodError, resolve

    now = time.time()
    try:
        p = resolve(kind, now, period, start, end)
    except PeriodError as exc:
        fail(str(exc))
    store = existing_store(config, notifications=True)
    show = sys.stderr.isatty() if progress is None else progress
    try:
        if show:
            with click.progressbar(length=10, label=f"{kind} report {p.label}", file=sys.stderr,
                                   item_show_func=lambda s: s) as bar:
                def tick(step: str, i: int, n: int) -> None:
                    bar.update(i - bar.pos, step)
                paths, rep = generate(store, config, kind, p, now, fmt, output, tick)
        else:
            paths, rep = generate(store, config, kind, p, now, fmt, output)
    finally:
        store.close()
    note = "" if rep.has_data else " (no data in this period: the report says so)"
    for path in paths[:1] if fmt != "csv" else [paths[0].parent] if paths else []:
        click.echo(f"{path}{note}")
