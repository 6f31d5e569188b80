"""One oslo.log line -> its prefix fields and message text (NOTES.md section 1):

    <date> <time>[.<frac>] [<pid>] <LEVEL> <logger> [<context>] [instance: <uuid>] <message>[ <func> <path>:<lineno>]

The date and pid may be missing (syslog's `use_syslog` bodies, devstack's journald format starting at
the level); a loghub-style leading file-name column is skipped. The context bracket holds 0-2
request ids (`req-...` or `None`) then 0-6 identity fields (`-`, `None` or empty when missing);
`[-]` is no context. Lines that continue a record (TRACE lines, ERROR-style traceback lines) carry no
context bracket (`OsloLine.context` is None). This module reads single lines; folding them into
records is `assemble`'s job.

Pure: stdlib only.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from stackwatch.rsyslog.timestamps import Clock

LEVELS = ("DEBUG", "INFO", "WARNING", "WARN", "ERROR", "CRITICAL", "FATAL", "AUDIT", "TRACE")
_LEVEL_RE = "|".join(LEVELS)
PREFIX = _FULL = re.compile(
    r"((\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)(?:[.,](\d{1,9}))?(Z|[+-]\d\d:?\d\d)?) +"
    r"(?:(\d{1,10}) +)?(" + _LEVEL_RE + r") +([^\s\[\]]+)(?: |$)"
    r"(?:\[(?!instance: )([^\]]*)\](?: |$))?(?:\[instance: ([^\]]*)\](?: |$))?")
_BARE = re.compile(r"(" + _LEVEL_RE + r") +([A-Za-z_][\w.\-]*)(?: |$)")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_INSTANCE = "[instance: "
_CONTEXT_CACHE_MAX = 4096
_NONE_VALUES = frozenset(("", "-", "None"))


class OsloLine(NamedTuple):
    """The parts of one oslo.log line (`parse_line` gives None when it is not one)."""

    stamp: str | None          # the time as written: continuation lines repeat it exactly
    timestamp: float | None
    pid: int | None
    level: str
    logger: str
    context: str | None        # inside of the context bracket; None when there is none
    instance: str | None
    text: str                  # the message part of this line
    lead: str | None           # a skipped leading column (loghub's file name)
    bare: bool                 # no date: the line starts at the level


_make = tuple.__new__          # builds an OsloLine without the NamedTuple constructor's overhead


def is_context(inner: str) -> bool:
    """Is the inside of a `[...]` after the logger a request context (rather than message text)?"""
    if inner.startswith(("req-", "- ", "None ")) or inner in ("-", "", "None"):
        return True
    return False


def parse_line(line: str, clock: Clock) -> OsloLine | None:
    """Parse one physical line; None when it has no oslo.log prefix."""
    m = _FULL.match(line)
    lead = None
    if m is None:
        sp = line.find(" ")
        if 0 < sp < 256 and line[sp + 1:sp + 2].isdigit():
            m = _FULL.match(line, sp + 1)        # loghub: "<file name> 2017-05-16 00:00:00.008 ..."
            if m is not None:
                lead = line[:sp]
        if m is None:
            return _parse_bare(line)
    stamp, second, frac, zone, pid, level, logger, context, instance = m.groups()
    timestamp = clock.seconds.get(second) if zone is None else None
    if timestamp is not None:
        if frac:
            timestamp += float("0." + frac)
    else:
        timestamp = clock.iso(second, frac, zone)
    if context is None or context.startswith("req-") or is_context(context):
        text = line[m.end():]
        if instance is not None:
            instance = instance.strip() or None
    else:                                        # "[Errno 111] ..." is message text, not a context
        context, instance, text = _rest(line, m.end(7) + 1)
    return _make(OsloLine, (stamp, timestamp, int(pid) if pid else None, level, logger, context, instance,
                            text, lead, False))


def _parse_bare(line: str) -> OsloLine | None:
    if not line[:1].isupper():
        if not line.startswith("\x1b"):
            return None
        line = _ANSI.sub("", line)
    m = _BARE.match(line)
    if m is None:
        return None
    level, logger = m.groups()
    context, instance, text = _rest(line, m.end())
    if context is None and level not in ("ERROR", "TRACE"):
        return None                              # "INFO something" is prose, not a log prefix
    return _make(OsloLine, (None, None, None, level, logger, context, instance, text, None, True))


def _rest(line: str, pos: int) -> tuple[str | None, str | None, str]:
    """After the logger: the optional context bracket, optional `[instance: X]`, then the message."""
    context = instance = None
    if line.startswith("[", pos) and not line.startswith(_INSTANCE, pos):
        end = line.find("]", pos)
        if end > 0 and is_context(line[pos + 1:end]):
            context = line[pos + 1:end]
            pos = end + 2 if line.startswith(" ", end + 1) else end + 1
    if line.startswith(_INSTANCE, pos):
        end = line.find("]", pos)
        if end > 0:
            instance = line[pos + len(_INSTANCE):end].strip() or None
            pos = end + 2 if line.startswith(" ", end + 1) else end + 1
    return context, instance, line[pos:]


_context_cache: dict[str, tuple[str | None, str | None, str | None, str | None]] = {}


def parse_context(inner: str | None) -> tuple[str | None, str | None, str | None, str | None]:
    """Context bracket inside -> (global_request_id, request_id, user_id, project_id)."""
    if inner is None:
        return None, None, None, None
    hit = _context_cache.get(inner)
    if hit is not None:
        return hit
    toks = inner.split(" ")
    glob = req = None
    if len(toks) > 1 and toks[1].startswith("req-") and (toks[0].startswith("req-") or toks[0] in _NONE_VALUES):
        glob, req, ident = toks[0], toks[1], toks[2:]           # Zed+: [global local identity...]
    elif toks[0].startswith("req-"):
        req, ident = toks[0], toks[1:]
    else:
        ident = toks[1:] if toks[0] == "None" and len(toks) > 1 else toks
    user = ident[0] if ident and ident[0] not in _NONE_VALUES else None
    project = ident[1] if len(ident) > 1 and ident[1] not in _NONE_VALUES else None
    result = (None if glob in _NONE_VALUES else glob, req, user, project)
    if len(_context_cache) >= _CONTEXT_CACHE_MAX:
        _context_cache.clear()
    _context_cache[inner] = result
    return result


def split_debug_suffix(text: str) -> tuple[str, str | None, str | None]:
    """DEBUG lines end with ` <funcName> <pathname>:<lineno>`: -> (text, function, "path:lineno")."""
    head, _, tail = text.rpartition(" ")
    path, colon, lineno = tail.rpartition(":")
    if not (colon and lineno.isdigit() and path.endswith((".py", ".pyc", ".pyo")) and "/" in path):
        return text, None, None
    rest, _, func = head.rpartition(" ")
    if not func or "\n" in func:
        return text, None, None
    return rest, func, tail
