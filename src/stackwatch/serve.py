"""`stackwatch serve`: the runtime and the web UI in one process, stopped cleanly by SIGTERM or Ctrl-C."""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys
import threading

from stackwatch.config import Config
from stackwatch.logs_runtime import LogInputError
from stackwatch.runtime import Runtime

log = logging.getLogger(__name__)


class ServeError(Exception):
    """The platform cannot start (port taken, database unusable...): one line for the operator."""


class _Stop(Exception):
    pass


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"cannot listen on {host}:{port}: address already in use") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def serve(config: Config, host: str, port: int, ready: threading.Event | None = None) -> None:
    from waitress.server import create_server

    from stackwatch.web import create_app

    sock = _bind(host, port)  # first, so a taken port is reported before anything else happens
    try:
        runtime = Runtime.build(config)
    except BaseException:
        sock.close()
        raise
    try:
        app = create_app(config, runtime.store, runtime.registry, clock=runtime.clock, events=runtime.events)
        server = create_server(app, sockets=[sock], threads=8, ident="stackwatch",
                               clear_untrusted_proxy_headers=True)
    except BaseException:
        sock.close()
        runtime.store.close()
        raise

    def stop(signum, _frame):
        raise _Stop(signal.Signals(signum).name)

    try:
        runtime.start()
    except LogInputError as exc:
        sock.close()
        runtime.stop()
        raise ServeError(str(exc)) from None
    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    print(f"stackwatch serving on http://{host}:{sock.getsockname()[1]}/ "
          f"(database {config.database_path}); logs: {runtime.logs.describe()}", file=sys.stderr, flush=True)
    if ready is not None:
        ready.set()
    try:
        server.run()
    except (_Stop, KeyboardInterrupt) as why:
        log.warning("stopping (%s)", why or "interrupt")
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        server.task_dispatcher.shutdown()  # let in-flight requests finish before the trigger closes
        server.close()
        runtime.stop()
        print("stackwatch stopped", file=sys.stderr, flush=True)
