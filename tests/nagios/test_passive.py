"""Passive mode: results as external commands, a command file (FIFO) nobody reads never blocks a check
(counted, logged once), the Runtime hook, and a real nagios4 showing a submitted result in status.dat."""

from __future__ import annotations

import logging
import os
import threading
import time

import pytest

from stackwatch.model import CheckResult, Perfdata, State
from stackwatch.nagios import objects
from stackwatch.nagios.passive import PIPE_BUF, CommandFile, host_result_line, service_result_line

from .daemons import NAGIOS_SECTION, cloud_config, running_nagios, wait_for_status

RESULT = CheckResult("compute-1", "disk-root", State.CRITICAL, "free space: / 3 MB (3%)", 1700000000.7,
                     (Perfdata("/", 97, "MB", "80", "90", 0, 100),))


def test_service_line():
    assert service_result_line(RESULT) == (
        "[1700000000] PROCESS_SERVICE_CHECK_RESULT;compute-1;disk-root;2;"
        "DISK-ROOT CRITICAL - free space: / 3 MB (3%) | /=97MB;80;90;0;100\n")


def test_service_line_reads_as_the_plugin_prints_it():
    assert service_result_line(RESULT, ("DISK", "{label} {state} - {summary}")).endswith(
        ";2;DISK CRITICAL - free space: / 3 MB (3%) | /=97MB;80;90;0;100\n")
    procs = CheckResult("h", "proc-nova-compute", State.OK, "1 process with args 'nova-compute'", 1.0)
    assert service_result_line(procs, ("PROCS", "{label} {state}: {summary}")).endswith(
        ";0;PROCS OK: 1 process with args 'nova-compute'\n")


def test_host_line():
    assert host_result_line("compute-1", 1700000000.2) == (
        "[1700000000] PROCESS_HOST_CHECK_RESULT;compute-1;0;UP - stackwatch checks this host\n")


def test_line_breaks_escaped_and_long_output_cut():
    multi = CheckResult("h", "c", State.WARNING, "one\ntwo\r\nthree", 1.0)
    assert service_result_line(multi).endswith("C WARNING - one\\ntwo\\nthree\n")
    long = CheckResult("h", "c", State.OK, "x" * 10000, 1.0)
    line = service_result_line(long)
    assert len(line.encode()) <= PIPE_BUF and line.endswith("...\n") and line.count("\n") == 1


def test_regular_file_gets_lines(tmp_path):
    path = tmp_path / "nagios.cmd"
    path.touch()
    sink = CommandFile(str(path), host_interval=60)
    assert sink.submit(RESULT) and sink.submit(RESULT)
    lines = path.read_text().splitlines()
    assert lines == [host_result_line("compute-1", RESULT.timestamp).rstrip("\n"),
                     service_result_line(RESULT).rstrip("\n"), service_result_line(RESULT).rstrip("\n")]
    later = CheckResult("compute-1", "load", State.OK, "fine", RESULT.timestamp + 61)
    sink.submit(later)
    assert path.read_text().splitlines()[-2].startswith(f"[{int(later.timestamp)}] PROCESS_HOST_CHECK_RESULT;compute-1;0;")
    assert (sink.sent, sink.dropped) == (5, 0)


def test_fifo_without_reader_drops_counts_and_logs_once(tmp_path, caplog):
    fifo = tmp_path / "nagios.cmd"
    os.mkfifo(fifo)
    sink = CommandFile(str(fifo), host_results=False)
    caplog.set_level(logging.WARNING, logger="stackwatch.nagios.passive")
    assert [sink.submit(RESULT) for _ in range(3)] == [False, False, False]
    assert (sink.sent, sink.dropped) == (0, 3)
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 1 and "Nagios is not reading the command file" in warnings[0], warnings

    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        assert sink.submit(RESULT)
        assert os.read(reader, 65536).decode() == service_result_line(RESULT)
    finally:
        os.close(reader)
    assert (sink.sent, sink.dropped) == (1, 3)
    assert "again (3 result(s) dropped so far)" in caplog.records[-1].getMessage()
    samples = {s.key.label("outcome"): s.value for s in sink.samples(10.0)}
    assert samples == {"sent": 1.0, "dropped": 3.0}


def test_full_pipe_never_blocks(tmp_path):
    """A Nagios that opened the FIFO and stopped reading: writes fail with EAGAIN at once, counted."""
    fifo = tmp_path / "nagios.cmd"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    sink = CommandFile(str(fifo), host_results=False)
    done = threading.Event()
    outcomes = []

    def fill():
        for _ in range(100000):  # a pipe holds 64 KiB; a line is ~90 bytes
            outcomes.append(sink.submit(RESULT))
            if not outcomes[-1]:
                break
        done.set()

    threading.Thread(target=fill, daemon=True).start()
    try:
        assert done.wait(60), "a write to a full command file blocked"
        assert outcomes[-1] is False and sink.dropped == 1 and sink.sent == len(outcomes) - 1
    finally:
        os.close(reader)


def test_missing_command_file(tmp_path):
    sink = CommandFile(str(tmp_path / "absent.cmd"))
    assert not sink.submit(RESULT)
    assert sink.dropped == 2  # the host result and the service result


def test_runtime_hands_results_to_nagios(tmp_path):
    from stackwatch.config import build_config
    from stackwatch.runtime import Runtime

    from .daemons import cloud_raw

    cmd = tmp_path / "nagios.cmd"
    cmd.touch()
    raw = cloud_raw(tmp_path, hosts=[{"name": "local", "address": "127.0.0.1", "roles": []}],
                    nagios={"server": "127.0.0.1", "passive": {"command_file": str(cmd)}})
    rt = Runtime.build(build_config(raw, tmp_path / "config.yaml", environ={}))
    try:
        assert isinstance(rt.nagios_passive, CommandFile)
        rt.record_check(CheckResult("local", "disk-root", State.WARNING, "free space low", 1700000000.0))
        assert rt.store.checks.current("local")[0].state is State.WARNING  # stored as before
        assert cmd.read_text().splitlines()[-1] == (
            "[1700000000] PROCESS_SERVICE_CHECK_RESULT;local;disk-root;1;DISK WARNING - free space low")
        assert "nagios:passive-counts" in rt.scheduler.stats  # sent/dropped counters into the trend store
    finally:
        rt.stop()


def test_runtime_without_passive_section(tmp_path, make_config):
    from stackwatch.runtime import Runtime

    rt = Runtime.build(make_config())
    try:
        assert rt.nagios_passive is None and "nagios:passive-counts" not in rt.scheduler.stats
    finally:
        rt.stop()


@pytest.fixture
def nagios(tmp_path):
    """A real nagios4 in the foreground with the generated passive objects of the 6-host cloud."""
    run = tmp_path / "nagios"
    cfg = cloud_config(tmp_path, nagios={**NAGIOS_SECTION, "passive": {"command_file": str(run / "nagios.cmd")}})
    objects.write(objects.render(cfg, passive=True), tmp_path / "objects")
    with running_nagios(run, tmp_path / "objects", execute_host_checks="0", execute_service_checks="0",
                        check_service_freshness="0"):
        yield cfg, run


def test_real_nagios_shows_submitted_results(nagios):
    cfg, run = nagios
    sink = CommandFile.from_config(cfg)
    now = time.time()
    assert sink.submit(CheckResult("compute-2", "disk-root", State.CRITICAL, "free space: / 3 MB (3%)", now,
                                   (Perfdata("/", 97, "MB", "80", "90", 0, 100),)))
    from stackwatch.runtime import Runtime

    rt = Runtime.build(cfg)  # the hook the scheduler's check jobs go through
    try:
        rt.record_check(CheckResult("compute-2", "proc-nova-compute", State.OK, "1 process with args 'nova-compute'",
                                    now))
        assert (rt.nagios_passive.sent, rt.nagios_passive.dropped) == (2, 0)  # host UP + the service
    finally:
        rt.stop()
    status = run / "status.dat"
    disk = wait_for_status(status, "servicestatus", lambda f: f["host_name"] == "compute-2"
                           and f["service_description"] == "disk-root" and f["current_state"] == "2")
    assert disk["plugin_output"] == "DISK CRITICAL - free space: / 3 MB (3%)"
    assert disk["performance_data"] == "/=97MB;80;90;0;100"
    assert disk["check_type"] == "1"  # passive
    proc = wait_for_status(status, "servicestatus", lambda f: f["host_name"] == "compute-2"
                           and f["service_description"] == "proc-nova-compute" and f["has_been_checked"] == "1")
    assert (proc["current_state"], proc["plugin_output"]) == ("0", "PROCS OK: 1 process with args 'nova-compute'")
    host = wait_for_status(status, "hoststatus", lambda f: f["host_name"] == "compute-2" and f["has_been_checked"] == "1")
    assert (host["current_state"], host["plugin_output"]) == ("0", "UP - stackwatch checks this host")
    assert (sink.sent, sink.dropped) == (2, 0)


def test_real_nagios_takes_cloud_results_for_host_openstack(tmp_path):
    """checks.cloud results come under host `openstack` (as serve records them): nagios-config --passive
    defines it, so Nagios takes the host's UP and the service's result instead of refusing an unknown host."""
    from .daemons import CLOUD_CHECKS, HOST_CHECKS

    run = tmp_path / "nagios"
    checks = {"defaults": {"interval": "60s"}, "host": HOST_CHECKS, "cloud": CLOUD_CHECKS}
    cfg = cloud_config(tmp_path, checks=checks,
                       nagios={**NAGIOS_SECTION, "passive": {"command_file": str(run / "nagios.cmd")}})
    objects.write(objects.render(cfg, passive=True), tmp_path / "objects")
    with running_nagios(run, tmp_path / "objects", execute_host_checks="0", execute_service_checks="0",
                        check_service_freshness="0"):
        from stackwatch.runtime import Runtime

        rt = Runtime.build(cfg)  # the hook serve's check jobs go through
        try:
            now = time.time()
            rt.record_check(CheckResult("openstack", "os-compute-services", State.CRITICAL,
                                        "1 of 4 nova services down: nova-compute@compute-2", now,
                                        (Perfdata("down", 1, "", "", "0", 0, None),)))
            rt.record_check(CheckResult("rabbit-1", "rabbitmq", State.WARNING, "queue notifications.info: 1500 messages",
                                        now))
            assert (rt.nagios_passive.sent, rt.nagios_passive.dropped) == (4, 0)  # 2 hosts UP + 2 services
        finally:
            rt.stop()
        status = run / "status.dat"
        nova = wait_for_status(status, "servicestatus", lambda f: f["host_name"] == "openstack"
                               and f["service_description"] == "os-compute-services" and f["current_state"] == "2")
        assert nova["plugin_output"] == "NOVA SERVICES CRITICAL - 1 of 4 nova services down: nova-compute@compute-2"
        assert nova["check_type"] == "1" and nova["performance_data"].startswith("down=1")
        rabbit = wait_for_status(status, "servicestatus", lambda f: f["host_name"] == "rabbit-1"
                                 and f["service_description"] == "rabbitmq" and f["has_been_checked"] == "1")
        assert (rabbit["current_state"], rabbit["plugin_output"]) == (
            "1", "RABBITMQ WARNING - queue notifications.info: 1500 messages")
        host = wait_for_status(status, "hoststatus", lambda f: f["host_name"] == "openstack" and f["has_been_checked"] == "1")
        assert (host["current_state"], host["plugin_output"]) == ("0", "UP - stackwatch checks this host")
    log = (run / "nagios.log").read_text()
    assert "PROCESS_SERVICE_CHECK_RESULT;openstack;os-compute-services;2;" in log, log[-2000:]
    # what Nagios logs for a result whose host it does not know (as before checks.cloud got a host):
    assert "but the host could not be found" not in log and "External command failed" not in log, log[-2000:]
