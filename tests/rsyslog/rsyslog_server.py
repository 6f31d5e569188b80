"""Test helper: a real rsyslogd run in the foreground from a temporary directory (its own config, work
directory, spool, pid file and log socket), fed through an imuxsock socket as syslog(3) would, and
stopped with SIGTERM. Never touches /etc/rsyslog.conf or /dev/log."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

FACILITIES = {"user": 1, "daemon": 3, **{f"local{i}": 16 + i for i in range(8)}}
SEVERITIES = {"emerg": 0, "alert": 1, "crit": 2, "err": 3, "warning": 4, "notice": 5, "info": 6, "debug": 7}


def need(program: str) -> str:
    """A program the test needs: skipped on a laptop without it, a failure in CI."""
    path = shutil.which(program) or next((p for p in (f"/usr/sbin/{program}", f"/usr/bin/{program}")
                                          if os.path.exists(p)), None)
    if path:
        return path
    if os.environ.get("CI"):
        pytest.fail(f"CI must provide {program} (apt-get install rsyslog rsyslog-relp rsyslog-gnutls)")
    pytest.skip(f"{program} not installed")


def check_config(path: Path) -> subprocess.CompletedProcess:
    """`rsyslogd -N1 -f FILE`: rsyslog's own config validation."""
    return subprocess.run([need("rsyslogd"), "-N1", "-f", str(path)], capture_output=True, text=True, timeout=60)


class Rsyslogd:
    """`rsyslogd -n -f DIR/rsyslog.conf -i DIR/rsyslogd.pid` with `body` (a generated rsyslog.d file)."""

    def __init__(self, directory: Path, body: str):
        self.dir = directory
        self.work = directory / "work"
        self.socket = str(directory / "log.sock")
        self.conf = directory / "rsyslog.conf"
        self.pidfile = directory / "rsyslogd.pid"
        self.output = directory / "rsyslogd.out"
        self.body = body
        self.proc: subprocess.Popen | None = None
        self.command: list[str] = []

    def start(self) -> "Rsyslogd":
        if self.proc is not None and self.proc.poll() is None:
            raise RuntimeError("rsyslogd is already running")
        self.work.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(
            f'global(workDirectory="{self.work}" maxMessageSize="64k")\n'
            'module(load="imuxsock" SysSock.Use="off")\n'
            f'input(type="imuxsock" Socket="{self.socket}" RateLimit.Interval="0")\n'
            + self.body)
        self.command = [need("rsyslogd"), "-n", "-f", str(self.conf), "-i", str(self.pidfile)]
        with self.output.open("ab") as out:
            self.proc = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while not os.path.exists(self.socket):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rsyslogd did not start: {self.output.read_text(errors='replace')}")
            time.sleep(0.05)
        return self

    def send(self, tag: str, text: str, facility: str = "local0", severity: str = "err") -> None:
        """One message into the imuxsock socket, as syslog(3) writes it."""
        pri = FACILITIES[facility] * 8 + SEVERITIES[severity]
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
            s.sendto(f"<{pri}>{tag}: {text}".encode(), self.socket)

    def logger(self, tag: str, text: str, priority: str = "local0.err") -> list[str]:
        """The same through util-linux logger(1); returns the command line used."""
        cmd = [need("logger"), "--socket", self.socket, "-p", priority, "-t", tag, text]
        subprocess.run(cmd, check=True, timeout=30)
        return cmd

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
        if os.path.exists(self.socket):
            os.unlink(self.socket)

    def __enter__(self) -> "Rsyslogd":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
