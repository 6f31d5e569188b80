"""The OpenStack and infrastructure checks as NRPE runs them (`stackwatch-check NAME` spawned per run) and as
the scheduler runs them (one instance, in-process), as ratios against `stackwatch-check disk` spawned in the
same run (the skeleton's NRPE baseline).

Local checks run on generated trees: `backup` (30 dumps), `console-log` (200 instance directories),
`amqp-log` (6 oslo.log files of 8 MB, 4 MB read from the end of each), `rabbitmq` against a loopback HTTP
server answering a real captured management API (tests/fixtures/rabbitmq). With the OpenStack lab's openrc
readable (/etc/openstack-lab/openrc) `os-compute-services` is also timed: spawned (a fresh token and version
discovery each run) against in-process (the session kept between runs, as in `serve`).
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from stackwatch.checks import get_check

RUNS = max(5, int(20 * float(os.environ.get("BENCH_SCALE", "1"))))
ROOT = Path(__file__).resolve().parents[1]
SCRIPT = str(Path(sys.executable).with_name("stackwatch-check"))
OPENRC = Path("/etc/openstack-lab/openrc")


def spawn_median(args: list[str], env=None, runs: int = RUNS) -> float:
    subprocess.run([SCRIPT, *args], capture_output=True, env=env)  # warm the page cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        proc = subprocess.run([SCRIPT, *args], capture_output=True, text=True, env=env)
        times.append(time.perf_counter() - t0)
    if proc.returncode == 3:
        print(f"  note: {args[0]} said {proc.stdout.strip()[:120]}")
    return statistics.median(times)


def in_process_median(name: str, runs: int = RUNS, **options) -> float:
    plugin = get_check(name)
    check = plugin(plugin.Options(**options))
    check.run()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        check.run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def trees(tmp: Path) -> dict[str, list[str]]:
    now = time.time()
    dumps = tmp / "dumps"
    dumps.mkdir()
    for i in range(30):
        p = dumps / f"openstack-{i:02d}.sql.gz"
        p.write_bytes(b"x" * 1024)
        os.utime(p, (now - i * 86400, now - i * 86400))
    inst = tmp / "instances"
    for i in range(200):
        (inst / f"{i:08x}-0000-4000-8000-000000000000").mkdir(parents=True)
        (inst / f"{i:08x}-0000-4000-8000-000000000000" / "console.log").write_bytes(b"boot\n" * 100)
    logs = tmp / "logs"
    logs.mkdir()
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now - 30))
    line = f"{stamp}.123 4242 INFO nova.compute.manager [req-1 - - - - -] [instance: abc] Took 1.2 seconds\n"
    for name in ("nova-api", "nova-compute", "nova-conductor", "nova-scheduler", "cinder-volume", "neutron-server"):
        (logs / f"{name}.log").write_text(line * (8 * 1024 * 1024 // len(line)))
    return {"backup": ["-d", str(dumps), "-p", "*.sql.gz"],
            "console-log": ["-d", str(inst)],
            "amqp-log": ["-f", f"{logs}/*.log"]}


def fake_management() -> tuple[str, ThreadingHTTPServer]:
    fixtures = ROOT / "tests" / "fixtures" / "rabbitmq"
    routes = {"/api/queues": (fixtures / "queues-3.5.1.json").read_bytes(),
              "/api/nodes": (fixtures / "nodes-3.7.0.json").read_bytes(),
              "/api/overview": (fixtures / "overview-3.7.0.json").read_bytes()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            body = routes.get(self.path.split("?", 1)[0], b"{}")
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def lab_env() -> dict[str, str] | None:
    try:
        text = OPENRC.read_text()
    except OSError:
        return None
    env = dict(os.environ)
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        for w in words[1:] if words[:1] == ["export"] else words:
            key, sep, value = w.partition("=")
            if sep:
                env[key] = value
    return env


def main() -> int:
    import compileall

    import stackwatch
    compileall.compile_dir(Path(stackwatch.__file__).parent, quiet=1)
    base = spawn_median(["disk", "-p", "/"])
    print(f"baseline: stackwatch-check disk spawned, median {base * 1000:.1f} ms ({RUNS} runs)")
    with tempfile.TemporaryDirectory() as tmp:
        args = trees(Path(tmp))
        url, server = fake_management()
        env = dict(os.environ, STACKWATCH_RABBITMQ_USER="monitor", STACKWATCH_RABBITMQ_PASSWORD="pw")
        args["rabbitmq"] = ["-u", url]
        args = {name: [name, *argv] for name, argv in args.items()}
        for name, argv in args.items():
            spawned = spawn_median(argv, env=env if name == "rabbitmq" else None)
            print(f"{name:12s} spawned {spawned / base:5.2f}x the baseline ({spawned * 1000:.1f} ms)")
        os.environ.update(STACKWATCH_RABBITMQ_USER="monitor", STACKWATCH_RABBITMQ_PASSWORD="pw")
        for name, options in (("backup", {"directory": args["backup"][2], "pattern": "*.sql.gz"}),
                              ("console-log", {"directory": args["console-log"][2]}),
                              ("amqp-log", {"files": args["amqp-log"][2]}), ("rabbitmq", {"url": url})):
            inproc = in_process_median(name, **options)
            print(f"{name:12s} in-process {inproc / base:5.3f}x the baseline ({inproc * 1000:.2f} ms)")
        server.shutdown()
    env = lab_env()
    if env is None:
        print("os-compute-services: skipped (no OpenStack lab openrc)")
        return 0
    runs = max(3, RUNS // 4)
    spawned = spawn_median(["os-compute-services"], env=env, runs=runs)
    os.environ.update({k: v for k, v in env.items() if k.startswith("OS_")})
    inproc = in_process_median("os-compute-services", runs=runs)
    print(f"os-compute-services (lab) spawned {spawned / base:5.1f}x the baseline ({spawned * 1000:.0f} ms), "
          f"in-process with its session kept {inproc / base:5.1f}x ({inproc * 1000:.0f} ms): "
          f"keeping the session saves {spawned / inproc:.1f}x")
    return 0


if __name__ == "__main__":
    import warnings

    warnings.simplefilter("ignore")
    sys.exit(main())
