"""Check options: each check declares a frozen `Options` class, read either from the command line
(`stackwatch-check NAME --warning ...`) or from a plain mapping in config.yaml.

A check's options subclass `Options` and declare one annotated attribute per option, in order:

    class DiskOptions(Options):
        path: str = option("/", flags=("-p", "--path"), help="a path on the filesystem to check")
        warning: str = option("20%", flags=("-w", "--warning"), parse=FreeThreshold.parse)
        per_cpu: bool = False                      # a plain default is an option without metadata

`option()` takes the default and:
  flags    the command-line flags, e.g. ("-w", "--warning") (default: --field-name)
  help     the help text
  metavar  the placeholder in --help (default: the upper-cased name)
  choices  the allowed values
  parse    a function that raises ValueError on a bad value (thresholds are validated by parsing
           them; the option keeps the text)

Types are the annotations: str, int, float, bool, optionally "| None". The instances are frozen
(assigning raises AttributeError), compare and hash by value and construct positionally or by
keyword, like a frozen dataclass. This replaces stdlib dataclasses on purpose: importing
`dataclasses` (and `inspect` with it) costs `stackwatch-check` several milliseconds per run.
Options written as frozen dataclasses (third-party plugins) are still understood by `fields()`
and the functions below. `stackwatch-check` reads them from its command line with
`checks.command_line` (argparse costs it milliseconds); `add_arguments` adds them to an argparse parser.
"""

from __future__ import annotations


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()  # no default: the option is required
_KINDS = {"str": str, "int": int, "float": float, "bool": bool}


class Option:
    """One declared option: name, annotation (`type`), default (MISSING when required) and metadata
    (flags, help, metavar, choices, parse), as `fields()` lists them."""

    __slots__ = ("name", "type", "default", "metadata")

    def __init__(self, default=MISSING, metadata: dict | None = None, name: str = "", type: object = None):
        self.default, self.metadata, self.name, self.type = default, metadata or {}, name, type

    @property
    def required(self) -> bool:
        return self.default is MISSING

    def __repr__(self) -> str:
        return f"Option(name={self.name!r}, type={self.type!r}, default={self.default!r}, metadata={self.metadata!r})"


def option(default=MISSING, *, flags: tuple[str, ...] | None = None, help: str | None = None,
           metavar: str | None = None, choices: tuple | None = None, parse=None) -> object:
    """Declare an option of an `Options` class (see the module docstring)."""
    metadata = {}
    for key, value in (("flags", flags), ("help", help), ("metavar", metavar), ("choices", choices),
                       ("parse", parse)):
        if value is not None:
            metadata[key] = tuple(value) if key in ("flags", "choices") else value
    return Option(default, metadata)


class Options:
    """Base class of a check's options: subclasses declare them (see the module docstring)."""

    __options__: tuple[Option, ...] = ()
    __match_args__: tuple[str, ...] = ()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        declared = {o.name: o for o in cls.__options__}  # inherited, in order
        for name, annotation in cls.__dict__.get("__annotations__", {}).items():
            if name.startswith("__") or str(annotation).startswith(("ClassVar", "typing.ClassVar")):
                continue
            value = cls.__dict__.get(name, MISSING)
            if isinstance(value, Option):
                opt = Option(value.default, dict(value.metadata), name, annotation)
            else:
                opt = Option(value, {}, name, annotation)
            declared[name] = opt  # one redeclared in a subclass keeps its place, as in a dataclass
            if opt.default is MISSING:
                if name in cls.__dict__:
                    delattr(cls, name)
            else:
                setattr(cls, name, opt.default)  # the class attribute is the default, as in a dataclass
        cls.__options__ = tuple(declared.values())
        cls.__match_args__ = tuple(declared)

    def __init__(self, *args, **kwargs):
        cls = type(self)
        names = cls.__match_args__
        if len(args) > len(names):
            raise TypeError(f"{cls.__name__}() takes {len(names)} positional arguments but {len(args)} were given")
        values = dict(zip(names, args))
        for name, value in kwargs.items():
            if name in values:
                raise TypeError(f"{cls.__name__}() got multiple values for argument {name!r}")
            if name not in names:
                raise TypeError(f"{cls.__name__}() got an unexpected keyword argument {name!r}")
            values[name] = value
        for opt in cls.__options__:
            if opt.name not in values:
                if opt.default is MISSING:
                    raise TypeError(f"{cls.__name__}() missing required argument {opt.name!r}")
                values[opt.name] = opt.default
        object.__setattr__(self, "__dict__", values)
        post_init = getattr(self, "__post_init__", None)
        if post_init is not None:
            post_init()  # may validate and raise ValueError, as in a dataclass

    def _values(self) -> tuple:
        return tuple(self.__dict__[o.name] for o in self.__options__)

    def __setattr__(self, name, value):
        raise AttributeError(f"cannot assign to field {name!r}: {type(self).__name__} is frozen")

    def __delattr__(self, name):
        raise AttributeError(f"cannot delete field {name!r}: {type(self).__name__} is frozen")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __reduce__(self):
        return self.__class__, self._values()

    def __repr__(self) -> str:
        inner = ", ".join(f"{o.name}={self.__dict__[o.name]!r}" for o in self.__options__)
        return f"{type(self).__qualname__}({inner})"


def fields(options_cls) -> tuple[Option, ...]:
    """The options of `options_cls` (an `Options` subclass or a frozen dataclass), in order."""
    declared = getattr(options_cls, "__options__", None)
    if declared is not None:
        return declared
    if hasattr(options_cls, "__dataclass_fields__"):
        import dataclasses

        out = []
        for f in dataclasses.fields(options_cls):
            default = f.default
            if default is dataclasses.MISSING:
                default = MISSING if f.default_factory is dataclasses.MISSING else f.default_factory()
            out.append(Option(default, dict(f.metadata), f.name, f.type))
        return tuple(out)
    raise TypeError(f"{options_cls!r} is neither an Options subclass nor a dataclass")


def replace(options, **changes):
    """A copy of `options` with `changes` (as dataclasses.replace)."""
    values = {f.name: getattr(options, f.name) for f in fields(type(options))}
    values.update(changes)
    return type(options)(**values)


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
        if name not in mapping and field.default is MISSING:
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
