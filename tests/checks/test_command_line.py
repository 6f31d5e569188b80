"""The hand-written command-line parser of `stackwatch-check` against argparse, which it replaces on the
runner's path: the same values, the same error messages and the same --help text, for every built-in
check's options; and where it deliberately reads more (a value starting with "-")."""

from __future__ import annotations

import argparse

import pytest

from stackwatch.checks import get_check, names
from stackwatch.checks.command_line import CommandLine, HelpRequested, UsageError
from stackwatch.checks.options import Options, add_arguments, option
from stackwatch.checks.runner import _timeout

VERBOSE_HELP = "add a line per result that is not OK (-vv: per result)"
TIMEOUT_HELP = "UNKNOWN when the check takes longer (default: 10)"


class Raising(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)

    def print_help(self, file=None):
        raise HelpRequested()


def both(options_cls, prog="stackwatch-check demo", description="", width=78):
    """(argparse's parser, ours) for `options_cls` plus the runner's -v and -t, as the runner builds them."""
    reference = Raising(prog=prog, description=description,
                        formatter_class=lambda prog: argparse.HelpFormatter(prog, width=width))
    add_arguments(reference, options_cls)
    reference.add_argument("-v", "--verbose", action="count", default=0, help=VERBOSE_HELP)
    reference.add_argument("-t", "--timeout", type=_reference_timeout, default=10.0, metavar="SECONDS",
                           help=TIMEOUT_HELP)
    ours = CommandLine(prog, description)
    ours.add_options(options_cls)
    ours.add("-v", "--verbose", dest="verbose", action="count", default=0, help=VERBOSE_HELP)
    ours.add("-t", "--timeout", dest="timeout", convert=_timeout, default=10.0, metavar="SECONDS", help=TIMEOUT_HELP)
    return reference, ours


def _reference_timeout(text):
    try:
        return _timeout(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def outcome(parse, argv):
    try:
        result = parse(argv)
    except UsageError as exc:
        return "error", str(exc)
    except HelpRequested:
        return "help", None
    return "values", dict(vars(result)) if isinstance(result, argparse.Namespace) else result


class DemoOptions(Options):
    path: str = option("/", flags=("-p", "--path"), help="where")
    warning: str | None = option(None, flags=("-w", "--warning"), help="w 20%")
    count: int = option(3, flags=("--count",), help="how many")
    ratio: float = 0.5
    fast: bool = option(False, flags=("-f", "--fast"))
    slow: bool = option(True, flags=("--no-slow",))
    mode: str = option("up", choices=("up", "down"))
    name: str = option(flags=("-n", "--name"), help="required")


DEMO_ARGVS = [
    ["-n", "x"], ["-n", "x", "-p", "/var", "-w", "20%", "--count", "7", "--ratio", "2", "-f", "--mode", "down"],
    ["-nx", "-p/var", "-w=20%", "--count=7", "--ratio=2.5", "--no-slow"], ["--name", "x", "--pa", "/srv"],
    ["-n", "x", "-w", ""], ["-n", "x", "-w", "1", "-w", "2"], ["-n", "x", "-vv"], ["-n", "x", "-v", "--verbose"],
    ["-n", "x", "-fv"], ["-n", "x", "-vf", "-t", "2.5"], ["-n", "x", "-vw5"], ["-n", "x", "-w", "-5"],
    [], ["-n"], ["-n", "x", "-w"], ["-n", "x", "-w", "-f"], ["-n", "x", "--bogus"], ["-n", "x", "--bogus", "y", "z"],
    ["-n", "x", "stray"], ["-n", "x", "--", "-w", "5"], ["-n", "x", "--count", "many"], ["-n", "x", "--ratio", "nan%"],
    ["-n", "x", "--mode", "sideways"], ["-n", "x", "-t", "0"], ["-n", "x", "-t", "soon"], ["-n", "x", "--fast=yes"],
    ["-n", "x", "-fz"], ["-n", "x", "-x"], ["-n", "x", "--no"], ["-h"], ["-n", "x", "--help"], ["--he"], ["-vh"],
    ["-n", "x", "-w", "5", "--bogus", "-h"],
]


@pytest.mark.parametrize("argv", DEMO_ARGVS, ids=lambda a: " ".join(a) or "(none)")
def test_reads_what_argparse_reads(argv):
    reference, ours = both(DemoOptions)
    assert outcome(ours.parse, argv) == outcome(reference.parse_args, argv)


def test_ambiguous_prefix_names_the_candidates():
    reference, ours = both(DemoOptions)
    expected = ("error", "ambiguous option: --n could match --no-slow, --name")
    assert outcome(ours.parse, ["--n", "x"]) == outcome(reference.parse_args, ["--n", "x"]) == expected


@pytest.mark.parametrize("argv, value", [(["-w", "-10:10"], "-10:10"), (["-w", "-5%"], "-5%"),
                                         (["-w", "-.5"], "-.5")])
def test_a_value_may_start_with_a_minus_and_a_digit(argv, value):
    """argparse refused "-w -10:10" (only "-w=-10:10"); a Nagios range may well start so."""
    _, ours = both(DemoOptions)
    assert ours.parse(["-n", "x", *argv])["warning"] == value


def builtin_argvs(name):
    plugin = get_check(name)
    argvs = [[], ["-vv"], ["-t", "3"], ["--bogus"], ["-t"], ["-v", "stray"]]
    for field in plugin.Options.__options__:
        flags = field.metadata.get("flags") or ("--" + field.name.replace("_", "-"),)
        if str(field.type) == "bool":
            argvs += [[flags[0]], [flags[-1], "-v"]]
        else:
            argvs += [[flags[0], "1"], [f"{flags[-1]}=20%"], [flags[0], "lots"], [flags[-1]], [flags[0], "@5:10"],
                      [flags[0], "", "-v"]]
    required = [f for f in plugin.Options.__options__ if f.required]
    return plugin.Options, required, argvs


@pytest.mark.parametrize("name", names())
def test_every_builtin_check_reads_as_with_argparse(name):
    options_cls, required, argvs = builtin_argvs(name)
    reference, ours = both(options_cls, f"stackwatch-check {name}")
    assert not required  # the built-ins have defaults for every option; DemoOptions covers a required one
    for argv in argvs:
        assert outcome(ours.parse, argv) == outcome(reference.parse_args, argv), argv


@pytest.mark.parametrize("width", [40, 60, 78, 120])
@pytest.mark.parametrize("name", names())
def test_help_is_laid_out_as_argparse_lays_it_out(name, width):
    plugin = get_check(name)
    description = (plugin.__doc__ or "").strip()
    reference, ours = both(plugin.Options, f"stackwatch-check {name}", description, width)
    assert ours.format_help(width) == reference.format_help()


def test_help_of_required_options_and_choices():
    reference, ours = both(DemoOptions, width=60)
    text = ours.format_help(60)
    assert text == reference.format_help()
    assert text.startswith("usage: stackwatch-check demo [-h] [-p PATH] [-w WARNING]")
    assert "-n NAME" in text and "[-n NAME]" not in text and "{up,down}" in text and "w 20%" in text


def test_a_flag_taken_twice_is_refused():
    command = CommandLine("demo")
    command.add("-w", "--warning", dest="warning")
    for flags in (("-w",), ("-h",), ("--help",), ("warning",)):
        with pytest.raises(ValueError, match="conflicts with another or is not a flag"):
            command.add(*flags, dest="other")
