"""Label matchers in Alertmanager's syntax: `severity="critical"`, `host!="h1"`, `severity=~"critical|warning"`,
`role!~"compute.*"`, alone or as a set `{alertname="HostDown", region="r1"}`. Regexes are anchored at both
ends, as Alertmanager's; a missing label matches as the empty string.

Pure: stdlib only. A bad matcher raises `MatcherError` whose message says what is wrong and how to write it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

OPS = ("=~", "!~", "!=", "=")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HINT = 'write name="value", name!="value", name=~"regex" or name!~"regex", e.g. severity=~"critical|warning"'


class MatcherError(ValueError):
    """A matcher that cannot be parsed; the message is meant for the user."""


@dataclass(frozen=True, slots=True)
class Matcher:
    name: str
    op: str
    value: str
    _regex: re.Pattern | None = field(default=None, compare=False, repr=False)

    @classmethod
    def make(cls, name: str, op: str, value: str) -> "Matcher":
        if op not in OPS:
            raise MatcherError(f"unknown operator {op!r} in matcher for {name!r}; {_HINT}")
        if not _NAME.fullmatch(name):
            raise MatcherError(f"bad label name {name!r}: use letters, digits and _ (not first a digit)")
        regex = None
        if op in ("=~", "!~"):
            try:
                re.compile(value)  # errors with positions in the user's own text
                regex = re.compile(f"(?:{value})")
            except re.error as exc:
                raise MatcherError(f"bad regular expression {value!r} for {name!r}: {exc}") from None
        return cls(name, op, value, regex)

    def matches(self, labels: Mapping[str, str]) -> bool:
        v = labels.get(self.name, "")
        if self.op == "=":
            return v == self.value
        if self.op == "!=":
            return v != self.value
        hit = self._regex.fullmatch(v) is not None  # type: ignore[union-attr]
        return hit if self.op == "=~" else not hit

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.name}{self.op}"{escaped}"'


def parse_matcher(text: str) -> Matcher:
    """One matcher such as `severity=~"critical|warning"` (the value may be unquoted: `host=h1`)."""
    if not isinstance(text, str):
        raise MatcherError(f"a matcher is a string, got {type(text).__name__}; {_HINT}")
    s = text.strip()
    m = re.match(r"\s*([^=!~\s]*)\s*(=~|!~|!=|=)\s*", s)
    if m is None or not m.group(1):
        raise MatcherError(f"cannot parse matcher {text!r}: no label name and operator; {_HINT}")
    name, op, rest = m.group(1), m.group(2), s[m.end():]
    if rest[:1] in ("=", "~", "!"):
        raise MatcherError(f"cannot parse matcher {text!r}: unexpected {rest[0]!r} after the operator {op!r}; {_HINT}")
    if rest.startswith('"'):
        value, end = _unquote(rest, text)
        if rest[end:].strip():
            raise MatcherError(f"cannot parse matcher {text!r}: unexpected {rest[end:].strip()!r} after the "
                               f"quoted value; {_HINT}")
    else:
        if '"' in rest:
            raise MatcherError(f"cannot parse matcher {text!r}: unbalanced quote; {_HINT}")
        value = rest.strip()
    return Matcher.make(name, op, value)


def _unquote(rest: str, text: str) -> tuple[str, int]:
    out, i = [], 1
    while i < len(rest):
        c = rest[i]
        if c == "\\" and i + 1 < len(rest):
            out.append({"n": "\n", "t": "\t"}.get(rest[i + 1], rest[i + 1]))
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise MatcherError(f"cannot parse matcher {text!r}: the quoted value is not closed; {_HINT}")


def parse_matchers(items: str | Sequence[str]) -> tuple[Matcher, ...]:
    """A list of matchers, or one string: a single matcher or a set `{a="1", b=~"2|3"}` (commas split)."""
    if isinstance(items, str):
        s = items.strip()
        if s.startswith("{"):
            if not s.endswith("}"):
                raise MatcherError(f"cannot parse matchers {items!r}: missing closing brace; {_HINT}")
            return tuple(parse_matcher(p) for p in _split_commas(s[1:-1], items) if p.strip())
        return (parse_matcher(s),)
    return tuple(parse_matcher(i) for i in items)


def _split_commas(body: str, text: str) -> list[str]:
    parts, cur, quoted, i = [], [], False, 0
    while i < len(body):
        c = body[i]
        if quoted and c == "\\" and i + 1 < len(body):
            cur.append(body[i:i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c == "," and not quoted:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    if quoted:
        raise MatcherError(f"cannot parse matchers {text!r}: unbalanced quote; {_HINT}")
    parts.append("".join(cur))
    return parts


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
