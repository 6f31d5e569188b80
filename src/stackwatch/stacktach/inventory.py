"""The event-driven inventory of volumes and images: the archive's cinder `volume.*` and glance `image.*`
notifications, oldest first, folded into what exists now, and that as gauges for the trend store (to be
reconciled with the API polls of the collectors, which publish `stackwatch_openstack_volumes` and friends).

- A volume exists from its first notification until `volume.delete.end`; its status, size (GB), tenant and
  host are the latest ones seen (`volume.create.end` available, `volume.attach.end` in-use, `volume.resize.end`
  the new size, `volume.delete.start` deleting...). A volume that failed to create stays, in status error,
  until it is deleted, as in cinder.
- An image exists from `image.create` until `image.delete` (or a `deleted` status); status and size (bytes,
  null while queued) are the latest seen.

Gauges: `stackwatch_notification_volumes` and `stackwatch_notification_volume_gb` per {status, tenant, host},
`stackwatch_notification_images` and `stackwatch_notification_image_bytes` per {status}.

Pure: stdlib only, `now` passed in.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from typing import Iterable

from stackwatch.model import Kind, Sample, SeriesKey
from stackwatch.stacktach.archive import ResourceEvent

_VOLUME_GONE = ("volume.delete.end",)
_IMAGE_GONE = ("image.delete",)


@dataclass(frozen=True, slots=True)
class Resource:
    id: str
    status: str
    size: float | None
    tenant: str
    host: str
    since: float                 # first seen
    updated: float               # last notification


def current(events: Iterable[ResourceEvent], gone_names: tuple[str, ...], gone_states: tuple[str, ...] = ()
            ) -> dict[str, Resource]:
    """Resources that exist after `events` (oldest first), each with its latest known attributes."""
    out: dict[str, Resource] = {}
    for e in events:
        if e.name in gone_names or (e.state or "").lower() in gone_states:
            out.pop(e.resource_id, None)
            continue
        was = out.get(e.resource_id)
        if was is None:
            out[e.resource_id] = Resource(e.resource_id, e.state or "unknown", e.size, e.tenant_id or "unknown",
                                          e.host or "unknown", e.ts, e.ts)
        else:
            out[e.resource_id] = replace(was, status=e.state or was.status,
                                         size=e.size if e.size is not None else was.size,
                                         tenant=e.tenant_id or was.tenant, host=e.host or was.host, updated=e.ts)
    return out


def volumes(events: Iterable[ResourceEvent]) -> dict[str, Resource]:
    return current(events, _VOLUME_GONE)


def images(events: Iterable[ResourceEvent]) -> dict[str, Resource]:
    return current(events, _IMAGE_GONE, ("deleted",))


def volume_samples(vols: Iterable[Resource], now: float) -> list[Sample]:
    count: dict[tuple, int] = defaultdict(int)
    gb: dict[tuple, float] = defaultdict(float)
    for v in vols:
        key = (v.status, v.tenant, v.host)
        count[key] += 1
        gb[key] += v.size or 0.0
    out = []
    for (status, tenant, host), n in sorted(count.items()):
        labels = {"status": status, "tenant": tenant, "host": host}
        out.append(Sample(SeriesKey.of("stackwatch_notification_volumes", labels), now, float(n), Kind.GAUGE,
                          "Volumes in existence per status, tenant and host, from cinder notifications"))
        out.append(Sample(SeriesKey.of("stackwatch_notification_volume_gb", labels), now,
                          gb[(status, tenant, host)], Kind.GAUGE,
                          "Gigabytes of volumes per status, tenant and host, from cinder notifications"))
    return out


def image_samples(imgs: Iterable[Resource], now: float) -> list[Sample]:
    count: dict[str, int] = defaultdict(int)
    size: dict[str, float] = defaultdict(float)
    for i in imgs:
        count[i.status] += 1
        size[i.status] += i.size or 0.0
    out = []
    for status, n in sorted(count.items()):
        out.append(Sample(SeriesKey.of("stackwatch_notification_images", {"status": status}), now, float(n),
                          Kind.GAUGE, "Images per status, from glance notifications"))
        out.append(Sample(SeriesKey.of("stackwatch_notification_image_bytes", {"status": status}), now,
                          size[status], Kind.GAUGE, "Bytes of images per status, from glance notifications"))
    return out


def with_vanished(samples: list[Sample], previous: set[SeriesKey], now: float) -> tuple[list[Sample], set[SeriesKey]]:
    """`samples` plus a 0 for every series written last time and absent now (the last volume in `creating`
    became `available`: `creating` must drop to 0, not keep its last value); and the keys to remember."""
    keys = {s.key for s in samples}
    gone = [Sample(k, now, 0.0, Kind.GAUGE) for k in sorted(previous - keys, key=str)]
    return samples + gone, keys
