"""An Elasticsearch-compatible server for the event-store tests, and a proxy that misbehaves on demand.

`EsServer` starts noida-db (PyPI `noida-db`, in the `test` extra), a small single-node server speaking the
Elasticsearch 8 REST API. It is a stand-in for Elasticsearch used in tests only, not what production runs.
The binary ships inside the package (`noida_db/noida-db`); it is started directly, in the foreground, so
terminating our child stops it (the `noida-db` console script would put a Python wrapper in between):

    noida_db/noida-db start --only elasticsearch --host 127.0.0.1 --elasticsearch-port PORT --data-dir DIR

`FlakyProxy` sits between a store and the server to answer 429/503 like a loaded or restarting cluster.
"""

from __future__ import annotations

import http.client
import importlib.util
import json
import os
import socket
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


def noida_binary() -> Path | None:
    """The server binary inside the installed noida-db package, or None when it is not installed."""
    spec = importlib.util.find_spec("noida_db")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / ("noida-db.exe" if os.name == "nt" else "noida-db")
    return path if path.is_file() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status == 200
    except OSError:
        return False


class EsServer:
    """noida-db on a free 127.0.0.1 port with its data in `data_dir`; use as a context manager."""

    def __init__(self, binary: Path, data_dir: Path, start_timeout: float = 30.0):
        self.binary, self.data_dir, self.start_timeout = binary, Path(data_dir), start_timeout
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def command(self, port: int) -> list[str]:
        return [str(self.binary), "start", "--only", "elasticsearch", "--host", "127.0.0.1",
                "--elasticsearch-port", str(port), "--data-dir", str(self.data_dir)]

    def start(self) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not os.access(self.binary, os.X_OK):
            self.binary.chmod(0o755)          # wheels do not always keep the exec bit
        for _attempt in range(3):             # the free port may be taken between probe and bind
            port = free_port()
            log = (self.data_dir / "server.log").open("ab")
            self.proc = subprocess.Popen(self.command(port), stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
            log.close()
            self.url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + self.start_timeout
            while time.monotonic() < deadline and self.proc.poll() is None:
                if answers(self.url):
                    return self.url
                time.sleep(0.1)
            self.stop()
        raise RuntimeError(f"noida-db did not answer on {self.url}: {self.log_tail()}")

    def log_tail(self) -> str:
        path = self.data_dir / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class FlakyProxy:
    """Forwards to `upstream`; `fail_bulk(n, status)` makes the next n `_bulk` requests fail with `status`,
    `down = True` makes every request answer 503. Counts the `_bulk` requests it saw in `bulk_requests`."""

    def __init__(self, upstream: str):
        self.upstream = upstream.removeprefix("http://")
        self.down = False
        self.bulk_requests = 0
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def fail_bulk(self, n: int, status: int = 429) -> None:
        with self._lock:
            self._failures.extend([status] * n)

    def _verdict(self, path: str) -> int | None:
        with self._lock:
            if "/_bulk" in path:
                self.bulk_requests += 1
                if self._failures:
                    return self._failures.pop(0)
            return 503 if self.down else None

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = proxy._verdict(self.path)
                if status is not None:
                    payload = json.dumps({"error": {"type": "es_rejected_execution_exception",
                                                    "reason": "simulated by FlakyProxy"}, "status": status})
                    return self._reply(status, [("Content-Type", "application/json")], payload.encode())
                conn = http.client.HTTPConnection(proxy.upstream, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                conn.request(self.command, self.path, body=body or None, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                keep = [(k, v) for k, v in resp.getheaders()
                        if k.lower() not in ("transfer-encoding", "connection", "content-length")]
                self._reply(resp.status, keep, data)

            def _reply(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
                self.send_response(status)
                sent = {k.lower() for k, _ in headers}
                for k, v in headers:
                    self.send_header(k, v)
                if "x-elastic-product" not in sent:
                    self.send_header("X-Elastic-Product", "Elasticsearch")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        return Handler

    def __enter__(self) -> FlakyProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
