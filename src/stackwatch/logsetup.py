"""Configure stdlib logging once, for the long-running commands: one line per record on stderr."""

from __future__ import annotations

import logging


def configure(verbose: int = 0) -> None:
    level = logging.DEBUG if verbose > 1 else logging.INFO if verbose == 1 else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    logging.getLogger("stackwatch").setLevel(min(level, logging.INFO))
    for noisy in ("apscheduler", "waitress.queue"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
