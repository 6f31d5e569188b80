"""When the outbox tries a delivery again and when it gives up: exponential backoff with jitter, a
maximum number of attempts and a maximum age.

Pure: stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """When to try again and when to give up (pure)."""

    max_attempts: int = 12
    max_age: float = 86400.0          # give up on a notification made longer ago than this
    initial_backoff: float = 10.0
    max_backoff: float = 600.0
    jitter: float = 0.2               # each delay is scaled by a random factor in [1 - jitter, 1 + jitter]

    def delay(self, attempts: int, rnd: float) -> float:
        """Seconds to wait after the `attempts`-th failed attempt; `rnd` uniform in [0, 1)."""
        base = min(self.max_backoff, self.initial_backoff * 2 ** max(0, attempts - 1))
        return base * (1 - self.jitter + 2 * self.jitter * rnd)

    def gives_up(self, attempts: int, age: float) -> str:
        """Why to stop retrying after `attempts` failed attempts on a notification `age` seconds old."""
        if attempts >= self.max_attempts:
            return f"gave up after {attempts} attempts"
        if age >= self.max_age:
            return f"gave up: notification older than {self.max_age:g}s"
        return ""
