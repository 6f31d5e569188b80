"""What a collector is: something with a `name` whose `collect(now)` returns the samples it read,
all stamped `now` (seconds since the epoch, passed in: collectors never read the clock).

collect() must not raise for a partial failure: it returns what it could read, logs the rest and
reports `stackwatch_collector_up{collector=...}` 0 (1 when everything was read).
"""

from __future__ import annotations

from stackwatch.model import Kind, Sample, SeriesKey


class Collector:
    name = ""

    def collect(self, now: float) -> list[Sample]:
        raise NotImplementedError


class SampleList(list):
    """Samples of one collection: they share a timestamp and constant labels (e.g. host)."""

    def __init__(self, now: float, labels: dict[str, str]):
        super().__init__()
        self.now, self.labels = now, labels

    def add(self, name: str, value: float, help: str, kind: Kind = Kind.GAUGE, **labels: str) -> None:
        key = SeriesKey.of(name, {**self.labels, **labels})
        self.append(Sample(key, self.now, float(value), kind, help))


def up_sample(collector: str, now: float, ok: bool, labels: dict[str, str]) -> Sample:
    return Sample(SeriesKey.of("stackwatch_collector_up", {**labels, "collector": collector}), now,
                  1.0 if ok else 0.0, Kind.GAUGE, "1 when the collector read everything it reads, else 0")
