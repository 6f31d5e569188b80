"""The usage fields of a notification: the image, the instance's launch, deletion and termination times,
the audit period and the flavor's sizes, which the usage audit and the lifecycle read.

Pure: stdlib only. `notification.decode` fills them unless told not to (the capture path, whose archive
row does not hold them: they are decoded again from the raw body when read back).
"""

from __future__ import annotations

from typing import Any

from stackwatch.stacktach.times import integer, parse_time, text

NO_USAGE: dict[str, Any] = dict.fromkeys(("image", "launched_at", "deleted_at", "terminated_at",
                                          "audit_period_beginning", "audit_period_ending", "vcpus", "memory_mb",
                                          "root_gb"))


def usage_fields(p: dict, name: str, flavor: dict) -> dict[str, Any]:
    """The usage fields of a (flattened) payload `p`, given the normalized name and the payload's flavor."""
    audit = p.get("audit_period") if isinstance(p.get("audit_period"), dict) else {}
    return {
        "image": _image(p, name),
        "launched_at": parse_time(p.get("launched_at")),
        "deleted_at": parse_time(p.get("deleted_at")),
        "terminated_at": parse_time(p.get("terminated_at")),
        "audit_period_beginning": parse_time(p.get("audit_period_beginning") or audit.get("audit_period_beginning")),
        "audit_period_ending": parse_time(p.get("audit_period_ending") or audit.get("audit_period_ending")),
        "vcpus": _first(integer, p.get("vcpus"), flavor.get("vcpus")),
        "memory_mb": _first(integer, p.get("memory_mb"), flavor.get("memory_mb")),
        "root_gb": _first(integer, p.get("root_gb"), flavor.get("root_gb")),
    }


def _first(convert, *values):
    for value in values:
        converted = convert(value)
        if converted is not None:
            return converted
    return None


def _image(p: dict, name: str) -> str | None:
    meta = p.get("image_meta") if isinstance(p.get("image_meta"), dict) else {}
    url = text(p.get("image_ref_url"))
    from_url = (url.rstrip("/").rpartition("/")[2] or None) if url else None
    found = (text(p.get("image_uuid")) or text(meta.get("base_image_ref")) or text(from_url)
             or text(p.get("image_ref")))
    if found is None and name.startswith("image."):           # glance: the payload is the image
        found = text(p.get("id"))
    return found
