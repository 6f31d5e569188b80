"""Options dataclasses: argparse arguments built from them, and config mappings checked against them."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field

import pytest

from stackwatch.checks import get_check
from stackwatch.checks.core import Range
from stackwatch.checks.options import add_arguments, options_from_mapping, options_from_namespace


@dataclass(frozen=True)
class DemoOptions:
    path: str = field(default="/", metadata={"flags": ("-p", "--path"), "help": "where"})
    warning: str | None = field(default=None, metadata={"flags": ("-w",), "parse": Range.parse, "help": "w 20%"})
    count: int = field(default=3, metadata={"help": "how many"})
    ratio: float = 0.5
    fast: bool = field(default=False, metadata={"flags": ("-f", "--fast")})
    mode: str = field(default="up", metadata={"choices": ("up", "down")})


class Raising(argparse.ArgumentParser):
    def error(self, message):
        raise ValueError(message)


def parse(argv):
    parser = Raising()
    add_arguments(parser, DemoOptions)
    return options_from_namespace(DemoOptions, parser.parse_args(argv))


def test_arguments_from_dataclass():
    assert parse([]) == DemoOptions()
    assert parse(["-p", "/var", "-w", "@5:9", "--count", "7", "--ratio", "2", "-f", "--mode", "down"]) == \
        DemoOptions("/var", "@5:9", 7, 2.0, True, "down")


@pytest.mark.parametrize("argv, message", [
    (["-w", "abc"], "argument -w: not a Nagios range: 'abc'"),
    (["--count", "x"], "argument --count: not an integer: 'x'"),
    (["--mode", "sideways"], "invalid choice: 'sideways'"),
])
def test_bad_arguments_are_reported_with_the_reason(argv, message):
    with pytest.raises(ValueError, match=message):
        parse(argv)


def test_help_survives_percent_signs():
    parser = argparse.ArgumentParser()
    add_arguments(parser, DemoOptions)
    assert "w 20%" in parser.format_help()


def test_mapping_builds_options_and_coerces_yaml_numbers():
    options, problems = options_from_mapping(DemoOptions, {"path": "/srv", "warning": 10, "count": 2, "ratio": 1})
    assert problems == []
    assert options == DemoOptions(path="/srv", warning="10", count=2, ratio=1.0)
    assert options_from_mapping(DemoOptions, None) == (DemoOptions(), [])


def test_mapping_reports_every_problem():
    options, problems = options_from_mapping(DemoOptions, {
        "pth": "/", "warning": "lots", "count": "three", "fast": "yes", "mode": "sideways", "ratio": True,
        "bogus_key": 1})
    assert options is None
    assert problems == [
        "pth: unknown option (did you mean 'path'?)",
        "warning: not a Nagios range: 'lots' (use e.g. 10, 10:, ~:10, 10:20, @10:20)",
        "count: expected an integer, got 'three'",
        "fast: expected true or false, got 'yes'",
        "mode: 'sideways' is not allowed (one of: up, down)",
        "ratio: expected a number, got True",
        "bogus_key: unknown option (known: count, fast, mode, path, ratio, warning)",
    ]


def test_mapping_must_be_a_mapping():
    assert options_from_mapping(DemoOptions, ["a"]) == (
        None, ["options: expected a mapping of option names to values, got list"])


@pytest.mark.parametrize("check, mapping, problem", [
    ("disk", {"warning": "lots"}, "warning: not a free-space threshold: 'lots'"),
    ("disk", {"critical": "-5%"}, "critical: not a percentage: '-5%' (use e.g. 20%)"),
    ("disk", {"inode_warning": "x"}, "inode_warning: not a percentage"),
    ("load", {"warning": "1,2"}, "warning: not a load threshold: '1,2'"),
    ("procs", {"critical": "2:1"}, "critical: not a Nagios range: '2:1'"),
    ("interface", {"expect": "sideways"}, "expect: 'sideways' is not allowed (one of: up, down)"),
    ("cpu", {"sample": "forever"}, "sample: not a duration: 'forever'"),
    ("swap", {"no_swap": "maybe"}, "no_swap: 'maybe' is not allowed"),
])
def test_builtin_checks_validate_their_thresholds(check, mapping, problem):
    options, problems = options_from_mapping(get_check(check).Options, mapping)
    assert options is None
    assert len(problems) == 1 and problems[0].startswith(problem)


@pytest.mark.parametrize("check, mapping", [
    ("disk", {"path": "/", "warning": "20%", "critical": "500MB", "inode_warning": "10"}),
    ("load", {"warning": "15,10,5", "critical": 30, "per_cpu": True}),
    ("procs", {"process": "nova-compute", "critical": "1:", "warning": ""}),
    ("memory", {"warning": 90, "critical": "@95:100"}),
    ("interface", {"interface": "eth0,eth1", "expect": "up"}),
    ("cpu", {"sample": "250ms"}),
])
def test_builtin_checks_accept_config(check, mapping):
    plugin = get_check(check)
    options, problems = options_from_mapping(plugin.Options, mapping)
    assert problems == []
    plugin(options)  # the check accepts what validation let through
