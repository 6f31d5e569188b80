"""The parser against real logs: the shared corpus (skipped when absent, a failure in CI) and the
Apache-2.0 files copied into tests/fixtures/logs (always present).

Expected record counts were made independently of the parser, with grep. A record begins at every
line that has an oslo.log prefix AND a context bracket right after the logger; TRACE/ERROR traceback
lines carry no bracket and prefix-less lines have no prefix, so both are continuations:

    P='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:.]+ [0-9]+ [A-Z]+ [^ ]+ \\['
    grep -cE "$P" FILE                                       # records
    grep -cE '^[0-9-]+ [0-9:.]+ [0-9]+ (TRACE|ERROR) [^ ]+ (\\[instance: [^]]*\\] )?Traceback \\(most' FILE
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from stackwatch.rsyslog.parse import decode_line

from .conftest import FIXTURES, parse_file

HP = "logs/os-log-merger-2015/hp-ms-01-c29-2015-10"
CTL = "logs/os-log-merger-2015/controller1-2015-11"

# path -> (records, records with a traceback)
EXPECTED = {
    "logs/loghub-openstack/OpenStack_2k.log": (2000, 0),            # NOTES: 2,000 lines = 2,000 records
    "logs/hotsos-yoga/neutron-metadata-agent.log.1": (3059, 31),    # 62 "Traceback" = 31 chained pairs
    "logs/hotsos-yoga/nova-compute.log.1.head": (242, 0),
    f"{HP}/nova/nova-conductor.log": (260, 19),     # 17 TRACE tracebacks + 2 WARNINGs carrying remote ones as text
    f"{HP}/nova/nova-compute.log": (1435, 0),       # 1,636 lines - 201 prefix-less continuation lines
    f"{HP}/nova/nova-api.log": (2188, 1),
    f"{HP}/nova/nova-scheduler.log": (35, 3),
    f"{HP}/nova/nova-cert.log": (31, 3),
    f"{HP}/nova/nova-consoleauth.log": (49, 2),
    f"{HP}/nova/nova-manage.log": (79, 0),
    f"{HP}/nova/nova-novncproxy.log": (152, 2),     # 2 tracebacks logged as INFO message text, prefix-less
    f"{HP}/neutron/server.log": (1259, 8),          # 1,258 bracket lines + 1 orphan block (see below)
    f"{CTL}/nova/nova-conductor.log": (227, 8),
    f"{CTL}/nova/nova-api.log": (131, 0),
    f"{CTL}/nova/nova-scheduler.log.excerpt": (1866, 2),
    "syslog/hotsos/syslog": (1406, 0),              # one message per line, no #012 in this capture
    "syslog/loghub/Linux_2k.log": (2000, 0),
    "syslog/loghub/OpenSSH_2k.log": (2000, 0),
}


def _lines(path: Path) -> Counter:
    with path.open("rb") as fh:
        return Counter(decode_line(line)[1] for line in fh)


def _corpus_files(corpus: Path) -> list[Path]:
    return sorted(p for top in ("logs", "syslog") for p in (corpus / top).rglob("*") if p.is_file())


def test_every_corpus_file_parses_in_both_modes_and_keeps_every_line(corpus):
    files = _corpus_files(corpus)
    assert len(files) >= 20
    for path in files:
        expected = _lines(path)
        for syslog in (False, True):
            records = parse_file(path, syslog=syslog, now=1.7e9)
            got = Counter(ln for r in records for ln in r.raw.split("\n"))
            assert got == expected, (path, syslog)


@pytest.mark.parametrize("rel, counts", EXPECTED.items(), ids=list(EXPECTED))
def test_record_counts(corpus, rel, counts):
    records = parse_file(corpus / rel, syslog=rel.startswith("syslog/"), now=1.7e9)
    assert (len(records), sum(r.traceback is not None for r in records)) == counts
    assert all(r.parsed for r in records) and not any(r.truncated for r in records)


def test_trace_block_folded_in_nova_conductor(corpus):
    # grep -c '^2015-10-20 09:10:57.153 28139 TRACE' -> 15 lines (the last one empty) after the ERROR line
    records = parse_file(corpus / HP / "nova/nova-conductor.log")
    (r,) = [r for r in records if r.pid == 28139 and r.raw.startswith("2015-10-20 09:10:57.153")]
    assert r.level == "ERROR" and r.logger == "oslo.messaging._drivers.impl_rabbit"
    assert r.message.startswith("Failed to consume message from queue: (0, 0): (320) CONNECTION_FORCED")
    assert r.raw.count("\n") + 1 == 16
    tb = r.traceback.split("\n")
    assert len(tb) == 14 and tb[0] == "Traceback (most recent call last):"
    assert tb[-1] == ("ConnectionForced: (0, 0): (320) CONNECTION_FORCED - broker forced connection closure "
                      "with reason 'shutdown'")
    remote = [r for r in records if r.traceback and r.level == "WARNING"]
    assert len(remote) == 2 and all(r.traceback.count("Traceback (most recent call last):") == 3 for r in remote)
    assert remote[0].raw.count("\n") + 1 == 124                      # lines 676-799 of the file


def test_chained_traceback_in_neutron_metadata_agent(corpus):
    # grep -c '^2022-02-04 10:06:16.662 183926 ERROR neutron.agent.metadata.agent' -> 33 lines, one record
    records = parse_file(corpus / "logs/hotsos-yoga/neutron-metadata-agent.log.1")
    (r,) = [r for r in records if r.raw.startswith("2022-02-04 10:06:16.662 183926")]
    assert r.raw.count("\n") + 1 == 33
    assert r.message.startswith("Failed reporting state!: oslo_messaging.exceptions.MessagingTimeout")
    assert r.traceback.count("Traceback (most recent call last):") == 2
    assert "During handling of the above exception, another exception occurred:" in r.traceback
    assert r.traceback.endswith("Timed out waiting for a reply to message ID 767a26a601884209ba4667808785d7a9")
    assert sum(r.traceback.count("During handling") for r in records if r.traceback) == 31


def test_interleaved_workers_in_neutron_server(corpus):
    # Four workers crash in the same millisecond; one write cut another's line in two
    # ("... 3405 TRACE neutron   2015-10-29 10:51:12.505 3404 CRITICAL neutron [-] AssertionError:"), so
    # pid 3404's CRITICAL line is lost inside 3405's traceback and its TRACE block stands alone.
    records = parse_file(corpus / HP / "neutron/server.log")
    crashes = [r for r in records if r.traceback]
    assert sorted((r.pid, r.level) for r in crashes) == [
        (3401, "CRITICAL"), (3401, "ERROR"), (3402, "CRITICAL"), (3402, "ERROR"),
        (3404, "ERROR"), (3404, "TRACE"), (3405, "CRITICAL"), (3405, "ERROR")]
    orphan = next(r for r in crashes if r.level == "TRACE")
    assert orphan.traceback.startswith("Traceback (most recent call last):")
    assert orphan.message.startswith("AssertionError: Calling waitall()")


def test_loghub_against_its_ground_truth(corpus):
    """NOTES.md 6.6: pid, level, component, context and content of all 2,000 lines match loghub's parse."""
    base = corpus / "logs/loghub-openstack"
    records = parse_file(base / "OpenStack_2k.log")
    with (base / "OpenStack_2k.log_structured.csv").open(newline="") as fh:
        truth = list(csv.DictReader(fh))
    assert len(records) == len(truth) == 2000
    for r, t in zip(records, truth):
        assert (str(r.pid), r.level, r.logger) == (t["Pid"], t["Level"], t["Component"])
        assert r.program == t["Logrecord"].split(".log")[0]
        content = (f"[instance: {r.instance_uuid}] " if r.instance_uuid else "") + r.message
        assert content == t["Content"]
        if t["ADDR"] == "-":
            assert r.request_id is None
        else:
            req, user, project = (t["ADDR"].split(" ") + [None, None])[:3]
            assert r.request_id == req
            assert r.user_id == (None if user in (None, "-") else user)
            assert r.project_id == (None if project in (None, "-") else project)


def test_syslog_with_oslo_bodies(corpus):
    records = parse_file(corpus / "syslog/hotsos/syslog", syslog=True, now=1.65e9)
    oslo = [r for r in records if r.level]
    assert len(oslo) == 6 and {r.program for r in oslo} == {"neutron-keepalived-state-change"}
    assert all(r.service == "neutron" and r.host == "compute4" and r.logger.startswith("neutron.") for r in oslo)
    assert sum(r.function is not None for r in oslo) == 4                 # the 4 DEBUG lines' suffixes


# -- the copied Apache-2.0 fixtures: these run everywhere ------------------------------------------

def test_fixture_files_fold_as_expected():
    nova = FIXTURES / "os-log-merger-2015/hp-ms-01-c29-2015-10/nova"
    for name, counts in (("nova-cert.log", (31, 3)), ("nova-scheduler.log", (35, 3)),
                         ("nova-novncproxy.log", (152, 2))):
        records = parse_file(nova / name)
        assert (len(records), sum(r.traceback is not None for r in records)) == counts, name
        assert Counter(ln for r in records for ln in r.raw.split("\n")) == _lines(nova / name)
    records = parse_file(FIXTURES / "hotsos-yoga/nova-compute.log.1.head")
    assert len(records) == 242 and sum(r.level == "ERROR" for r in records) == 75


def test_fixture_trace_block():
    records = parse_file(FIXTURES / "os-log-merger-2015/hp-ms-01-c29-2015-10/nova/nova-cert.log")
    r = records[3]                                  # line 4, with TRACE lines 5-19 (the last one empty)
    assert r.message.startswith("Failed to consume message from queue: (0, 0): (320) CONNECTION_FORCED")
    assert r.raw.count("\n") + 1 == 16 and r.traceback.count("\n") + 1 == 14
    assert r.traceback.endswith("with reason 'shutdown'") and r.program == "nova-cert" and r.service == "nova"
    assert records[4].message == "Delaying reconnect for 1.0 seconds..."


def test_fixture_prefixless_traceback_message():
    records = parse_file(FIXTURES / "os-log-merger-2015/hp-ms-01-c29-2015-10/nova/nova-novncproxy.log")
    r = next(r for r in records if r.traceback)
    assert r.level == "INFO" and r.logger == "nova.console.websocketproxy"
    assert r.message == "error: [Errno 107] Transport endpoint is not connected"
    assert r.traceback.startswith("Traceback (most recent call last):\n  File")
