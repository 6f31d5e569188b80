"""The amqp-log check: the oslo.messaging lines the guide greps for, read from the log files themselves
(no aggregator needed).

- "AMQP server on HOST:PORT is unreachable" lines in the last --window (default 15m) of the --files
  (globs, comma-separated): their count is judged by -w/-c (any one is CRITICAL by default);
- with --process PATTERN (an argument substring, as `check_procs -a`): after that service (re)started,
  did a "Connected to AMQP server" (or "Reconnected to AMQP server") line appear within --connect-within
  of its start? Note that oslo.messaging logs "Connected" at INFO in old releases and at DEBUG in recent
  ones (Zed included): there the line appears only with debug logging, so use this where it is logged.

Only the last --max-bytes of each file are read (seek from the end), plus the end of its rotated
predecessor when the window reaches past the file's first line. Times without a zone are read in
--timezone (UTC by default, as the logs section of config.yaml).

`scan` and `judge` are pure (now passed in); the probe reads files and /proc.
"""

from __future__ import annotations

from collections import namedtuple

from stackwatch.checks import CHECKS
from stackwatch.checks.core import CheckOutcome, Context, Metric, Range, Result, ScalarContext, Summary, evaluate
from stackwatch.checks.options import Options, option
from stackwatch.checks.probe import ProbeError, ProbingCheck
from stackwatch.checks.units import parse_size
from stackwatch.states import State
from stackwatch.timespec import format_duration, parse_duration

Hit = namedtuple("Hit", "timestamp path text")
# oldest: the first time read (None: none); untimed: unreachable lines whose time cannot be read
FileScan = namedtuple("FileScan", "path unreachable connected oldest untimed", defaults=(0,))
Started = namedtuple("Started", "pid args timestamp")
AmqpFacts = namedtuple("AmqpFacts", "now files unreadable process")     # process: Started, None (no match) or ()

UNREACHABLE = ("AMQP server", "unreachable")
CONNECTED = ("Connected to AMQP server", "Reconnected to AMQP server")
DEFAULT_FILES = "/var/log/nova/*.log,/var/log/cinder/*.log,/var/log/neutron/*.log,/var/log/glance/*.log"


def _size(text) -> None:
    parse_size(text, "B")


def _timezone(name: str):
    """The tzinfo of `name` ("UTC", "local", an IANA name); None for UTC (the Clock's default)."""
    if name.upper() == "UTC":
        return None
    if name == "local":
        from datetime import datetime
        return datetime.now().astimezone().tzinfo
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r} (use UTC, local or an IANA name such as Europe/Paris)") from None


class AmqpLogOptions(Options):
    """Options of the amqp-log check."""

    files: str = option(DEFAULT_FILES, flags=("-f", "--files"), metavar="GLOBS",
                        help="the log files, shell globs, comma-separated")
    window: str = option("15m", flags=("--window",), parse=parse_duration, metavar="DURATION",
                         help="how far back an unreachable line counts")
    warning: str | None = option(None, flags=("-w", "--warning"), parse=Range.parse, metavar="RANGE",
                                 help="WARNING range for the unreachable lines in the window")
    critical: str | None = option("0", flags=("-c", "--critical"), parse=Range.parse, metavar="RANGE",
                                  help="CRITICAL range for the unreachable lines in the window")
    process: str | None = option(None, flags=("-a", "--process"), metavar="STRING",
                                 help="check that the process whose arguments contain STRING logged "
                                      "'Connected to AMQP server' after it started")
    connect_within: str = option("2m", flags=("--connect-within",), parse=parse_duration, metavar="DURATION",
                                 help="how long after its start the process may take to connect")
    max_bytes: str = option("4MB", flags=("--max-bytes",), parse=_size, metavar="SIZE",
                            help="read at most this much of the end of each file")
    timezone: str = option("UTC", flags=("--timezone",), parse=_timezone, metavar="ZONE",
                           help="zone of log times written without one (UTC, local, Europe/Paris...)")


def scan(path: str, text: str, clock) -> FileScan:
    """The unreachable and connected lines in `text` (one file's lines), with their times (pure). Only the
    lines holding "AMQP server" are parsed, found by searching the text, so a large tail costs little."""
    from stackwatch.rsyslog.oslo import parse_line

    oldest, start = None, 0
    for _ in range(100):  # the first line with a time (a tail may start inside a traceback)
        end = text.find("\n", start)
        parsed = parse_line(text[start:] if end < 0 else text[start:end], clock)
        if parsed is not None and parsed.timestamp is not None:
            oldest = parsed.timestamp
            break
        if end < 0:
            break
        start = end + 1
    unreachable, connected, untimed = [], [], 0
    pos = text.find("AMQP server")
    while pos >= 0:
        begin = text.rfind("\n", 0, pos) + 1
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end
        line = text[begin:end]
        parsed = parse_line(line, clock)
        if parsed is not None and parsed.timestamp is not None:
            if all(word in parsed.text for word in UNREACHABLE):
                unreachable.append(Hit(parsed.timestamp, path, parsed.text))
            elif any(word in parsed.text for word in CONNECTED):
                connected.append(parsed.timestamp)
        elif all(word in line for word in UNREACHABLE):
            untimed += 1  # not oslo.log's format: how recent it is cannot be told
        pos = text.find("AMQP server", end)
    return FileScan(path, tuple(unreachable), tuple(connected), oldest, untimed)


class _Unreachable(ScalarContext):
    def __init__(self, warning, critical, window: float, newest: Hit | None):
        super().__init__("unreachable", warning, critical)
        self.window, self.newest = window, newest

    def describe(self, metric: Metric) -> str:
        text = f"{metric.value} 'AMQP server ... is unreachable' lines in the last {format_duration(self.window)}"
        if self.newest is not None:
            text += f", newest in {self.newest.path}: {self.newest.text[:160]}"
        return text


class _Judged(Context):
    """A verdict reached in `judge` (the metric's value is the State)."""

    def __init__(self, name, words: str):
        super().__init__(name)
        self.words = words

    def evaluate(self, metric: Metric) -> Result:
        return Result(State(metric.value), None, None, self.words)


def judge(facts: AmqpFacts, options: AmqpLogOptions) -> CheckOutcome:
    """The outcome for the scanned files at `facts.now` (pure)."""
    if not facts.files and not facts.unreadable:
        return CheckOutcome(State.UNKNOWN, f"no log file matches {options.files}")
    window = parse_duration(options.window)
    since = facts.now - window
    recent = sorted((h for f in facts.files for h in f.unreachable if h.timestamp >= since), key=lambda h: h.timestamp)
    metrics = [Metric("unreachable", len(recent), min=0)]
    contexts = [_Unreachable(options.warning, options.critical, window, recent[-1] if recent else None)]
    for i, (path, reason) in enumerate(facts.unreadable):
        metrics.append(Metric(f"unreadable{i}", int(State.UNKNOWN), context=f"unreadable{i}"))
        contexts.append(_Judged(f"unreadable{i}", f"cannot read {path}: {reason}"))
    for i, f in enumerate(f for f in facts.files if f.untimed):
        metrics.append(Metric(f"untimed{i}", int(State.UNKNOWN), context=f"untimed{i}"))
        contexts.append(_Judged(f"untimed{i}", f"{f.untimed} 'unreachable' lines in {f.path} without a readable "
                                               f"time (not oslo.log's format?)"))
    if options.process is not None:
        state, words = _judge_start(facts, options)
        metrics.append(Metric("connected", int(state), context="connected"))
        contexts.append(_Judged("connected", words))
    outcome = evaluate(metrics, contexts, Summary())
    files = len(facts.files)
    summary = outcome.summary + f" ({files} file{'' if files == 1 else 's'} read)"
    return CheckOutcome(outcome.state, summary, outcome.perfdata, outcome.details)


def _judge_start(facts: AmqpFacts, options: AmqpLogOptions) -> tuple[State, str]:
    started = facts.process
    if started is None:
        return State.UNKNOWN, f"no process matches {options.process!r}"
    when = format_duration(max(0.0, facts.now - started.timestamp))
    who = f"{options.process} (pid {started.pid}, started {when} ago)"
    connected = [t for f in facts.files for t in f.connected if t >= started.timestamp - 1]
    if connected:
        return State.OK, f"{who} connected to AMQP {format_duration(max(0.0, min(connected) - started.timestamp))} after its start"
    if facts.now - started.timestamp <= parse_duration(options.connect_within):
        return State.OK, f"{who}: not connected to AMQP yet, within {options.connect_within} of its start"
    oldest = [f.oldest for f in facts.files if f.oldest is not None]
    if not oldest or min(oldest) > started.timestamp:
        return State.OK, f"{who}: its start is older than the log lines read, not judged"
    return State.CRITICAL, f"{who} has logged no 'Connected to AMQP server' line since its start"


def process_start(pattern: str, exclude: frozenset[int], proc: str = "/proc") -> Started | None:
    """The oldest process whose arguments contain `pattern` (a service's parent) and when it started."""
    import os

    from stackwatch.checks import linux

    found = [p for p in linux.processes(proc, exclude=exclude) if pattern in p.args]
    if not found:
        return None
    with open(f"{proc}/stat") as fh:
        boot = next(float(line.split()[1]) for line in fh if line.startswith("btime "))
    ticks = os.sysconf("SC_CLK_TCK")
    best = None
    for p in found:
        try:
            with open(f"{proc}/{p.pid}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        started = boot + int(fields[19]) / ticks  # field 22 of stat; fields[0] is field 3 (state)
        if best is None or started < best.timestamp:
            best = Started(p.pid, p.args, started)
    return best


@CHECKS.register("amqp-log")
class AmqpLogCheck(ProbingCheck):
    """Recent 'AMQP server ... is unreachable' lines in log files; 'Connected to AMQP server' after a restart."""

    name = "amqp-log"
    label = "AMQP LOG"
    Options = AmqpLogOptions

    def probe(self) -> AmqpFacts:
        import glob
        import os
        import time

        from stackwatch.checks.logtail import rotated, tail_text
        from stackwatch.rsyslog.timestamps import Clock

        opts = self.options
        now = time.time()
        window = parse_duration(opts.window)
        max_bytes = parse_size(opts.max_bytes, "B")
        clock = Clock(_timezone(opts.timezone))
        paths = sorted({p for g in opts.files.split(",") if g.strip() for p in glob.glob(os.path.expanduser(g.strip()))
                        if os.path.isfile(p)})
        files, unreadable = [], []
        for path in paths:
            try:
                text, whole = tail_text(path, max_bytes)
                result = scan(path, text, clock)
                if whole and (result.oldest is None or result.oldest > now - window):
                    older = rotated(path)  # the window reaches past this file's start
                    if older is not None:
                        before = scan(older, tail_text(older, max_bytes)[0], clock)
                        result = FileScan(path, before.unreachable + result.unreachable,
                                          before.connected + result.connected,
                                          before.oldest if before.oldest is not None else result.oldest,
                                          before.untimed + result.untimed)
            except OSError as exc:
                unreadable.append((path, exc.strerror or str(exc)))
                continue
            files.append(result)
        process = None
        if opts.process is not None:
            exclude = frozenset({os.getpid()}) if self.standalone else frozenset()
            try:
                process = process_start(opts.process, exclude)
            except (OSError, StopIteration, ValueError, IndexError) as exc:
                raise ProbeError(f"cannot read the start time of {opts.process!r}: {exc}") from None
        return AmqpFacts(now, files, unreadable, process)

    def evaluate(self, facts: AmqpFacts) -> CheckOutcome:
        return judge(facts, self.options)
