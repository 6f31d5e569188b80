"""The parsed log record (`LogRecord`), syslog facility/severity names and the parser's size limits.

Pure: stdlib only. Every other module of the parser produces or consumes these records.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

#: A record stops growing at this much text (sum of its raw lines, newlines included) ...
MAX_RECORD_CHARS = 64 * 1024
#: ... or at this many lines; it is then emitted with ``truncated=True``.
MAX_RECORD_LINES = 1000
#: One input line longer than this (characters; bytes for bytes input) is cut to this length and its
#: record flagged ``truncated``.
MAX_LINE_CHARS = 64 * 1024

#: RFC 5424 table 1, by code (rsyslog spells 4 "auth", 10 "authpriv").
FACILITY_NAMES: tuple[str, ...] = (
    "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news", "uucp", "cron", "authpriv",
    "ftp", "ntp", "security", "console", "solaris-cron",
    "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
)
#: RFC 5424 table 2, by code.
SEVERITY_NAMES: tuple[str, ...] = ("emerg", "alert", "crit", "err", "warning", "notice", "info", "debug")

#: oslo.log level -> syslog severity (oslo_log.handlers SYSLOG_MAP; unknown levels are debug).
LEVEL_SEVERITY: dict[str, int] = {
    "CRITICAL": 2, "FATAL": 2, "ERROR": 3, "TRACE": 3, "WARNING": 4, "WARN": 4, "AUDIT": 5,
    "INFO": 6, "DEBUG": 7,
}


def facility_name(code: int | None) -> str | None:
    return FACILITY_NAMES[code] if code is not None and 0 <= code < len(FACILITY_NAMES) else None


def severity_name(code: int | None) -> str | None:
    return SEVERITY_NAMES[code] if code is not None and 0 <= code < len(SEVERITY_NAMES) else None


@dataclass(frozen=True, slots=True, init=False)
class LogRecord:
    """One log event: a line, or a line with its traceback / continuation lines folded in.

    ``raw`` is the exact input text of every line of the record joined by "\\n" (undecodable bytes
    shown as backslash escapes), so nothing read is ever lost. ``parsed`` is False when no known
    format matched; the record then carries the line as ``message`` and nothing else.
    """

    timestamp: float | None          # epoch seconds; None when the input carries no time
    host: str
    service: str                     # "nova", "neutron", ... or "" when unknown
    program: str                     # "nova-compute", "sshd", ... or ""
    pid: int | None
    level: str | None                # oslo.log level as written (INFO, AUDIT, TRACE...) or None
    logger: str | None
    request_id: str | None
    global_request_id: str | None
    user_id: str | None
    project_id: str | None
    instance_uuid: str | None
    message: str
    traceback: str | None
    raw: str
    facility: int | None = None
    severity: int | None = None
    parsed: bool = True
    truncated: bool = False
    function: str | None = None      # DEBUG suffix: funcName
    location: str | None = None      # DEBUG suffix: "/path/file.py:123"
    source: str = ""                 # the file it came from, when known

    # One record is built per log line, so its constructor is on the parser's hot path. The frozen
    # dataclass __init__ calls object.__setattr__ per field; setting the slots through their
    # descriptors (bound below) does the same in half the time. test_record checks the signature.
    def __init__(self, timestamp: float | None, host: str, service: str, program: str, pid: int | None,
                 level: str | None, logger: str | None, request_id: str | None, global_request_id: str | None,
                 user_id: str | None, project_id: str | None, instance_uuid: str | None, message: str,
                 traceback: str | None, raw: str, facility: int | None = None, severity: int | None = None,
                 parsed: bool = True, truncated: bool = False, function: str | None = None,
                 location: str | None = None, source: str = ""):
        _timestamp(self, timestamp)
        _host(self, host)
        _service(self, service)
        _program(self, program)
        _pid(self, pid)
        _level(self, level)
        _logger(self, logger)
        _request_id(self, request_id)
        _global_request_id(self, global_request_id)
        _user_id(self, user_id)
        _project_id(self, project_id)
        _instance_uuid(self, instance_uuid)
        _message(self, message)
        _traceback(self, traceback)
        _raw(self, raw)
        _facility(self, facility)
        _severity(self, severity)
        _parsed(self, parsed)
        _truncated(self, truncated)
        _function(self, function)
        _location(self, location)
        _source(self, source)

    @property
    def facility_name(self) -> str | None:
        return facility_name(self.facility)

    @property
    def severity_name(self) -> str | None:
        return severity_name(self.severity)


(_timestamp, _host, _service, _program, _pid, _level, _logger, _request_id, _global_request_id, _user_id,
 _project_id, _instance_uuid, _message, _traceback, _raw, _facility, _severity, _parsed, _truncated, _function,
 _location, _source) = (getattr(LogRecord, f.name).__set__ for f in fields(LogRecord))
