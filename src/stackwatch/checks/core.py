"""The check core: Nagios threshold ranges, metrics, contexts, results and the combined outcome.

It follows nagiosplugin's design (a Resource yields Metrics, a Context judges each Metric into a
Result, a Summary turns Results into the status line) in a form that is cheap to import, because
`stackwatch-check` is started as a fresh process for every check run.

Pure: stdlib only (plus `stackwatch.states` and `checks.record`, and `stackwatch.model` when an
outcome becomes a CheckResult); no I/O, no clock. Metric, Result and CheckOutcome are records (tuples
with named fields, as namedtuple makes them) without `collections`, which cost every run ~3 ms.
"""

from __future__ import annotations

from stackwatch.checks.record import record
from stackwatch.states import Perfdata, State, worst

TYPE_CHECKING = False
if TYPE_CHECKING:
    from stackwatch.model import CheckResult

_INF = float("inf")


class Range:
    """A Nagios threshold range, "[@][start:][end]", exactly as nagiosplugin and the Nagios
    developer guidelines read it.

    "10" is 0..10, "10:" is 10..inf, "~:10" is -inf..10, "10:20" is 10..20; a value outside the range
    raises the alert. A leading "@" inverts it: the alert is raised when the value is inside. An
    empty range is 0..inf. Bounds are inclusive.
    """

    __slots__ = ("start", "end", "invert")

    def __init__(self, start: float = 0, end: float = _INF, invert: bool = False):
        if start > end:
            raise ValueError(f"range start {start} must not be greater than end {end}")
        self.start, self.end, self.invert = start, end, invert

    @classmethod
    def parse(cls, text: str | int | float | Range | None) -> Range:
        """The range written as `text`; raises ValueError saying what is wrong and what is accepted."""
        if isinstance(text, Range):
            return text
        spec = "" if text is None else str(text).strip()
        body, invert = (spec[1:], True) if spec.startswith("@") else (spec, False)
        parts = body.split(":")
        if len(parts) > 2:
            raise ValueError(f"not a Nagios range: {spec!r} (more than one ':'; use e.g. 10, 10:, ~:10, 10:20, @10:20)")
        start_text, end_text = parts if len(parts) == 2 else ("", parts[0])
        try:
            start = -_INF if start_text == "~" else _atom(start_text, 0)
            end = _atom(end_text, _INF)
        except ValueError:
            raise ValueError(f"not a Nagios range: {spec!r} (use e.g. 10, 10:, ~:10, 10:20, @10:20)") from None
        if start > end:
            raise ValueError(f"not a Nagios range: {spec!r} (start {start} is greater than end {end})")
        return cls(start, end, invert)

    def match(self, value: float) -> bool:
        """True when `value` is fine (no alert), False when it violates the range."""
        inside = self.start <= value <= self.end
        return inside != self.invert

    __contains__ = match

    def scaled(self, factor: float) -> Range:
        """The same range with both bounds multiplied by `factor` (bounds rounded to integers),
        e.g. a percentage range expressed in bytes for perfdata."""
        def scale(bound: float) -> float:
            return bound if bound in (_INF, -_INF) else round(bound * factor)
        return Range(scale(self.start), scale(self.end), self.invert)

    def _format(self, omit_zero_start: bool) -> str:
        out = "@" if self.invert else ""
        if self.start == -_INF:
            out += "~:"
        elif self.start != 0 or not omit_zero_start:
            out += f"{self.start}:"  # str() of the bound, as nagiosplugin: "10" stays "10", "10.0" "10.0"
        if self.end != _INF:
            out += f"{self.end}"
        return out

    def __str__(self) -> str:
        return self._format(omit_zero_start=True)

    @property
    def violation(self) -> str:
        """Why a value that does not match is a problem, for the status line."""
        if self.invert:
            return f"inside range {self._format(False)[1:]}"
        return f"outside range {self._format(False)}"

    def __repr__(self) -> str:
        return f"Range({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return (self.start, self.end, self.invert) == (other.start, other.end, other.invert)

    def __hash__(self) -> int:
        return hash((self.start, self.end, self.invert))


def _atom(text: str, default: float) -> float:
    text = text.strip()
    if text == "":
        return default
    return float(text) if "." in text else int(text)


def _fmt(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class Metric(record("Metric", "name value uom min max context")):
    """One measured value. `context` names the Context that judges it (defaults to `name`)."""

    __slots__ = ()

    def __new__(cls, name: str, value: float, uom: str = "", min: float | None = None,
                max: float | None = None, context: str | None = None):
        return super().__new__(cls, name, value, uom, min, max, context or name)

    @property
    def valueunit(self) -> str:
        value = self.value
        if isinstance(value, float) and not value.is_integer():
            text = f"{value:.4g}"
        else:
            text = _fmt(value)
        return text + (self.uom or "")


class Result(record("Result", "state metric hint description")):
    """A Context's verdict on one Metric: the state, the metric, a hint why (or None) and the
    metric's description as the context words it ("load1 is 3.2")."""

    __slots__ = ()

    def __new__(cls, state: State, metric: Metric | None = None, hint: str | None = None,
                description: str | None = None):
        if description is None and metric is not None:
            description = f"{metric.name} is {metric.valueunit}"
        return super().__new__(cls, state, metric, hint, description or "")

    def __str__(self) -> str:
        if self.hint and self.description:
            return f"{self.description} ({self.hint})"
        return self.hint or self.description


class Context:
    """Judges the metrics whose `context` is this context's `name`.

    The base class judges every metric OK and gives no perfdata; checks subclass it (or
    ScalarContext) to judge in their own terms. `fmt` words the metric: a format string over
    name/value/uom/valueunit/min/max, or a callable taking the metric.
    """

    def __init__(self, name: str, fmt=None):
        self.name, self.fmt = name, fmt

    def describe(self, metric: Metric) -> str:
        fmt = self.fmt
        if fmt is None:
            return f"{metric.name} is {metric.valueunit}"
        if callable(fmt):
            return fmt(metric)
        return fmt.format(name=metric.name, value=metric.value, uom=metric.uom,
                          valueunit=metric.valueunit, min=metric.min, max=metric.max)

    def evaluate(self, metric: Metric) -> Result:
        return Result(State.OK, metric, None, self.describe(metric))

    def performance(self, metric: Metric) -> Perfdata | None:
        return None


class ScalarContext(Context):
    """Judges a number against optional warning and critical Ranges (None: no threshold)."""

    def __init__(self, name: str, warning: Range | str | None = None, critical: Range | str | None = None, fmt=None):
        super().__init__(name, fmt)
        self.warning = threshold(warning)
        self.critical = threshold(critical)

    def evaluate(self, metric: Metric) -> Result:
        if self.critical is not None and not self.critical.match(metric.value):
            return Result(State.CRITICAL, metric, self.critical.violation, self.describe(metric))
        if self.warning is not None and not self.warning.match(metric.value):
            return Result(State.WARNING, metric, self.warning.violation, self.describe(metric))
        return Result(State.OK, metric, None, self.describe(metric))

    def performance(self, metric: Metric) -> Perfdata | None:
        return Perfdata(metric.name, metric.value, metric.uom,
                        "" if self.warning is None else str(self.warning),
                        "" if self.critical is None else str(self.critical),
                        metric.min, metric.max)


def threshold(value: Range | str | None) -> Range | None:
    """The Range in `value`; None (no threshold) for None or an empty string."""
    if value is None or value == "":
        return None
    return Range.parse(value)


class Summary:
    """Words the status line from the results, which arrive worst first (nagiosplugin's Summary)."""

    def ok(self, results: list[Result]) -> str:
        return ", ".join(text for text in map(str, results) if text)

    def problem(self, results: list[Result]) -> str:
        return ", ".join(text for text in map(str, results) if text)

    def empty(self) -> str:
        return "no check results"


class CheckOutcome(record("CheckOutcome", "state summary perfdata details")):
    """What one check run concluded: the state, the status text, the perfdata, and the long-output
    lines (one per result, shown with -v)."""

    __slots__ = ()

    def __new__(cls, state: State, summary: str, perfdata: tuple[Perfdata, ...] = (), details: tuple[str, ...] = ()):
        return super().__new__(cls, state, summary, tuple(perfdata), tuple(details))

    def nagios_line(self, label: str, template: str = "{label} {state} - {summary}") -> str:
        """The plugin's one status line, e.g. "DISK OK - free space: / 45123 MB (52% inode=91%) | /=...". """
        line = template.format(label=label, state=self.state.name, summary=self.summary)
        if self.perfdata:
            line += " | " + " ".join(str(p) for p in self.perfdata)
        return line

    def to_result(self, host: str, check: str, timestamp: float, duration: float = 0.0) -> CheckResult:
        from stackwatch.model import CheckResult  # its dataclasses are not needed to run a check

        return CheckResult(host, check, self.state, self.summary, timestamp, self.perfdata, duration)


def unknown(summary: str) -> CheckOutcome:
    """The outcome of a check that could not judge (the plugin failed, not the system)."""
    return CheckOutcome(State.UNKNOWN, summary)


def combine(results: list[Result], perfdata=(), summary: Summary | None = None) -> CheckOutcome:
    """The outcome of `results`: the worst state; the status text puts the results that are not OK
    first (worst first), then the rest; no results at all is UNKNOWN."""
    summary = summary or Summary()
    if not results:
        return CheckOutcome(State.UNKNOWN, summary.empty(), perfdata)
    ordered = sorted(results, key=lambda r: -r.state.severity)  # stable: equal states keep their order
    state = worst(r.state for r in ordered)
    text = summary.ok(ordered) if state is State.OK else summary.problem(ordered)
    details = tuple(f"{r.state.name}: {r}" for r in ordered)
    return CheckOutcome(state, text, perfdata, details)


def evaluate(metrics, contexts, summary: Summary | None = None) -> CheckOutcome:
    """Judge each metric in the context it names and combine the results (nagiosplugin's Check)."""
    by_name = {context.name: context for context in contexts}
    results, perfdata = [], []
    for metric in metrics:
        try:
            context = by_name[metric.context]
        except KeyError:
            raise ValueError(f"no context {metric.context!r} for metric {metric.name!r}; "
                             f"known: {', '.join(sorted(by_name))}") from None
        results.append(context.evaluate(metric))
        datum = context.performance(metric)
        if datum is not None:
            perfdata.append(datum)
    return combine(results, perfdata, summary)
