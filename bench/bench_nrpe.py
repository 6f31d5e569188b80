"""A check through real NRPE, as a Nagios server runs it: check_nrpe -> Debian's nrpe -> the command
`stackwatch nrpe-config` generated (`stackwatch-check disk -p / -w 20% -c 10%`), against the same path
ending in Debian's check_disk (the baseline), measured in the same run, interleaved. Target: <= 25 ms median.

Both NRPE modes are measured: TLS (Debian's default) and plain (-n). With TLS, Debian's nrpe 4.1 writes its
answer and then the TLS close_notify as two small segments without TCP_NODELAY, so Nagle holds the second
until check_nrpe's delayed ACK (~40 ms on Linux; seen with strace: check_nrpe's read of the close_notify
blocks ~41 ms). That stall is NRPE's, the same for every command, check_disk included.

NRPE refuses to run as root: run as root, this starts it as the `nagios` user, and when that user cannot
execute this venv's interpreter (e.g. a pyenv Python under /root) stackwatch-check is started by a
launcher doing what the console script does (same package, same site-packages) under Debian's python3.
"""

from __future__ import annotations

import compileall
import os
import shutil
import site
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import stackwatch
from stackwatch.config import build_config
from stackwatch.nagios import nrpe

RUNS = max(20, int(60 * float(os.environ.get("BENCH_SCALE", "1"))))
NRPE = "/usr/sbin/nrpe"
CHECK_NRPE = "/usr/lib/nagios/plugins/check_nrpe"
CHECK_DISK = "/usr/lib/nagios/plugins/check_disk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_program(user: str | None, shared: Path) -> tuple[str, str]:
    script = str(Path(sys.executable).with_name("stackwatch-check"))
    if user is None or subprocess.run(["runuser", "-u", user, "--", script, "--list"],
                                      capture_output=True).returncode == 0:
        return script, "this venv's console script"
    launcher = shared / "stackwatch-check"
    paths = [str(Path(stackwatch.__file__).resolve().parents[1]), *site.getsitepackages()]
    launcher.write_text(f"#!/usr/bin/python3 -S\nimport sys\nsys.path[:0] = {paths!r}\n"
                        "from stackwatch.checks.runner import main\nsys.exit(main())\n")
    launcher.chmod(0o755)
    return str(launcher), f"a launcher under /usr/bin/python3 ({user} cannot run {sys.executable})"


def _spawn(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True)
    return time.perf_counter() - t0


def _wait_listening(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("nrpe did not start listening") from None
            time.sleep(0.05)


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def main() -> int:
    missing = [p for p in (NRPE, CHECK_NRPE, CHECK_DISK) if not os.path.exists(p)]
    if missing:
        print(f"not installed: {', '.join(missing)} (apt-get install nagios-nrpe-server nagios-nrpe-plugin "
              "monitoring-plugins-basic): nothing measured")
        return 0
    compileall.compile_dir(Path(stackwatch.__file__).parent, quiet=1)  # as pip would; nrpe's user cannot write
    user = "nagios" if os.geteuid() == 0 else None
    shared = Path(tempfile.mkdtemp(prefix="sw-bench-nrpe-"))
    shared.chmod(0o755)
    try:
        program, how = check_program(user, shared)
        cfg = build_config({"data_dir": str(shared / "data"), "hostname": "bench",
                            "inventory": {"hosts": [{"name": "bench", "address": "127.0.0.1", "roles": []}]},
                            "checks": {"host": [{"type": "disk", "name": "disk-root",
                                                 "options": {"path": "/", "warning": "20%", "critical": "10%"}}]},
                            "nagios": {"server": "127.0.0.1"}}, shared / "config.yaml", environ={})
        commands = nrpe.render(cfg, cfg.inventory.host("bench"), program)
        commands += f"command[baseline_check_disk]=exec {CHECK_DISK} -w 20% -c 10% -p /\n"
        (shared / "stackwatch.cfg").write_text(commands)
        port = free_port()
        lines = [f"pid_file={shared / 'nrpe.pid'}", "server_address=127.0.0.1", f"server_port={port}",
                 "command_timeout=60", f"include={shared / 'stackwatch.cfg'}"]
        if user:
            lines += [f"nrpe_user={user}", f"nrpe_group={user}"]
        (shared / "nrpe.cfg").write_text("\n".join(lines) + "\n")
        for f in shared.iterdir():
            f.chmod(0o755 if f.is_dir() or f.name == "stackwatch-check" else 0o644)
        print(f"stackwatch-check: {program} ({how}); {RUNS} runs of each, interleaved")
        direct_ours = [_spawn([program, "disk", "-p", "/", "-w", "20%", "-c", "10%"]) for _ in range(RUNS)]
        direct_theirs = [_spawn([CHECK_DISK, "-w", "20%", "-c", "10%", "-p", "/"]) for _ in range(RUNS)]
        print(f"spawned directly: stackwatch-check disk median {median_ms(direct_ours):.1f} ms, "
              f"check_disk {median_ms(direct_theirs):.1f} ms")
        venv_script = str(Path(sys.executable).with_name("stackwatch-check"))
        if program != venv_script:
            direct_venv = [_spawn([venv_script, "disk", "-p", "/", "-w", "20%", "-c", "10%"]) for _ in range(RUNS)]
            print(f"  (this venv's own console script, spawned directly by {os.environ.get('USER', 'this user')}: "
                  f"median {median_ms(direct_venv):.1f} ms)")
        for mode, flags in (("TLS (Debian's default)", []), ("plain (nrpe -n, check_nrpe -n)", ["-n"])):
            proc = subprocess.Popen([NRPE, "-c", str(shared / "nrpe.cfg"), "-f", *flags])
            try:
                _wait_listening(port, proc)

                def run(command: str) -> float:
                    return _spawn([CHECK_NRPE, "-H", "127.0.0.1", "-p", str(port), *flags]
                                  + (["-c", command] if command else []))

                answer = subprocess.run([CHECK_NRPE, "-H", "127.0.0.1", "-p", str(port), *flags, "-c",
                                         "sw_disk_root"], capture_output=True, text=True)
                if not answer.stdout.startswith("DISK "):
                    raise RuntimeError(f"sw_disk_root through NRPE answered {answer.stdout!r} (exit {answer.returncode})")
                bare, ours, theirs = [], [], []
                for _ in range(RUNS):
                    ours.append(run("sw_disk_root"))
                    theirs.append(run("baseline_check_disk"))
                    bare.append(run(""))
            finally:
                proc.terminate()
                proc.wait(10)
            o, t, b = median_ms(ours), median_ms(theirs), median_ms(bare)
            print(f"NRPE {mode}: sw_disk_root answers {answer.stdout.strip()!r} (exit {answer.returncode})")
            print(f"  check_nrpe -> nrpe, no command (its version):  median {b:.1f} ms")
            print(f"  check_nrpe -> nrpe -> check_disk (baseline):   median {t:.1f} ms")
            print(f"  check_nrpe -> nrpe -> stackwatch-check disk:   median {o:.1f} ms  [target: <= 25 ms] "
                  f"{'met' if o <= 25 else 'NOT met'}")
            print(f"  ratio to the baseline {o / t:.2f}x; above NRPE's own round trip: ours +{o - b:.1f} ms, "
                  f"check_disk +{t - b:.1f} ms")
        return 0
    finally:
        shutil.rmtree(shared, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
