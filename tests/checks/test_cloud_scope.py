"""config.yaml's `checks.cloud`: the cloud's checks, run once and shown under their own host; and the shipped
config's commented examples of the OpenStack and infrastructure checks, which must be valid once uncommented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from stackwatch.config import ConfigError, build_config, load_config
from tests.conftest import minimal_raw

ROOT = Path(__file__).resolve().parents[2]


def test_cloud_checks_run_once_under_their_host(tmp_path):
    raw = minimal_raw(tmp_path, checks={"cloud": [
        {"type": "os-compute-services", "interval": "30s", "options": {"critical": "0", "binary": "nova-compute"}},
        {"type": "rabbitmq", "name": "broker", "host": "rabbit-1", "options": {"url": "http://10.0.0.5:15672"}}]})
    config = build_config(raw, tmp_path / "config.yaml", environ={})
    cloud = {s.name: s for s in config.cloud_checks}
    assert not [s for s in config.checks if s.type in ("os-compute-services", "rabbitmq")]  # not per host
    assert cloud["os-compute-services"].hosts == ("openstack",) and cloud["os-compute-services"].interval == 30
    assert cloud["os-compute-services"].options.binary == "nova-compute"
    assert cloud["broker"].hosts == ("rabbit-1",) and cloud["broker"].options.url == "http://10.0.0.5:15672"


def test_openstack_checks_take_the_openstack_sections_cloud(tmp_path):
    raw = minimal_raw(tmp_path, openstack={"cloud": "prod", "region": "RegionTwo"}, checks={"cloud": [
        {"type": "os-instances"}, {"type": "os-endpoints", "options": {"cloud": "other"}}, {"type": "backup"}]})
    config = build_config(raw, tmp_path / "config.yaml", environ={})
    by_type = {s.type: s.options for s in config.cloud_checks}
    assert (by_type["os-instances"].cloud, by_type["os-instances"].region) == ("prod", "RegionTwo")
    assert (by_type["os-endpoints"].cloud, by_type["os-endpoints"].region) == ("other", "RegionTwo")
    assert not hasattr(by_type["backup"], "cloud")


def test_cloud_check_problems_name_their_path(tmp_path):
    raw = minimal_raw(tmp_path, checks={"cloud": [
        {"type": "os-endpoints", "options": {"interface": "private", "warning": "x"}},
        {"type": "os-nosuch"}, {"type": "backup", "hosts": ["a"]}, {"type": "backup"}]})
    with pytest.raises(ConfigError) as info:
        build_config(raw, tmp_path / "config.yaml", environ={})
    text = str(info.value)
    assert "checks.cloud[0].options.interface: 'private' is not allowed (one of: public, internal, admin)" in text
    assert "checks.cloud[0].options.warning: not a Nagios range: 'x'" in text
    assert "checks.cloud[1].type: unknown check 'os-nosuch'" in text
    assert "checks.cloud[2].hosts: unknown key (did you mean 'host'?)" in text
    assert "checks.cloud[3].name: duplicate check name 'backup' on host 'openstack'" in text


def test_shipped_config_runs_no_cloud_check_on_a_bare_machine():
    config = load_config(ROOT / "config.yaml", environ={})
    assert config.cloud_checks == ()
    assert not [s for s in config.checks if s.type.startswith("os-") or s.type in
                ("rabbitmq", "amqp-log", "console-log", "backup")]


def _uncommented_checks_section(text: str) -> str:
    """config.yaml with the commented check entries of its checks section uncommented."""
    out, inside = [], False
    for line in text.splitlines():
        if line.startswith("checks:"):
            inside = True
        elif inside and line and not line.startswith((" ", "#")):
            inside = False
        m = re.match(r"^(\s*)# (.*)$", line)
        if inside and m and (m.group(2).lstrip().startswith(("- {", "cloud:")) or m.group(2).startswith("      ")):
            line = m.group(1) + m.group(2)
        out.append(line)
    return "\n".join(out) + "\n"


def test_shipped_commented_examples_are_valid(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(_uncommented_checks_section((ROOT / "config.yaml").read_text()))
    config = load_config(path, environ={})
    by_type = {s.type: s for s in config.checks + config.cloud_checks}
    for name in ("os-compute-services", "os-volume-services", "os-network-agents", "os-endpoints", "os-capacity",
                 "os-instances", "rabbitmq"):
        assert name in by_type, name
    assert by_type["os-endpoints"].hosts == ("openstack",) and by_type["rabbitmq"].hosts == ("rabbit-1",)
    assert by_type["backup"].options.pattern == "*.sql.gz" and by_type["amqp-log"].options.window == "15m"
    assert by_type["console-log"].options.critical == "4GB"


def test_serve_runs_a_cloud_check_under_its_host(make_config, tmp_path):
    """In the running platform: checks listed under checks.cloud run once, their results stored under host
    "openstack" or the entry's own host (a console-log check on a missing directory: UNKNOWN with the reason)."""
    import time

    from stackwatch.runtime import Runtime
    from stackwatch.states import State

    (tmp_path / "dumps").mkdir()
    (tmp_path / "dumps" / "db.sql").write_text("dump")
    cfg = make_config(collectors=[], checks={"cloud": [
        {"type": "backup", "interval": "1s", "options": {"directory": str(tmp_path / "dumps")}},
        {"type": "console-log", "interval": "1s", "host": "compute-1",
         "options": {"directory": str(tmp_path / "nope")}}]})
    rt = Runtime.build(cfg)
    rt.start()
    try:
        deadline = time.time() + 20
        while time.time() < deadline and not (rt.store.checks.current("openstack") and
                                              rt.store.checks.current("compute-1")):
            time.sleep(0.2)
        (backup,) = rt.store.checks.current("openstack")
        assert backup.check == "backup" and backup.state is State.OK and "db.sql" in backup.summary
        (console,) = rt.store.checks.current("compute-1")
        assert console.state is State.UNKNOWN and console.summary.startswith("cannot list ")
        assert not [c for c in rt.store.checks.current("h1") if c.check in ("backup", "console-log")]
    finally:
        rt.stop()
