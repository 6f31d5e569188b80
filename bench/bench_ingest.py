"""Log ingest end to end: a real rsyslogd forwards N realistic OpenStack log lines (1,000,000 at
BENCH_SCALE=1) with the forwarding config stackwatch generates (omfwd TCP octet-counted, or omrelp) to
`stackwatch logs receive`, which parses them and stores them in the embedded SQLite store. The baseline,
measured in the same run: the same rsyslogd writing the same stream to files (one per host).

The stream: the corpus's oslo.log records (/work/shared/corpus/logs, or $STACKWATCH_CORPUS) cycled, each
cycle on other hosts with fresh UUIDs (request ids, instances, ports...) and pids; every record has its
own millisecond, so each stored event is identified by its time; a traceback stays in its record, as
oslo.log's syslog handler sends it (one message; rsyslogd escapes its line breaks as #012). A Python sender
writes the pre-built stream into rsyslogd's imtcp input (RFC 3164 headers, octet-counted), as a central
rsyslog receives the cloud's hosts.

Timed: from the first byte sent to rsyslogd until the last line is in the files (baseline) or committed in
the store (`max(id)` polled on a read-only connection). Then checked: N events stored with N distinct
times (0 lost, 0 duplicated); a sample of 200 compared with what was sent (host, program, service, pid,
level, oslo fields parsed, raw kept); a trace by request id. CPU seconds are per process tree.

Runs (BENCH_RUNS, default "tcp,relp,tcp@50000"): `PROTOCOL` sends the whole stream at once (rsyslogd's
disk-assisted queue takes what stackwatch cannot take yet); `PROTOCOL@RATE` paces the sender at RATE
lines/s, to see whether stackwatch keeps up with that rate. Target (the issue): >= 50,000 lines/s, 0 lost.
Knobs: BENCH_SCALE, BENCH_RUNS, BENCH_AS_GENERATED=1 (no changes to the generated config, see
`adapt_forwarding`), BENCH_STATS=1 (rsyslogd impstats every second), BENCH_KEEP=1 (keep the temporary
directory), BENCH_STACKWATCH (the command to run instead of the installed `stackwatch`, e.g. a profiler).
"""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

from stackwatch.rsyslog.parse import parse_lines
from stackwatch.rsyslog.rsyslogconf import FORWARD_FILE, client_config
from stackwatch.rsyslog.services import program_from_path

SCALE = float(os.environ.get("BENCH_SCALE", "1"))
N = max(10_000, int(1_000_000 * SCALE))
RUNS = [r for r in os.environ.get("BENCH_RUNS", "tcp,relp,tcp@50000").split(",") if r]
TARGET = 50_000
CORPUS = Path(os.environ.get("STACKWATCH_CORPUS", "/work/shared/corpus"))
STACKWATCH = Path(sys.executable).with_name("stackwatch")
STALL = 60.0                 # seconds without progress before a run is given up (the rest counted lost)

_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LEAD = re.compile(r"[^\s\d]\S* \d{4}-\d\d-\d\d ")
_STAMP = re.compile(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (?:(\d+) )?")
_FACILITY = {"nova": 16, "glance": 17, "cinder": 18, "keystone": 19, "neutron": 20, "swift": 21}
_SEVERITY = {"DEBUG": 7, "INFO": 6, "AUDIT": 5, "WARNING": 4, "WARN": 4, "ERROR": 3, "TRACE": 3,
             "CRITICAL": 2, "FATAL": 2}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
CONTROLLERS = [f"controller-{i}" for i in range(1, 4)]
COMPUTES = [f"compute-{i:02d}" for i in range(1, 41)]


# -- the stream ----------------------------------------------------------------------------------------

@dataclass
class Template:
    """One corpus record as a format string: {0} its time, {1} its pid, {2}... its UUIDs."""

    program: str
    service: str
    pri_severity: int
    fmt: str
    uuids: list[int]            # corpus-wide UUID numbers, in placeholder order
    pid: int                    # the pid the corpus wrote
    level: str


def _template(raw: str, uuid_ids: dict[str, int]) -> tuple[str, list[int], int] | None:
    lines = []
    for line in raw.split("\n"):
        if _LEAD.match(line):
            line = line.split(" ", 1)[1]                       # loghub's leading file-name column
        lines.append(line)
    first = _STAMP.match(lines[0])
    if first is None or first.group(2) is None:
        return None                                          # no time or pid of its own: not templated
    pid = int(first.group(2))
    text = "\n".join(lines).replace("{", "{{").replace("}", "}}")
    text = _STAMP.sub(lambda m: "{0} {1} " if m.group(2) else "{0} ", text)
    found: list[int] = []

    def number(m: re.Match) -> str:
        n = uuid_ids.setdefault(m.group(0), len(uuid_ids))
        if n not in found:
            found.append(n)
        return "{%d}" % (2 + found.index(n))
    return _UUID.sub(number, text), found, pid


def corpus_templates() -> tuple[list[list[Template]], int]:
    """Per corpus file its records as templates (file order), and how many distinct UUIDs they use."""
    top = CORPUS / "logs"
    if not top.is_dir():
        raise SystemExit(f"no log corpus at {top} (set STACKWATCH_CORPUS)")
    uuid_ids: dict[str, int] = {}
    files: list[list[Template]] = []
    for path in sorted(top.rglob("*")):
        if not path.is_file() or ".log" not in path.name or path.name.endswith(".csv"):
            continue
        with path.open("rb") as fh:
            records = list(parse_lines(fh, syslog=False, source=str(path)))
        by_program: dict[str, list[Template]] = {}
        for r in records:
            if r.program and not r.program.startswith(("nova-", "neutron-")):
                continue
            t = _template(r.raw, uuid_ids)
            if t is None or r.level is None:
                continue
            program = r.program or program_from_path(str(path))[0]
            fmt, uuids, pid = t
            service = program.split("-")[0]
            by_program.setdefault(program, []).append(Template(
                program, service, _FACILITY.get(service, 1) * 8 + _SEVERITY.get(r.level, 6), fmt, uuids, pid,
                r.level))
        files.extend(by_program.values())
    return [f for f in files if f], len(uuid_ids)


def hosts_for(program: str) -> list[str]:
    if program in ("nova-compute", "neutron-metadata-agent", "neutron-openvswitch-agent"):
        return COMPUTES
    return CONTROLLERS


def generate(n: int, base: int, seed: int = 1) -> tuple[list[bytes], list[tuple]]:
    """n syslog messages (RFC 3164 header, as a local service writes them; LF inside a traceback record)
    and, per message, (time as stored, host, program, pid, level) for checking."""
    files, n_uuids = corpus_templates()
    rnd = random.Random(seed)
    out: list[bytes] = []
    meta: list[tuple] = []
    seconds: dict[int, tuple[str, str]] = {}
    cycle = 0
    while len(out) < n:
        fresh = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(n_uuids)]
        cursors = [0] * len(files)
        hosts = [hosts_for(f[0].program)[(cycle * 7 + i) % len(hosts_for(f[0].program))]
                 for i, f in enumerate(files)]
        live = list(range(len(files)))
        while live and len(out) < n:
            for i in list(live):                           # interleave the files, one record each
                if cursors[i] >= len(files[i]):
                    live.remove(i)
                    continue
                t = files[i][cursors[i]]
                cursors[i] += 1
                seq = len(out)
                sec, ms = divmod(seq, 1000)
                stamps = seconds.get(sec)
                if stamps is None:
                    tm = time.gmtime(base + sec)
                    stamps = seconds[sec] = (time.strftime("%Y-%m-%d %H:%M:%S", tm), f"{_MONTHS[tm.tm_mon - 1]} "
                                             f"{tm.tm_mday:2d} {time.strftime('%H:%M:%S', tm)}")
                host = hosts[i]
                pid = 1000 + zlib.crc32(f"{host} {t.program} {t.pid}".encode()) % 60000
                body = t.fmt.format(f"{stamps[0]}.{ms:03d}", pid, *[fresh[u] for u in t.uuids])
                out.append(f"<{t.pri_severity}>{stamps[1]} {host} {t.program}[{pid}]: {body}".encode())
                meta.append((base + sec + float(f"0.{ms:03d}"), host, t.program, pid, t.level))
                if len(out) >= n:
                    break
        cycle += 1
    return out, meta


@dataclass
class Stream:
    path: Path
    size: int
    messages: int
    lines: int
    marks: list[int]            # byte offset of every MARK-th message, for pacing


MARK = 1000


def write_stream(messages: list[bytes], path: Path) -> Stream:
    """The messages octet-counted (RFC 6587) in one file, for sendfile()."""
    marks, lines = [], 0
    with path.open("wb") as fh:
        for i, m in enumerate(messages):
            if i % MARK == 0:
                marks.append(fh.tell())
            fh.write(b"%d %s" % (len(m), m))
            lines += m.count(b"\n") + 1
        return Stream(path, fh.tell(), len(messages), lines, marks)


def send_stream(stream: Stream, port: int, rate: float | None = None) -> float:
    """Write the stream into rsyslogd's imtcp input, at once or at `rate` messages/s; returns when the
    kernel has taken the last byte."""
    with socket.create_connection(("127.0.0.1", port), timeout=600) as s, stream.path.open("rb") as fh:
        if rate is None:
            s.sendfile(fh)
        else:
            t0 = time.perf_counter()
            ends = stream.marks[1:] + [stream.size]
            for i, (start, end) in enumerate(zip(stream.marks, ends)):
                pause = t0 + i * MARK / rate - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                s.sendfile(fh, start, end - start)
        s.shutdown(socket.SHUT_WR)
        return time.perf_counter()


# -- processes -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU seconds of a process and of its descendants (stackwatch's log writers or parse helpers)."""
    own, children, todo, tick = 0.0, 0.0, [pid], os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            seconds = (int(fields[11]) + int(fields[12])) / tick
            if p == pid:
                own += seconds
            else:
                children += seconds
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (OSError, IndexError, ValueError):
            continue
    return own, children


class Proc:
    """A child process started by this benchmark, stopped (TERM, then KILL) on `stop()` whatever happened."""

    def __init__(self, name: str, cmd: list[str], log: Path):
        self.name, self.log = name, log
        with log.open("ab") as out:
            self.p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def alive(self) -> bool:
        return self.p.poll() is None

    def cpu(self) -> float:
        return sum(tree_cpu_seconds(self.p.pid))

    def cpu_split(self) -> tuple[float, float]:
        return tree_cpu_seconds(self.p.pid)

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(30)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(10)

    def tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return ""


def rsyslogd_binary() -> str:
    for p in ("/usr/sbin/rsyslogd", "/usr/bin/rsyslogd"):
        if os.path.exists(p):
            return p
    raise SystemExit("rsyslogd not installed (apt-get install rsyslog rsyslog-relp)")


def start_rsyslogd(d: Path, action: str) -> tuple[Proc, int]:
    """rsyslogd in the foreground from `d`: an imtcp input on a free port, its own messages to a file,
    the stream to `action` (RainerScript)."""
    work = d / "work"
    work.mkdir(parents=True)
    port = free_port()
    stats = (f'module(load="impstats" interval="1" log.file="{d}/impstats.log" log.syslog="off")\n'
             if os.environ.get("BENCH_STATS") else "")
    (d / "rsyslog.conf").write_text(
        f'global(workDirectory="{work}" maxMessageSize="64k")\n'
        'module(load="imtcp")\n' + stats +
        f'input(type="imtcp" address="127.0.0.1" port="{port}")\n'
        f'if $inputname == "rsyslogd" then {{\n  action(type="omfile" file="{d}/rsyslogd-internal.log")\n  stop\n}}\n'
        + action)
    proc = Proc("rsyslogd", [rsyslogd_binary(), "-n", "-f", str(d / "rsyslog.conf"), "-i", str(d / "rsyslogd.pid")],
                d / "rsyslogd.out")
    deadline = time.monotonic() + 30
    while True:
        if not proc.alive():
            raise RuntimeError(f"rsyslogd exited: {proc.tail()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, port
        except OSError:
            if time.monotonic() > deadline:
                proc.stop()
                raise RuntimeError(f"rsyslogd is not listening on {port}: {proc.tail()}") from None
            time.sleep(0.05)


def adapt_forwarding(config: str) -> tuple[str, list[str]]:
    """The generated forwarding config, with what keeps this benchmark from measuring stackwatch changed
    (unless BENCH_AS_GENERATED): (config, what was changed)."""
    if os.environ.get("BENCH_AS_GENERATED"):
        return config, []
    notes = []
    if 'queue.timeoutEnqueue="0"' in config:
        # A burst that outruns the action queue (100,000 in memory; its disk part fills slower than imtcp
        # reads) is discarded by rsyslogd itself (impstats: discarded.full) before stackwatch sees it.
        # rsyslogd's default blocks the input up to 2 s instead: TCP back-pressure on the sender.
        config = config.replace('  queue.timeoutEnqueue="0"\n', "")
        notes.append('without queue.timeoutEnqueue="0" (with it rsyslogd discards a burst)')
    return config, notes


def start_stackwatch(d: Path, protocol: str) -> tuple[Proc, int, Path]:
    port = free_port()
    data = d / "data"
    (d / "config.yaml").write_text(
        f"data_dir: {data}\n"
        "inventory: {hosts: [{name: bench, address: 127.0.0.1, roles: []}]}\n"
        "logs:\n  backend: sqlite\n"
        f"  receive: {{{protocol}: 127.0.0.1:{port}}}\n")
    command = os.environ.get("BENCH_STACKWATCH", str(STACKWATCH)).split()
    proc = Proc("stackwatch", [*command, "logs", "receive", "--config", str(d / "config.yaml")],
                d / "stackwatch.out")
    deadline = time.monotonic() + 60
    while "receiving logs" not in proc.tail():
        if not proc.alive() or time.monotonic() > deadline:
            proc.stop()
            raise RuntimeError(f"stackwatch logs receive did not start: {proc.tail()}")
        time.sleep(0.05)
    return proc, port, data / "stackwatch.db"


# -- the runs ------------------------------------------------------------------------------------------

def wait_for(count, n: int, procs: list[Proc]) -> tuple[float | None, int]:
    """Poll `count()` until it reaches n: (perf_counter when it did, or None after STALL s without
    progress; the last count)."""
    last, last_change = -1, time.monotonic()
    while True:
        got = count()
        if got >= n:
            return time.perf_counter(), got
        if got != last:
            last, last_change = got, time.monotonic()
        elif time.monotonic() - last_change > STALL:
            return None, got
        for p in procs:
            if not p.alive():
                raise RuntimeError(f"{p.name} exited: {p.tail()}")
        time.sleep(0.05)


def run_files(tmp: Path, stream: Stream) -> dict:
    d = tmp / "files"
    out = d / "out"
    out.mkdir(parents=True)
    action = (f'template(name="bench-per-host" type="string" string="{out}/%HOSTNAME%.log")\n'
              'action(type="omfile" dynaFile="bench-per-host" template="RSYSLOG_FileFormat")\n')
    rsyslogd, port = start_rsyslogd(d, action)
    read: dict[Path, tuple[int, int]] = {}

    def lines() -> int:
        for f in out.iterdir():
            pos, count = read.get(f, (0, 0))
            with f.open("rb") as fh:
                fh.seek(pos)
                data = fh.read()
            read[f] = (pos + len(data), count + data.count(b"\n"))
        return sum(c for _, c in read.values())

    try:
        cpu0, t0 = rsyslogd.cpu(), time.perf_counter()
        sent = send_stream(stream, port)
        done, got = wait_for(lines, stream.messages, [rsyslogd])
        cpu = rsyslogd.cpu() - cpu0
    finally:
        rsyslogd.stop()
    if done is None:
        raise RuntimeError(f"rsyslogd wrote {got} of {stream.messages} lines, then nothing for {STALL:.0f} s")
    return {"seconds": done - t0, "sent": sent - t0, "rate": stream.messages / (done - t0), "cpu": cpu}


def run_stackwatch(tmp: Path, stream: Stream, meta: list[tuple], protocol: str, rate: float | None) -> dict:
    d = tmp / f"stackwatch-{protocol}-{int(rate or 0)}"
    (d / "spool").mkdir(parents=True)
    procs: list[Proc] = []
    try:
        sw, sw_port, db_path = start_stackwatch(d, protocol)
        procs.append(sw)
        forward, notes = adapt_forwarding(client_config(
            "central", [], None, "127.0.0.1", sw_port, protocol=protocol, queue_dir=str(d / "spool"),
            resume_interval=1, resume_interval_max=2)[FORWARD_FILE])
        rsyslogd, port = start_rsyslogd(d, forward)
        procs.append(rsyslogd)
        reader = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        count = lambda: reader.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]  # noqa: E731
        cpu0, t0 = (sw.cpu_split(), rsyslogd.cpu()), time.perf_counter()
        sent = send_stream(stream, port, rate)
        done, got = wait_for(count, stream.messages, procs)
        split = [a - b for a, b in zip(sw.cpu_split(), cpu0[0])]
        cpu = sum(split), rsyslogd.cpu() - cpu0[1], *split
        reader.close()
        rsyslogd.stop()
        sw.stop()
        if sw.p.returncode not in (0, -signal.SIGTERM):
            raise RuntimeError(f"stackwatch exited with {sw.p.returncode}: {sw.tail()}")
    finally:
        for p in reversed(procs):
            p.stop()
    result = {"seconds": None if done is None else done - t0, "sent": sent - t0, "notes": notes,
              "rate": None if done is None else stream.messages / (done - t0), "cpu": cpu}
    result.update(verify(db_path, stream.messages, meta))
    return result


def verify(db_path: Path, n: int, meta: list[tuple]) -> dict:
    """Every message stored once (one event per distinct time of the stream); a sample stored right."""
    from stackwatch.config import MetricsConfig
    from stackwatch.store.sqlite import open_store

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    lo, hi = meta[0][0] - 0.5, meta[-1][0] + 0.5
    total, distinct = conn.execute("SELECT count(*), count(DISTINCT ts) FROM events WHERE ts BETWEEN ? AND ?",
                                   (lo, hi)).fetchone()
    other = conn.execute("SELECT count(*) FROM events WHERE ts NOT BETWEEN ? AND ?", (lo, hi)).fetchone()[0]
    wrong, request_id = [], None
    for i in random.Random(7).sample(range(n), min(200, n)):
        ts, host, program, pid, level = meta[i]
        row = conn.execute("SELECT host, program, service, severity, raw, fields, request_id FROM events "
                           "WHERE ts = ?", (ts,)).fetchone()
        if row is None:
            wrong.append((i, "missing"))
        elif (row[:4] != (host, program, program.split("-")[0], level) or f'"pid":{pid}' not in row[5]
              or '"logger":' not in row[5] or not row[4].startswith("<")):
            wrong.append((i, row[:4]))
        request_id = request_id or (row and row[6])
    conn.close()
    traced = 0
    if request_id:
        store = open_store(db_path, MetricsConfig())
        traced = len(store.events.trace(request_id))
        store.close()
    return {"stored": total, "lost": n - distinct, "duplicates": total - distinct, "other": other,
            "wrong": wrong, "request_id": request_id, "traced": traced}


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="stackwatch-bench-ingest-"))
    try:
        t = time.perf_counter()
        messages, meta = generate(N, int(time.time()) - 7200)
        stream = write_stream(messages, tmp / "stream.bin")
        del messages
        print(f"stream: {stream.messages:,} messages ({stream.lines:,} lines: tracebacks in their record), "
              f"{stream.size / 1e6:.0f} MB, built in {time.perf_counter() - t:.1f} s", flush=True)
        base = run_files(tmp, stream)
        print(f"baseline, rsyslogd -> files: {stream.messages:,} lines in {base['seconds']:.2f} s = "
              f"{base['rate']:,.0f} lines/s (rsyslogd cpu {base['cpu']:.1f} s)", flush=True)
        status = 0
        for run in RUNS:
            protocol, _, paced = run.partition("@")
            rate = float(paced) if paced else None
            r = run_stackwatch(tmp, stream, meta, protocol, rate)
            ok = r["rate"] is not None and not r["lost"] and not r["duplicates"] and not r["wrong"] and r["traced"]
            how = f"paced at {rate:,.0f}/s" if rate else "all at once"
            if r["rate"] is None:
                print(f"{protocol} ({how}): STALLED with {r['stored']:,} of {stream.messages:,} stored", flush=True)
                status = 1
                continue
            meets = ok and r["rate"] >= TARGET * (0.98 if rate else 1)
            status = status or (0 if meets else 1)
            print(f"rsyslogd -> {protocol} -> stackwatch -> SQLite ({how}): {stream.messages:,} lines in "
                  f"{r['seconds']:.2f} s = {r['rate']:,.0f} lines/s = {r['rate'] / base['rate']:.3f} x the "
                  f"baseline; lost {r['lost']}, duplicated {r['duplicates']}; sample "
                  f"{'ok' if not r['wrong'] else r['wrong'][:3]}; trace {r['request_id']}: {r['traced']} event(s); "
                  f"sender done at {r['sent']:.1f} s; cpu stackwatch {r['cpu'][0]:.1f} s (main process "
                  f"{r['cpu'][2]:.1f} s, its log writer processes {r['cpu'][3]:.1f} s), rsyslogd {r['cpu'][1]:.1f} s; "
                  f"load average {os.getloadavg()[0]:.2f}  [target >= {TARGET:,} lines/s, 0 lost: {'meets' if meets else 'MISSES'}]",
                  flush=True)
            for note in r["notes"]:
                print(f"    generated config used {note}")
        return status
    finally:
        if os.environ.get("BENCH_KEEP"):
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
