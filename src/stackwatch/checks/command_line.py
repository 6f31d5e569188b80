"""The command line of one check run: `argv` read into option values, and the `--help` text.

A small parser in place of argparse on `stackwatch-check`'s path: argparse pulls in `re`, `gettext`
and `locale`, several milliseconds of every NRPE-started check. It reads what argparse read for our
options: "-w 20%", "-w20%", "-w=20%", "--warning 20%", "--warning=20%", a unique prefix of a long flag
("--warn"), flags without a value clustered ("-vv"), the last of a repeated option winning. A value may
start with "-" when a digit or "." follows ("-w -5", "-w -10:10"). Its errors are argparse's words
("argument -w/--warning: expected one argument", "unrecognized arguments: --bogus"), raised as
UsageError; "-h"/"--help" raises HelpRequested. The help text is laid out as argparse lays it out.

Pure: stdlib only (`textwrap` is imported only to print help).
"""

from __future__ import annotations

from stackwatch.checks.options import MISSING, _from_text, _kind, fields



class UsageError(ValueError):
    """The command line is wrong; the message is one line saying how."""


class HelpRequested(Exception):
    """-h or --help was given."""


class Flag:
    """One option of the command line: its flags, where its value goes (`dest`) and how it is read.

    action: "store" takes a value through `convert` (a function raising ValueError with the reason),
    "store_true"/"store_false" take none, "count" counts its occurrences.
    """

    __slots__ = ("flags", "dest", "action", "default", "required", "convert", "choices", "help", "metavar")

    def __init__(self, flags, dest, action="store", default=None, required=False, convert=None, choices=None,
                 help=None, metavar=None):
        self.flags, self.dest, self.action, self.default = tuple(flags), dest, action, default
        self.required, self.convert, self.choices, self.help = required, convert, choices, help
        self.metavar = metavar or dest.upper()

    @property
    def takes_value(self) -> bool:
        return self.action == "store"

    @property
    def names(self) -> str:
        return "/".join(self.flags)

    def read(self, text: str):
        """The value of `text` for this option; UsageError saying why it is not one."""
        try:
            value = text if self.convert is None else self.convert(text)
        except ValueError as exc:
            raise UsageError(f"argument {self.names}: {exc}") from None
        if self.choices is not None and value not in self.choices:
            allowed = ", ".join(repr(c) for c in self.choices)
            raise UsageError(f"argument {self.names}: invalid choice: {value!r} (choose from {allowed})")
        return value


class CommandLine:
    """The options of one program (`prog`) and their parsing; `-h/--help` is always one of them."""

    def __init__(self, prog: str, description: str = ""):
        self.prog, self.description = prog, description
        self.flags: list[Flag] = []
        self._by_flag: dict[str, Flag] = {"-h": _HELP, "--help": _HELP}

    def add(self, *flags: str, dest: str, **kwargs) -> Flag:
        """Add an option (keywords as `Flag`); ValueError when a flag is already taken."""
        flag = Flag(flags, dest, **kwargs)
        for name in flag.flags:
            if name in self._by_flag or not name.startswith("-") or name == "--":
                raise ValueError(f"{self.prog}: option {name} conflicts with another or is not a flag")
            self._by_flag[name] = flag
        self.flags.append(flag)
        return flag

    def add_options(self, options_cls) -> None:
        """One option per field of `options_cls` (an Options subclass or a frozen dataclass)."""
        for field in fields(options_cls):
            kind, _optional = _kind(field)
            meta = field.metadata
            help_text = meta.get("help")
            required = field.default is MISSING
            if help_text and not required and kind is not bool and field.default is not None:
                help_text += f" (default: {field.default})"
            flags = meta.get("flags") or ("--" + field.name.replace("_", "-"),)
            if kind is bool:
                action = "store_false" if field.default is True else "store_true"
                self.add(*flags, dest=field.name, action=action, default=field.default, help=help_text)
                continue
            choices = meta.get("choices")
            metavar = "{" + ",".join(choices) + "}" if choices else meta.get("metavar") or field.name.upper()
            self.add(*flags, dest=field.name, default=None if required else field.default, required=required,
                     convert=_converter(kind, meta.get("parse")), choices=choices, help=help_text, metavar=metavar)

    def parse(self, argv: list[str]) -> dict:
        """{dest: value} for every option, defaults included; UsageError or HelpRequested."""
        values = {f.dest: f.default for f in self.flags}
        seen, extras = set(), []
        args = list(argv)
        i = 0
        while i < len(args):
            arg = args[i]
            i += 1
            if arg == "--":
                extras += args[i - 1:]  # as argparse 3.11 words it: "unrecognized arguments: -- -w 5"
                break
            if not self._is_option(arg):
                extras.append(arg)
                continue
            flag, attached = self._lookup(arg)
            if flag is None:
                extras.append(arg)
                continue
            while True:
                if flag is _HELP:
                    raise HelpRequested()
                seen.add(flag.dest)
                if flag.takes_value:
                    if attached is None:
                        if i == len(args) or self._is_option(args[i]):
                            raise UsageError(f"argument {flag.names}: expected one argument")
                        attached = args[i]
                        i += 1
                    values[flag.dest] = flag.read(attached)
                    break
                if flag.action == "count":
                    values[flag.dest] = (values[flag.dest] or 0) + 1
                else:
                    values[flag.dest] = flag.action == "store_true"
                if attached is None:
                    break
                # "-vv", "-rv": the rest of a short cluster is more flags; "--fast=x" has no place for x
                nxt = "-" + attached[:1]
                if arg.startswith("--") or nxt not in self._by_flag:
                    raise UsageError(f"argument {flag.names}: ignored explicit argument {attached!r}")
                flag, attached = self._by_flag.get(nxt), attached[1:] or None
        missing = [f.names for f in self.flags if f.required and f.dest not in seen]
        if missing:
            raise UsageError(f"the following arguments are required: {', '.join(missing)}")
        if extras:
            raise UsageError(f"unrecognized arguments: {' '.join(extras)}")
        return values

    def _is_option(self, arg: str) -> bool:
        """Whether `arg` is meant as an option rather than a value (as argparse tells them apart)."""
        if len(arg) < 2 or arg[0] != "-":
            return False
        if arg in self._by_flag:
            return True
        return not (arg[1].isdigit() or arg[1] == ".") and " " not in arg

    def _lookup(self, arg: str) -> tuple[Flag | None, str | None]:
        """(the option `arg` names, a value attached to it); (None, arg) when it names none."""
        name, eq, value = arg.partition("=")
        if arg.startswith("--"):
            flag = self._by_flag.get(name)
            if flag is None:
                candidates = [f for f in self._by_flag if f.startswith(name) and f.startswith("--")]
                if len(candidates) > 1:
                    raise UsageError(f"ambiguous option: {name} could match {', '.join(candidates)}")
                if not candidates:
                    return None, arg
                flag = self._by_flag[candidates[0]]
            return flag, value if eq else None
        short = arg[:2]
        if arg in self._by_flag:
            return self._by_flag[arg], None
        if eq and name in self._by_flag:
            return self._by_flag[name], value
        flag = self._by_flag.get(short)
        if flag is None:
            return None, arg
        return flag, arg[2:]

    # --help, laid out as argparse's HelpFormatter lays it out

    def _invocation(self, flag: Flag | None) -> str:
        if not flag.takes_value:
            return ", ".join(flag.flags)
        return ", ".join(f"{name} {flag.metavar}" for name in flag.flags)

    def format_usage(self, width: int = 78) -> str:
        parts = ["[-h]"]
        for flag in self.flags:
            part = flag.flags[0] + (f" {flag.metavar}" if flag.takes_value else "")
            parts.append(part if flag.required else f"[{part}]")
        prefix = f"usage: {self.prog} "
        text_width = width
        if len(prefix) + len(" ".join(parts)) <= text_width:
            return prefix + " ".join(parts) + "\n"
        indent = " " * len(prefix) if len(prefix) - 1 <= 0.75 * text_width else " " * len("usage: ")
        lines, line = [], []
        for part in parts:
            if line and len(indent) + len(" ".join(line)) + 1 + len(part) > text_width:
                lines.append(" ".join(line))
                line = []
            line.append(part)
        lines.append(" ".join(line))
        if indent == " " * len(prefix):
            return prefix + ("\n" + indent).join(lines) + "\n"
        return prefix.rstrip() + "\n" + indent + ("\n" + indent).join(lines) + "\n"

    def format_help(self, width: int = 78) -> str:
        import textwrap

        out = [self.format_usage(width)]
        if self.description:
            out.append("\n" + textwrap.fill(" ".join(self.description.split()), width) + "\n")
        out.append("\noptions:\n")
        entries = [(self._invocation(f), f.help or "") for f in [_HELP, *self.flags]]
        help_position = min(max(len(inv) for inv, _ in entries) + 4, min(24, max(width - 20, 4)))
        help_width = max(width - help_position, 11)
        for invocation, help_text in entries:
            wrapped = textwrap.wrap(" ".join(help_text.split()), help_width) if help_text else []
            if not wrapped:
                out.append(f"  {invocation}\n")
                continue
            if len(invocation) <= help_position - 4:
                out.append(f"  {invocation:<{help_position - 2}}{wrapped[0]}\n")
                wrapped = wrapped[1:]
            else:
                out.append(f"  {invocation}\n")
            out.extend(f"{' ' * help_position}{line}\n" for line in wrapped)
        return "".join(out)


_HELP = Flag(("-h", "--help"), "help", action="help", help="show this help message and exit")


def _converter(kind: type, parse):
    def convert(text: str):
        value = _from_text(text, kind)
        if parse is not None:
            parse(value)
        return value
    return convert
