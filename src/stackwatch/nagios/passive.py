"""Passive mode: stackwatch's own check results handed to Nagios through its external command file.

Each result becomes `[<ts>] PROCESS_SERVICE_CHECK_RESULT;<host>;<service>;<code>;<output|perfdata>`, the
service being the stackwatch check name (as `stackwatch nagios-config --passive` names the services; the
cloud-wide checks' results come under host `openstack`, which it defines as a virtual host), and each
host that stackwatch checks is reported UP at most once per `host_interval` with PROCESS_HOST_CHECK_RESULT.
The command file is Nagios's FIFO: it is opened O_WRONLY|O_NONBLOCK for each write, so a Nagios that is
stopped, not reading or behind never blocks a check. Such a result is dropped, counted
(`stackwatch_nagios_passive_results_total{outcome="dropped"}`) and logged once until writes work again.
Each line is written with one write() under PIPE_BUF bytes, which a pipe keeps whole.
"""

from __future__ import annotations

import errno
import logging
import os
import threading

from stackwatch.model import CheckResult, Kind, Sample, SeriesKey

log = logging.getLogger(__name__)

PIPE_BUF = 4096  # POSIX's minimum, Linux's value: writes up to this size to a pipe are atomic
_REASONS = {errno.ENXIO: "Nagios is not reading the command file",
            errno.ENOENT: "the command file does not exist (is Nagios running with check_external_commands=1?)",
            errno.EAGAIN: "the command file's pipe is full (Nagios is behind)",
            errno.EPIPE: "Nagios closed the command file", errno.EACCES: "no permission to write the command file"}


def _clean(text: str) -> str:
    """One line for Nagios: line breaks as the `\\n` escape Nagios 4 turns into long output."""
    return text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def service_result_line(result: CheckResult, style: tuple[str, str] | None = None) -> str:
    """The external command for `result`; `style` is the plugin's (label, template), so the output reads as
    `stackwatch-check` prints it through NRPE ("DISK OK - ..."); without it the check name is the label."""
    head = f"[{int(result.timestamp)}] PROCESS_SERVICE_CHECK_RESULT;{result.host};{result.check};{int(result.state)};"
    if style is None:
        output = result.nagios_line()
    else:
        label, template = style
        output = template.format(label=label, state=result.state.name, summary=result.summary)
        if result.perfdata:
            output += " | " + " ".join(str(p) for p in result.perfdata)
    return _fit(head, _clean(output))


def host_result_line(host: str, timestamp: float, code: int = 0, output: str = "UP - stackwatch checks this host") -> str:
    return _fit(f"[{int(timestamp)}] PROCESS_HOST_CHECK_RESULT;{host};{code};", _clean(output))


def _fit(head: str, output: str) -> str:
    room = PIPE_BUF - 1 - len(head.encode())
    data = output.encode()
    if len(data) > room:
        output = data[:room - 3].decode(errors="ignore").rstrip("\\") + "..."
    return head + output + "\n"


class CommandFile:
    """Writes external commands to Nagios's command file; never blocks, never raises."""

    def __init__(self, path: str, host_results: bool = True, host_interval: float = 60.0,
                 styles: dict[str, tuple[str, str]] | None = None):
        self.path, self.host_results, self.host_interval = path, host_results, host_interval
        self.styles = styles or {}
        self.sent = 0
        self.dropped = 0
        self._host_sent: dict[str, float] = {}
        self._failing: str | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config) -> "CommandFile | None":
        nagios = getattr(config, "nagios", None)
        if nagios is None or nagios.passive is None:
            return None
        from stackwatch.checks import get_check

        styles = {}
        for spec in config.checks + config.cloud_checks:  # cloud_checks: under host `openstack` (or their host:)
            plugin = get_check(spec.type)
            styles[spec.name] = (plugin.label or plugin.name.upper() or spec.type.upper(), plugin.template)
        procs = get_check("procs")
        for role in config.inventory.roles.values():  # the process checks of every host, as plan.py names them
            for process in role.processes:
                styles.setdefault(f"proc-{process}", (procs.label or "PROCS", procs.template))
        p = nagios.passive
        return cls(p.command_file, p.host_results, p.host_interval, styles)

    def submit(self, result: CheckResult) -> bool:
        """Hand one result to Nagios (and its host's liveness when due); False when it was dropped."""
        ok = True
        if self.host_results and self._host_due(result.host, result.timestamp):
            ok = self._write(host_result_line(result.host, result.timestamp))
            if not ok:
                with self._lock:
                    self._host_sent.pop(result.host, None)  # try again with the next result
        return self._write(service_result_line(result, self.styles.get(result.check))) and ok

    def _host_due(self, host: str, now: float) -> bool:
        with self._lock:
            last = self._host_sent.get(host)
            if last is not None and now - last < self.host_interval:
                return False
            self._host_sent[host] = now
            return True

    def _write(self, line: str) -> bool:
        data = line.encode()
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK | os.O_APPEND | os.O_CLOEXEC)
            try:
                written = os.write(fd, data)
            finally:
                os.close(fd)
            if written != len(data):  # only a regular file on a full disk could do this
                raise OSError(errno.EIO, f"short write ({written} of {len(data)} bytes)")
        except OSError as exc:
            self._dropped(exc)
            return False
        with self._lock:
            self.sent += 1
            recovered, self._failing = self._failing, None
            dropped = self.dropped
        if recovered:
            log.warning("nagios passive: writing to %s again (%d result(s) dropped so far)", self.path, dropped)
        return True

    def _dropped(self, exc: OSError) -> None:
        reason = _REASONS.get(exc.errno, exc.strerror or str(exc))
        with self._lock:
            self.dropped += 1
            first = self._failing is None
            self._failing = reason
        if first:
            log.warning("nagios passive: cannot write to %s: %s; results are dropped and counted until it works",
                        self.path, reason)

    def samples(self, now: float) -> list[Sample]:
        """The sent/dropped counters as samples for the trend store."""
        with self._lock:
            counts = (("sent", self.sent), ("dropped", self.dropped))
        return [Sample(SeriesKey.of("stackwatch_nagios_passive_results_total", {"outcome": outcome}), now,
                       float(count), Kind.COUNTER, "Check results handed to Nagios's command file, or dropped")
                for outcome, count in counts]
