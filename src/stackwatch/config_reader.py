"""Reading untrusted YAML data into typed values while collecting every problem with its dotted path.

Pure: stdlib only. `config.py` builds the sections with it; later sections (logs, notifications,
receivers) reuse the same reader, so every problem in a config.yaml is reported at once.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from stackwatch.timespec import parse_duration

_MISSING = object()


@dataclass(frozen=True, slots=True)
class SecretRef:
    """Where a secret comes from (an environment variable or a file); never the secret in config."""

    env: str | None = None
    file: str | None = None

    def describe(self) -> str:
        return f"env {self.env}" if self.env else f"file {self.file}"


class Reader:
    """Collects problems as "dotted.path: message (hint)" while reading sections."""

    def __init__(self, environ: Mapping[str, str] | None = None, base_dir: Path | None = None):
        self.problems: list[str] = []
        self.environ = os.environ if environ is None else environ
        self.base_dir = base_dir or Path.cwd()

    def problem(self, path: str, message: str, hint: str = "") -> None:
        self.problems.append(f"{path or '<top>'}: {message}" + (f" ({hint})" if hint else ""))

    def mapping(self, raw: Any, path: str, allowed: tuple[str, ...] | None = None) -> dict:
        """`raw` as a dict ({} for None); unknown keys are reported with the closest known one."""
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(path, f"expected a mapping, got {type(raw).__name__}")
            return {}
        if allowed is not None:
            for key in raw:
                if key not in allowed:
                    close = difflib.get_close_matches(str(key), allowed, n=1)
                    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(allowed)}"
                    self.problem(_join(path, key), "unknown key", hint)
        return raw

    def list(self, raw: Any, path: str) -> list:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem(path, f"expected a list, got {type(raw).__name__}")
            return []
        return raw

    def str(self, m: dict, key: str, path: str, default: Any = _MISSING) -> Any:
        value = m.get(key, _MISSING)
        if value is _MISSING or value is None:
            if default is _MISSING:
                self.problem(_join(path, key), "required")
                return ""
            return default
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.problem(_join(path, key), f"expected a string, got {type(value).__name__}")
            return default if default is not _MISSING else ""
        return str(value)

    def str_list(self, m: dict, key: str, path: str) -> tuple[str, ...]:
        out = []
        for i, item in enumerate(self.list(m.get(key), _join(path, key))):
            if isinstance(item, (str, int)) and not isinstance(item, bool):
                out.append(str(item))
            else:
                self.problem(f"{_join(path, key)}[{i}]", f"expected a string, got {type(item).__name__}")
        return tuple(out)

    def number(self, m: dict, key: str, path: str, default: Any = _MISSING, minimum: float | None = None):
        value = m.get(key, default)
        if value is _MISSING:
            self.problem(_join(path, key), "required")
            return 0
        if value is None and default is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(_join(path, key), f"expected a number, got {value!r}")
            return default if default is not _MISSING else 0
        if minimum is not None and value < minimum:
            self.problem(_join(path, key), f"must be at least {minimum}, got {value}")
        return value

    def bool(self, m: dict, key: str, path: str, default: bool) -> bool:
        value = m.get(key, default)
        if not isinstance(value, bool):
            self.problem(_join(path, key), f"expected true or false, got {value!r}")
            return default
        return value

    def duration(self, m: dict, key: str, path: str, default: Any = _MISSING, allow_none: bool = False):
        value = m.get(key, default)
        if value is _MISSING:
            self.problem(_join(path, key), "required", "a duration such as 30s, 5m, 2h, 90d")
            return 0.0
        if value is None and allow_none:
            return None
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problem(_join(path, key), f"bad duration {value!r}", "use e.g. 30s, 5m, 1h30m, 90d")
            del exc
            return parse_duration(default) if isinstance(default, (str, int, float)) else 0.0

    def choice(self, m: dict, key: str, path: str, choices: tuple[str, ...], default: Any = _MISSING) -> str:
        value = self.str(m, key, path, default)
        if value not in choices:
            self.problem(_join(path, key), f"{value!r} is not one of {', '.join(choices)}")
            return choices[0]
        return value

    def secret(self, m: dict, key: str, path: str, required: bool = True) -> str | None:
        """Resolve `key: {env: NAME}` or `key: {file: PATH}`; an inline value is refused."""
        raw = m.get(key)
        where = _join(path, key)
        if raw is None:
            if required:
                self.problem(where, "required", "give {env: VARIABLE} or {file: /path/to/secret}")
            return None
        if not isinstance(raw, dict):
            self.problem(where, "secrets are referenced, never written in config.yaml",
                         "give {env: VARIABLE} or {file: /path/to/secret}")
            return None
        ref_map = self.mapping(raw, where, ("env", "file"))
        if ("env" in ref_map) == ("file" in ref_map):
            self.problem(where, "give exactly one of env or file")
            return None
        if "env" in ref_map:
            name = str(ref_map["env"])
            value = self.environ.get(name)
            if not value:
                self.problem(f"{where}.env", f"environment variable {name} is unset or empty",
                             f"export {name}=... before starting stackwatch")
                return None
            return value
        file_path = self.base_dir / str(ref_map["file"])
        try:
            value = file_path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            self.problem(f"{where}.file", f"cannot read {file_path}: {exc.strerror}")
            return None
        if not value:
            self.problem(f"{where}.file", f"{file_path} is empty")
            return None
        return value


def _join(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)
