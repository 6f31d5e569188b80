"""Sizes with units ("500MB", "2G") and free-space thresholds ("20%" or "500MB") the way
check_disk and check_swap read their -w/-c arguments.

Units are binary, as check_disk's: k = 1024, M = 1024², G = 1024³ (kB, KiB, MB, MiB... alike).
Pure: stdlib only.
"""

from __future__ import annotations

MIB = 1024 * 1024
_UNITS = {"": 1, "k": 1024, "m": MIB, "g": 1024 ** 3, "t": 1024 ** 4, "p": 1024 ** 5}


def parse_size(text: str | int | float, default_unit: str = "MB") -> int:
    """Bytes in `text`: a number with an optional unit (B, k/kB/KiB, M/MB/MiB, G, T, P);
    a bare number is in `default_unit`. Raises ValueError on anything else."""
    spec = str(text).strip()
    cut = len(spec)
    while cut and not (spec[cut - 1].isdigit() or spec[cut - 1] == "."):
        cut -= 1
    number, unit = spec[:cut], spec[cut:].strip() or default_unit
    factor = _unit_factor(unit)
    plain = number.replace(".", "", 1)
    value = float(number) if plain.isdigit() and plain.isascii() else -1.0  # no signs, exponents, nan
    if factor is None or value < 0:
        raise ValueError(f"not a size: {text!r} (use e.g. 500MB, 2G, 100kB; a bare number is {default_unit})")
    return round(value * factor)


def _unit_factor(unit: str) -> int | None:
    u = unit.lower()
    if u in ("b", ""):
        return 1
    if u.endswith("ib"):
        u = u[:-2]
    elif u.endswith("b"):
        u = u[:-1]
    return _UNITS.get(u) if len(u) == 1 else None


def format_mib(n_bytes: float) -> str:
    """Whole MiB, rounded down as check_disk prints them."""
    return str(int(n_bytes // MIB))


class FreeThreshold:
    """A limit on free space: a percentage of the capacity ("20%") or an amount ("500MB").

    The alert is raised when free space is at or below the limit, as check_disk's "-w 20%"
    (internally the Nagios range "@20" on the free percentage).
    """

    __slots__ = ("text", "percent", "bytes")

    def __init__(self, text: str, percent: float | None = None, bytes: int | None = None):
        self.text, self.percent, self.bytes = text, percent, bytes

    @classmethod
    def parse(cls, text: str | int | float, default_unit: str = "MB") -> FreeThreshold:
        spec = str(text).strip()
        if spec.endswith("%"):
            try:
                percent = float(spec[:-1])
            except ValueError:
                percent = -1.0
            if not percent >= 0:  # above 100% is accepted, as check_disk does: always alerts
                raise ValueError(f"not a percentage: {text!r} (use e.g. 20%)")
            return cls(spec, percent=percent)
        try:
            return cls(spec, bytes=parse_size(spec, default_unit))
        except ValueError:
            raise ValueError(f"not a free-space threshold: {text!r} (use a percentage such as 20% "
                             f"or an amount such as 500MB or 2G; a bare number is {default_unit})") from None

    def limit(self, capacity: float) -> float:
        """Free bytes at or below which the alert is raised, for a filesystem of `capacity` bytes."""
        if self.percent is not None:
            return capacity * self.percent / 100
        return float(self.bytes)

    def exceeded(self, free: float, capacity: float) -> bool:
        if self.percent is not None:
            return capacity > 0 and free * 100 / capacity <= self.percent
        return free <= self.bytes

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"FreeThreshold({self.text!r})"
