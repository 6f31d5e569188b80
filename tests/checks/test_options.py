"""Check options (`checks.options.Options`, or a frozen dataclass as third-party plugins may still
declare them): argparse arguments built from them, and config mappings checked against them."""

from __future__ import annotations

import argparse
import copy
import pickle
from dataclasses import dataclass, field
from typing import ClassVar

import pytest

from stackwatch.checks import get_check
from stackwatch.checks.core import Range
from stackwatch.checks.options import (MISSING, Options, add_arguments, fields, option, options_from_mapping,
                                       options_from_namespace, replace)


class DemoOptions(Options):
    path: str = option("/", flags=("-p", "--path"), help="where")
    warning: str | None = option(None, flags=("-w",), parse=Range.parse, help="w 20%")
    count: int = option(3, help="how many")
    ratio: float = 0.5
    fast: bool = option(False, flags=("-f", "--fast"))
    mode: str = option("up", choices=("up", "down"))


@dataclass(frozen=True)
class DemoDataclass:
    path: str = field(default="/", metadata={"flags": ("-p", "--path"), "help": "where"})
    warning: str | None = field(default=None, metadata={"flags": ("-w",), "parse": Range.parse, "help": "w 20%"})
    count: int = field(default=3, metadata={"help": "how many"})
    ratio: float = 0.5
    fast: bool = field(default=False, metadata={"flags": ("-f", "--fast")})
    mode: str = field(default="up", metadata={"choices": ("up", "down")})


class Raising(argparse.ArgumentParser):
    def error(self, message):
        raise ValueError(message)


@pytest.fixture(params=[DemoOptions, DemoDataclass], ids=["Options", "dataclass"])
def demo(request):
    return request.param


def parse(argv, cls=DemoOptions):
    parser = Raising()
    add_arguments(parser, cls)
    return options_from_namespace(cls, parser.parse_args(argv))


def test_arguments_from_options(demo):
    assert parse([], demo) == demo()
    assert parse(["-p", "/var", "-w", "@5:9", "--count", "7", "--ratio", "2", "-f", "--mode", "down"], demo) == \
        demo("/var", "@5:9", 7, 2.0, True, "down")


@pytest.mark.parametrize("argv, message", [
    (["-w", "abc"], "argument -w: not a Nagios range: 'abc'"),
    (["--count", "x"], "argument --count: not an integer: 'x'"),
    (["--mode", "sideways"], "invalid choice: 'sideways'"),
])
def test_bad_arguments_are_reported_with_the_reason(argv, message, demo):
    with pytest.raises(ValueError, match=message):
        parse(argv, demo)


def test_help_survives_percent_signs(demo):
    parser = argparse.ArgumentParser()
    add_arguments(parser, demo)
    assert "w 20%" in parser.format_help()


def test_mapping_builds_options_and_coerces_yaml_numbers(demo):
    options, problems = options_from_mapping(demo, {"path": "/srv", "warning": 10, "count": 2, "ratio": 1})
    assert problems == []
    assert options == demo(path="/srv", warning="10", count=2, ratio=1.0)
    assert options_from_mapping(demo, None) == (demo(), [])


def test_mapping_reports_every_problem(demo):
    options, problems = options_from_mapping(demo, {
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


def test_mapping_must_be_a_mapping(demo):
    assert options_from_mapping(demo, ["a"]) == (
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


def test_options_construct_like_a_frozen_dataclass():
    assert DemoOptions() == DemoOptions("/", None, 3, 0.5, False, "up")
    assert DemoOptions("/srv", mode="down") == DemoOptions(path="/srv", mode="down")
    assert DemoOptions("/srv") != DemoOptions() and DemoOptions() != DemoDataclass()
    assert DemoOptions.path == "/" and DemoOptions.ratio == 0.5  # class attributes are the defaults
    assert repr(DemoOptions(count=4)) == \
        "DemoOptions(path='/', warning=None, count=4, ratio=0.5, fast=False, mode='up')"
    with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
        DemoOptions(bogus=1)
    with pytest.raises(TypeError, match="multiple values for argument 'path'"):
        DemoOptions("/", path="/srv")
    with pytest.raises(TypeError, match="takes 6 positional arguments but 7 were given"):
        DemoOptions("/", None, 3, 0.5, False, "up", "extra")


def test_options_are_frozen_hashable_and_picklable():
    options = DemoOptions(count=4)
    with pytest.raises(AttributeError):
        options.count = 5
    with pytest.raises(AttributeError):
        del options.count
    with pytest.raises(AttributeError):
        options.extra = 1
    assert hash(options) == hash(DemoOptions(count=4)) and len({options, DemoOptions(count=4)}) == 1
    assert pickle.loads(pickle.dumps(options)) == options
    assert copy.copy(options) == options and copy.deepcopy(options) == options
    assert replace(options, mode="down") == DemoOptions(count=4, mode="down") and options.mode == "up"


def test_fields_in_declaration_order_with_metadata():
    listed = fields(DemoOptions)
    assert [f.name for f in listed] == ["path", "warning", "count", "ratio", "fast", "mode"]
    assert [f.name for f in fields(DemoDataclass)] == [f.name for f in listed]
    path, warning = listed[0], listed[1]
    assert (path.type, path.default, path.metadata) == ("str", "/", {"flags": ("-p", "--path"), "help": "where"})
    assert warning.type == "str | None" and warning.metadata["parse"] == Range.parse
    assert listed[3].metadata == {} and not listed[3].required
    with pytest.raises(TypeError):
        fields(dict)


class Base(Options):
    path: str = "/"
    size: int = option(1, help="how big")


class Derived(Base):
    size: int = 5  # redeclared: keeps its place, takes the new default
    name: str = option(flags=("-n",))  # no default: required
    registry: ClassVar[dict] = {}


def test_inheritance_and_required_options():
    assert [f.name for f in fields(Derived)] == ["path", "size", "name"]
    assert Derived(name="x") == Derived("/", 5, "x")
    with pytest.raises(TypeError, match="missing required argument 'name'"):
        Derived()
    assert fields(Derived)[2].default is MISSING and fields(Derived)[2].required
    assert options_from_mapping(Derived, {}) == (None, ["name: required"])
    assert options_from_mapping(Derived, {"name": "x", "size": 2}) == (Derived("/", 2, "x"), [])
    assert Derived.registry == {} and Base(size=2).size == 2


def test_post_init_may_validate():
    class Checked(Options):
        low: int = 1
        high: int = 2

        def __post_init__(self):
            if self.low > self.high:
                raise ValueError("low must not exceed high")

    assert Checked(2, 3).high == 3
    assert options_from_mapping(Checked, {"low": 5}) == (None, ["options: low must not exceed high"])
