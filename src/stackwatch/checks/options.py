"""Check options: each check declares a frozen `Options` dataclass, read either from the command
line (`stackwatch-check NAME --warning ...`) or from a plain mapping in config.yaml.

Every field has a default. Its `metadata` may carry:
  flags    the command-line flags, e.g. ("-w", "--warning") (default: --field-name)
  help     the help text
  choices  the allowed values
  parse    a function that raises ValueError on a bad value (thresholds are validated by parsing
           them; the field keeps the text)

Field types are written as annotations: str, int, float, bool, optionally "| None".
"""

from __future__ import annotations

from dataclasses import MISSING, fields

_KINDS = {"str": str, "int": int, "float": float, "bool": bool}


def _kind(field) -> tuple[type, bool]:
    """(base type, None allowed) of a field from its annotation (text or type)."""
    if isinstance(field.type, type) and field.type in _KINDS.values():
        return field.type, False
    words = [w.strip() for w in str(field.type).split("|")]
    optional = "None" in words
    words = [w for w in words if w != "None"]
    if len(words) != 1 or words[0] not in _KINDS:
        raise TypeError(f"option {field.name}: unsupported type {field.type!r} (use str, int, float or bool)")
    return _KINDS[words[0]], optional


def add_arguments(parser, options_cls) -> None:
    """Add one argparse option per field of `options_cls`."""
    for field in fields(options_cls):
        kind, _optional = _kind(field)
        meta = field.metadata
        flags = meta.get("flags") or ("--" + field.name.replace("_", "-"),)
        help_text = meta.get("help")
        kwargs = {"dest": field.name}
        if field.default is not MISSING:
            kwargs["default"] = field.default
            if help_text and kind is not bool and field.default is not None:
                help_text += f" (default: {field.default})"
        else:
            kwargs["required"] = True
        if help_text:
            kwargs["help"] = help_text.replace("%", "%%")  # argparse %-formats help
        if kind is bool:
            kwargs["action"] = "store_false" if field.default is True else "store_true"
        else:
            kwargs["type"] = _converter(field, kind)
            kwargs["metavar"] = meta.get("metavar") or field.name.upper()
            if "choices" in meta:
                kwargs["choices"] = meta["choices"]
                kwargs["metavar"] = "{" + ",".join(meta["choices"]) + "}"
        parser.add_argument(*flags, **kwargs)


def _converter(field, kind):
    parse = field.metadata.get("parse")

    def convert(text: str):
        from argparse import ArgumentTypeError

        try:
            value = _from_text(text, kind)
            if parse is not None:
                parse(value)
        except ValueError as exc:
            raise ArgumentTypeError(str(exc)) from None
        return value

    convert.__name__ = field.name
    return convert


def _from_text(text: str, kind: type):
    if kind is str:
        return text
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"not {'an integer' if kind is int else 'a number'}: {text!r}") from None


def options_from_namespace(options_cls, namespace):
    """The Options instance argparse parsed into `namespace`."""
    return options_cls(**{f.name: getattr(namespace, f.name) for f in fields(options_cls)})


def options_from_mapping(options_cls, mapping) -> tuple[object | None, list[str]]:
    """(options, []) built from a config.yaml mapping, or (None, problems): every unknown key and
    bad value, each as "key: message (hint)"."""
    if mapping is None:
        mapping = {}
    if not isinstance(mapping, dict):
        return None, [f"options: expected a mapping of option names to values, got {type(mapping).__name__}"]
    known = {f.name: f for f in fields(options_cls)}
    problems, values = [], {}
    for key, value in mapping.items():
        field = known.get(key)
        if field is None:
            problems.append(f"{key}: unknown option ({_suggest(str(key), sorted(known))})")
            continue
        try:
            values[key] = _from_config(field, value)
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
    for name, field in known.items():
        if name not in mapping and field.default is MISSING and field.default_factory is MISSING:
            problems.append(f"{name}: required")
    if problems:
        return None, problems
    try:
        return options_cls(**values), []
    except (TypeError, ValueError) as exc:
        return None, [f"options: {exc}"]


def _from_config(field, value):
    kind, optional = _kind(field)
    if value is None:
        if optional:
            return None
        raise ValueError(f"must not be empty (expected {_kind_name(kind)})")
    if kind is str and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # `warning: 10` in YAML is the threshold "10"
    elif kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ValueError(f"expected {_kind_name(kind)}, got {value!r}")
    choices = field.metadata.get("choices")
    if choices and value not in choices:
        raise ValueError(f"{value!r} is not allowed (one of: {', '.join(choices)})")
    parse = field.metadata.get("parse")
    if parse is not None:
        parse(value)
    return value


def _kind_name(kind: type) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}[kind]


def _suggest(key: str, names: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key.replace("-", "_"), names, n=1)
    if close:
        return f"did you mean {close[0]!r}?"
    return "known: " + ", ".join(names)
