"""The rabbitmq check: RabbitMQ through its management HTTP API.

It judges, for the queues whose names match --queues (shell patterns, comma-separated; --exclude drops
some): the depth of each queue (-w/-c, Nagios ranges on the messages in one queue), the queues holding
messages with no consumer (the guide's unconsumed notification queues: --no-consumer-warning/-critical
on their count), the unacknowledged messages in all of them (--unacked-warning/-critical); and for the
broker: every node's memory and disk alarms, network partitions and running flag (any is CRITICAL), and
the connection count (--connections-warning/-critical).

The judgement (`judge`) is pure; the probe goes through `rabbitmq_api`.
"""

from __future__ import annotations

from fnmatch import fnmatchcase

from stackwatch.checks import CHECKS
from stackwatch.checks.core import CheckOutcome, Context, Metric, Range, Result, ScalarContext, Summary, evaluate
from stackwatch.checks.options import Options, option
from stackwatch.checks.probe import ProbingCheck
from stackwatch.states import Perfdata, State

TYPE_CHECKING = False
if TYPE_CHECKING:  # the adapter (and urllib with it) is imported only when the check runs
    from stackwatch.checks.rabbitmq_api import Broker, QueueRow


def _positive(value) -> None:
    if not float(value) > 0:
        raise ValueError(f"must be a positive number of seconds, got {value!r}")


class RabbitmqOptions(Options):
    """Options of the rabbitmq check."""

    url: str = option("http://127.0.0.1:15672", flags=("-u", "--url"), help="the management API's base URL")
    user: str | None = option(None, flags=("--user",), help="management API user (default: $STACKWATCH_RABBITMQ_USER)")
    password_env: str | None = option("STACKWATCH_RABBITMQ_PASSWORD", flags=("--password-env",), metavar="VARIABLE",
                                      help="the environment variable holding the password")
    password_file: str | None = option(None, flags=("--password-file",), metavar="PATH",
                                       help="a file holding the password (wins over --password-env)")
    vhost: str | None = option(None, flags=("--vhost",), help="only the queues of this vhost")
    queues: str = option("*", flags=("-q", "--queues"), metavar="PATTERNS",
                         help="queue name patterns, comma-separated (shell style: notifications.*)")
    exclude: str | None = option(None, flags=("-x", "--exclude"), metavar="PATTERNS",
                                 help="queue name patterns to leave out, comma-separated")
    warning: str | None = option("1000", flags=("-w", "--warning"), parse=Range.parse, metavar="RANGE",
                                 help="WARNING range for the messages in one queue")
    critical: str | None = option("10000", flags=("-c", "--critical"), parse=Range.parse, metavar="RANGE",
                                  help="CRITICAL range for the messages in one queue")
    no_consumer_warning: str | None = option(
        "0", flags=("--no-consumer-warning",), parse=Range.parse, metavar="RANGE",
        help="WARNING range for the number of queues with messages and no consumer")
    no_consumer_critical: str | None = option(
        None, flags=("--no-consumer-critical",), parse=Range.parse, metavar="RANGE",
        help="CRITICAL range for the number of queues with messages and no consumer")
    unacked_warning: str | None = option(None, flags=("--unacked-warning",), parse=Range.parse, metavar="RANGE",
                                         help="WARNING range for the unacknowledged messages of the queues")
    unacked_critical: str | None = option(None, flags=("--unacked-critical",), parse=Range.parse, metavar="RANGE",
                                          help="CRITICAL range for the unacknowledged messages of the queues")
    connections_warning: str | None = option(None, flags=("--connections-warning",), parse=Range.parse,
                                             metavar="RANGE", help="WARNING range for the connection count")
    connections_critical: str | None = option(None, flags=("--connections-critical",), parse=Range.parse,
                                              metavar="RANGE", help="CRITICAL range for the connection count")
    nodes: bool = option(True, flags=("--no-nodes",), help="skip the node alarms (a user without the monitoring tag)")
    api_timeout: float = option(8.0, flags=("--api-timeout",), metavar="SECONDS", parse=_positive,
                                help="UNKNOWN when one API request takes longer")


def _patterns(text: str | None) -> tuple[str, ...]:
    return tuple(p.strip() for p in (text or "").split(",") if p.strip())


def select(queues: list[QueueRow], include: tuple[str, ...], exclude: tuple[str, ...]) -> list[QueueRow]:
    return [q for q in queues if any(fnmatchcase(q.name, p) for p in include)
            and not any(fnmatchcase(q.name, p) for p in exclude)]


class _QueueDepth(ScalarContext):
    """Each matching queue's depth against -w/-c; perfdata is given once, as the deepest queue."""

    def describe(self, metric: Metric) -> str:
        return f"queue {metric.name} has {metric.value} messages"

    def performance(self, metric: Metric) -> None:
        return None


class _Listed(ScalarContext):
    """A count judged by ranges and worded with the names it counts."""

    def __init__(self, name, warning, critical, words, names=()):
        super().__init__(name, warning, critical)
        self.words, self.names = words, names

    def describe(self, metric: Metric) -> str:
        text = self.words.format(n=metric.value)
        if self.names:
            shown = ", ".join(self.names[:10]) + (f" and {len(self.names) - 10} more" if len(self.names) > 10 else "")
            text += f" ({shown})"
        return text


class _Alarm(Context):
    """A broker condition that is CRITICAL whenever it holds (value 1)."""

    def __init__(self, name, words):
        super().__init__(name)
        self.words = words

    def evaluate(self, metric: Metric) -> Result:
        if metric.value:
            return Result(State.CRITICAL, metric, None, self.words.format(node=metric.name.partition(":")[2]))
        return Result(State.OK, metric, None, "")


class _BrokerSummary(Summary):
    def __init__(self, totals: str):
        self.totals = totals

    def ok(self, results) -> str:
        return self.totals

    def problem(self, results) -> str:
        bad = [str(r) for r in results if r.state is not State.OK and str(r)]
        return "; ".join(bad) + " - " + self.totals


def judge(broker: Broker, options: RabbitmqOptions) -> CheckOutcome:
    """The outcome for what the management API reported (pure)."""
    queues = select(broker.queues, _patterns(options.queues), _patterns(options.exclude))
    depths = [(q, q.messages or 0) for q in queues]
    orphans = sorted(f"{q.name}={n}" for q, n in depths if n > 0 and q.consumers == 0)
    unacked = sum(q.unacked or 0 for q in queues)
    total = sum(n for _q, n in depths)
    no_stats = sum(1 for q in queues if q.messages is None)

    metrics = [Metric(q.name, n, context="depth") for q, n in depths]
    metrics += [Metric("no_consumer", len(orphans), min=0), Metric("unacked", unacked, min=0)]
    contexts = [_QueueDepth("depth", options.warning, options.critical),
                _Listed("no_consumer", options.no_consumer_warning, options.no_consumer_critical,
                        "{n} queues with messages and no consumer", orphans),
                _Listed("unacked", options.unacked_warning, options.unacked_critical, "{n} unacknowledged messages")]
    if broker.connections is not None:
        metrics.append(Metric("connections", broker.connections, min=0))
        contexts.append(_Listed("connections", options.connections_warning, options.connections_critical,
                                "{n} connections"))
    for node in broker.nodes:
        metrics += [Metric(f"down:{node.name}", int(not node.running), context="down"),
                    Metric(f"mem:{node.name}", int(node.mem_alarm), context="mem_alarm"),
                    Metric(f"disk:{node.name}", int(node.disk_alarm), context="disk_alarm"),
                    Metric(f"part:{node.name}", int(bool(node.partitions)), context="partitions")]
    contexts += [_Alarm("down", "node {node} is not running"),
                 _Alarm("mem_alarm", "memory alarm on {node}"),
                 _Alarm("disk_alarm", "disk free alarm on {node}"),
                 _Alarm("partitions", "network partition seen by {node}")]

    if not queues and _patterns(options.queues) != ("*",):  # named queues that do not exist: no OK
        return CheckOutcome(State.UNKNOWN, f"no queue matches {options.queues}"
                            + (f" (without {options.exclude})" if options.exclude else "")
                            + f" among the broker's {len(broker.queues)}")
    if queues and no_stats == len(queues):  # statistics off (or not yet gathered): depth cannot be judged
        return CheckOutcome(State.UNKNOWN, f"the management API gives no message counts for the {len(queues)} "
                                           f"matching queues (statistics disabled or not yet collected)")
    outcome = evaluate(metrics, contexts, _BrokerSummary(
        f"{len(queues)} queues, {total} messages, {unacked} unacknowledged, {len(orphans)} without consumer"
        + ("" if broker.connections is None else f", {broker.connections} connections")
        + (f", {len(broker.nodes)} node{'' if len(broker.nodes) == 1 else 's'}" if broker.nodes else "")
        + (f" ({no_stats} queues without statistics yet)" if no_stats else "")))
    deepest = max((n for _q, n in depths), default=0)
    perf = [Perfdata("messages", total, "", "", "", 0), Perfdata("max_depth", deepest, "", _r(options.warning),
                                                                  _r(options.critical), 0)]
    perf += [p for p in outcome.perfdata]
    for node in broker.nodes:
        if node.mem_used is not None:
            perf.append(Perfdata(f"mem_used_{node.name}", node.mem_used, "B", "", "", 0, node.mem_limit))
        if node.disk_free is not None:
            perf.append(Perfdata(f"disk_free_{node.name}", node.disk_free, "B", "", "", 0))
    return CheckOutcome(outcome.state, outcome.summary, perf, outcome.details)


def _r(text: str | None) -> str:
    return "" if not text else str(Range.parse(text))


@CHECKS.register("rabbitmq")
class RabbitmqCheck(ProbingCheck):
    """RabbitMQ queues, consumers, alarms, partitions and connections through the management API."""

    name = "rabbitmq"
    Options = RabbitmqOptions

    def probe(self) -> Broker:
        from stackwatch.checks.rabbitmq_api import ManagementApi, credentials, fetch

        opts = self.options
        user, password = credentials(opts.user, opts.password_env, opts.password_file)
        return fetch(ManagementApi(opts.url, user, password, opts.api_timeout), opts.vhost, nodes=opts.nodes)

    def evaluate(self, broker: Broker) -> CheckOutcome:
        return judge(broker, self.options)
