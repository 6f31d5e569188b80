"""Why a check could not judge: `ProbeError` and the plugin base class of checks that ask something
outside this process (an API, a broker, files) and must turn every failure into one UNKNOWN line.

`ProbingCheck.run()` never raises: a ProbeError becomes UNKNOWN with its message, any other exception
UNKNOWN with its type and message, both squeezed into one line. The adapters (openstack_api,
rabbitmq_api) raise ProbeError with a reason an operator can act on ("cannot connect to ...",
"HTTP 500 from ...", "malformed JSON from ...").

Pure: stdlib only.
"""

from __future__ import annotations

from stackwatch.checks.base import CheckPlugin
from stackwatch.checks.core import CheckOutcome, unknown


class ProbeError(Exception):
    """The probe could not get the facts; str() is one line for the status line."""


def one_line(text: object, limit: int = 300) -> str:
    """`text` as one trimmed line, fit for a status line."""
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class ProbingCheck(CheckPlugin):
    """A check whose probe asks something outside this process: every failure is UNKNOWN, one line."""

    def run(self) -> CheckOutcome:
        try:
            facts = self.probe()
        except ProbeError as exc:
            return unknown(one_line(exc))
        except Exception as exc:
            return unknown(one_line(f"{type(exc).__name__}: {exc}"))
        try:
            return self.evaluate(facts)
        except Exception as exc:  # a bug or facts of an unexpected shape: still UNKNOWN, never a traceback
            return unknown(one_line(f"cannot judge: {type(exc).__name__}: {exc}"))
