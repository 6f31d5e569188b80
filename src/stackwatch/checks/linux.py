"""Readers of the Linux /proc and /sys files the built-in checks (and the host collector) judge.

Each reader takes the mount point of procfs or sysfs as a parameter, so tests can hand it a fake
tree. Stdlib only and cheap to import: `stackwatch-check` loads it on every run.
"""

from __future__ import annotations

import _thread
import os
import time

IFF_UP = 0x1
ARPHRD_LOOPBACK = 772
CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def meminfo(proc: str = "/proc") -> dict[str, int]:
    """/proc/meminfo in bytes, keyed as the file names them ("MemTotal", "SwapFree", ...)."""
    out = {}
    with open(f"{proc}/meminfo") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            fields = rest.split()
            if fields:
                out[key] = int(fields[0]) * (1024 if fields[1:] == ["kB"] else 1)
    return out


def cpu_times(proc: str = "/proc") -> dict[str, int]:
    """The aggregate "cpu" line of /proc/stat in clock ticks, keyed by CPU_FIELDS (guest time is
    already counted in user and nice, so it is left out)."""
    with open(f"{proc}/stat") as fh:
        for line in fh:
            if line.startswith("cpu "):
                values = [int(v) for v in line.split()[1:]]
                values += [0] * (len(CPU_FIELDS) - len(values))
                return dict(zip(CPU_FIELDS, values))
    raise ValueError(f"no aggregate cpu line in {proc}/stat")


class Process:
    """What check_procs filters on: the command name and the argument string as `ps` shows them."""

    __slots__ = ("pid", "comm", "args", "exe")

    def __init__(self, pid: int, comm: str, args: str, exe: str = ""):
        self.pid, self.comm, self.args, self.exe = pid, comm, args, exe

    def __repr__(self) -> str:
        return f"Process({self.pid}, {self.comm!r}, {self.args!r})"


def processes(proc: str = "/proc", exclude: frozenset[int] = frozenset(), with_exe: bool = False,
              max_age: float = 0.0) -> list[Process]:
    """Every process in `proc` except the pids in `exclude`; processes that exit while being read
    are skipped. A kernel thread has no command line, so its args are "[comm]" as ps shows them.
    The executable's path is read only `with_exe` (it costs a readlink per process).

    With `max_age` > 0 a scan of `proc` made at most that many seconds ago is reused (one scan shared
    by every procs check of a cycle, instead of one per check); callers that scan at the same moment
    wait for one scan rather than each making their own."""
    if max_age <= 0:
        return _scan(proc, exclude, with_exe)
    now = time.monotonic()
    with _SHARED_LOCK:
        lock = _SHARED_LOCKS.setdefault((proc, with_exe), _thread.allocate_lock())
    with lock:
        found = _fresh_scan(proc, with_exe, now, max_age)
        if found is None:
            found = _scan(proc, frozenset(), with_exe)
            _SHARED[(proc, with_exe)] = (time.monotonic(), found)
    return [p for p in found if p.pid not in exclude] if exclude else list(found)


_SHARED: dict[tuple[str, bool], tuple[float, list[Process]]] = {}   # (proc, with_exe) -> (when, scan)
_SHARED_LOCKS: dict[tuple[str, bool], object] = {}
_SHARED_LOCK = _thread.allocate_lock()


def _fresh_scan(proc: str, with_exe: bool, now: float, max_age: float) -> list[Process] | None:
    """A shared scan no older than `max_age` (one with executables serves a caller without)."""
    for key in ((proc, with_exe), (proc, True)):
        hit = _SHARED.get(key)
        if hit is not None and now - hit[0] <= max_age:
            return hit[1]
    return None


def _scan(proc: str, exclude: frozenset[int], with_exe: bool) -> list[Process]:
    out = []
    for entry in os.listdir(proc):
        if not entry.isdigit() or int(entry) in exclude:
            continue
        base = f"{proc}/{entry}"
        try:
            with open(f"{base}/comm", "rb") as fh:
                comm = fh.read().decode(errors="replace").rstrip("\n")
            with open(f"{base}/cmdline", "rb") as fh:
                raw = fh.read()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        args = raw.rstrip(b"\0").replace(b"\0", b" ").decode(errors="replace") or f"[{comm}]"
        exe = ""
        if with_exe:
            try:
                exe = os.readlink(f"{base}/exe")
            except OSError:  # kernel threads, other users' processes, exited processes
                pass
        out.append(Process(int(entry), comm, args, exe))
    return out


def interfaces(sysfs: str = "/sys") -> list[str]:
    """Network interface names, sorted."""
    return sorted(os.listdir(f"{sysfs}/class/net"))


def is_loopback(name: str, sysfs: str = "/sys") -> bool:
    try:
        return _read_int(f"{sysfs}/class/net/{name}/type", 10) == ARPHRD_LOOPBACK
    except OSError:
        return name == "lo"


def admin_up(name: str, sysfs: str = "/sys") -> bool:
    """Whether the administrator has brought `name` up (`ip link set NAME up`: the IFF_UP flag)."""
    try:
        return bool(_read_int(f"{sysfs}/class/net/{name}/flags", 16) & IFF_UP)
    except OSError:
        return False


def link_up(name: str, sysfs: str = "/sys") -> bool | None:
    """Whether interface `name` is up as `ip a` shows it: the IFF_UP flag is set and the operational
    state is "up" ("unknown" counts as up: loopback and some virtual devices never report one).
    None when there is no such interface."""
    base = f"{sysfs}/class/net/{name}"
    try:
        flags = _read_int(f"{base}/flags", 16)
        with open(f"{base}/operstate") as fh:
            operstate = fh.read().strip()
    except FileNotFoundError:
        return None
    return bool(flags & IFF_UP) and operstate in ("up", "unknown")


def _read_int(path: str, base: int) -> int:
    with open(path) as fh:
        return int(fh.read().strip(), base)
