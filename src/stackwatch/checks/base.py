"""The shape of a check plugin: options in, metrics probed from the system, an outcome judged.

A plugin class has a `name`, a status-line `label` ("DISK"), a frozen `Options` class (see
`checks.options`), `probe()` that reads the system (nagiosplugin's Resource) and a pure
`evaluate(metrics)`. `run()` does both and never raises: a failing probe is UNKNOWN.
"""

from __future__ import annotations

from stackwatch.checks.core import CheckOutcome, Metric, unknown


class CheckPlugin:
    name = ""
    label = ""  # status line prefix; defaults to the upper-cased name
    template = "{label} {state} - {summary}"  # how the status line reads (check_procs uses "STATE: ...")
    # True when this process exists only to run the check (`stackwatch-check` sets it); a check that
    # counts processes must then not count this one, whose command line holds its own pattern.
    standalone = False
    Options: type

    def __init__(self, options=None):
        self.options = options if options is not None else self.Options()

    def probe(self) -> list[Metric]:
        raise NotImplementedError

    def evaluate(self, metrics: list[Metric]) -> CheckOutcome:
        raise NotImplementedError

    def run(self) -> CheckOutcome:
        """Probe and evaluate; any error becomes UNKNOWN with the error in the summary."""
        try:
            return self.evaluate(self.probe())
        except Exception as exc:
            return unknown(f"{type(exc).__name__}: {exc}")

    def status_line(self, outcome: CheckOutcome) -> str:
        return outcome.nagios_line(self.label or self.name.upper(), self.template)
