"""`stackwatch serve`: the runtime and the web UI in one process, stopped cleanly by SIGTERM or Ctrl-C."""

from __future__ import annotations

import errno
import logging
import signal
import sys
import threading

from stackwatch.config import Config
from stackwatch.runtime import Runtime

log = logging.getLogger(__name__)


class ServeError(Exception):
    """The platform cannot start (port taken, database unusable...): one line for the operator."""


class _Stop(Exception):
    pass


def serve(config: Config, host: str, port: int, ready: threading.Event | None = None) -> None:
    from waitress.server import create_server

    from stackwatch.web import create_app

    runtime = Runtime.build(config)
    try:
        app = create_app(config, runtime.store, runtime.registry, clock=runtime.clock)
        try:
            server = create_server(app, host=host, port=port, threads=8, ident="stackwatch",
                                   clear_untrusted_proxy_headers=True)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ServeError(f"cannot listen on {host}:{port}: address already in use") from None
            raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    except BaseException:
        runtime.store.close()
        raise

    def stop(signum, _frame):
        raise _Stop(signal.Signals(signum).name)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGINT)}
    runtime.start()
    print(f"stackwatch serving on http://{host}:{server.effective_port}/ "
          f"(database {config.database_path})", file=sys.stderr, flush=True)
    if ready is not None:
        ready.set()
    try:
        server.run()
    except (_Stop, KeyboardInterrupt) as why:
        log.warning("stopping (%s)", why or "interrupt")
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        server.close()
        runtime.stop()
        print("stackwatch stopped", file=sys.stderr, flush=True)
