"""The generated client config's disk-assisted queue under a burst, with a real rsyslogd: the receiver is
down, a burst larger than the in-memory queue (queue.size 100,000) arrives, so rsyslog spills it to its
spool directory; the receiver comes back and every line arrives.

Exactly once holds on stackwatch's side (every frame received is stored once and answered once, nothing
refused), not end to end: rsyslogd 8.2302 itself sends a couple of the first messages of the burst
twice after its action was suspended (seen over RELP and TCP alike, as separate frames: here 2 of
120,000, e.g. message 0 first and again after ~20,000 others, and message 2 only then, out of order, and
once more at the end). They are counted and printed, not failed.
"""

from __future__ import annotations

import re
import socket
import time
from collections import Counter

import pytest

from stackwatch.rsyslog.receiver import SyslogReceiver

from .test_receiver import MemorySink, wait_until
from .test_rsyslog_real import PROTOCOLS, forwarder

BURST = 120_000           # more than the generated queue.size (100,000): past its high watermark (80,000)


def send_burst(socket_path: str, n: int) -> None:
    """n messages into rsyslogd's imuxsock socket as syslog(3) writes them (local0.info, nova-compute)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.connect(socket_path)
        for i in range(n):
            s.send(b"<134>nova-compute[77]: burst %d" % i)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_burst_spills_to_disk_and_arrives_once(tmp_path, protocol, record_property, capsys):
    sink = MemorySink()
    receiver = SyslogReceiver(sink, batch_max=4000, **{protocol: ("127.0.0.1", 0)})
    receiver.start()
    port = receiver.bound_ports[protocol]
    receiver.stop()                                           # the central side is down
    spool = tmp_path / "spool"
    with forwarder(tmp_path, port, protocol) as rsyslogd:
        send_burst(rsyslogd.socket, BURST)
        spilled = lambda: sum(f.stat().st_size for f in spool.glob("stackwatch-forward.0*"))  # noqa: E731
        assert wait_until(lambda: spilled() > 0, 60), f"nothing spilled to {spool}: {rsyslogd.output.read_text()}"
        on_disk = spilled()
        receiver = SyslogReceiver(sink, batch_max=4000, **{protocol: ("127.0.0.1", port)})
        receiver.start()                                      # back
        try:
            ids = lambda: [int(m) for m in re.findall(rb"burst (\d+)$", b"\n".join(sink.data()), re.M)]  # noqa: E731
            assert wait_until(lambda: len(set(ids())) == BURST, 120), \
                f"{len(set(ids()))} of {BURST} arrived; {rsyslogd.output.read_text()[-2000:]}"
            time.sleep(1.0)                                   # late duplicates, if any
        finally:
            receiver.stop()
    got = ids()
    counters = receiver.counters()
    result = {"protocol": protocol, "sent": BURST, "spilled_bytes": on_disk, "received": len(got),
              "distinct": len(set(got)), "duplicates": len(got) - len(set(got)),
              "duplicated": sorted(i for i, n in Counter(got).items() if n > 1)[:10]}
    record_property("spill_test", result)
    with capsys.disabled():
        print(f"\nspill test {result}")
    assert set(got) == set(range(BURST))                      # none lost
    assert counters["received"] == counters["stored"] == len(got) and counters["refused"] == 0
