"""Reading the end of a log file without reading the file: the last N bytes, whole lines only, and the
end of its rotated predecessor (FILE.1) when the window a check asks about reaches past the file's start.

Rotation-safe enough for a periodic check: a file rotated by rename starts small and its recent past is in
FILE.1 (read as well when `older` says so); a copytruncated file is just short. Compressed rotations
(FILE.2.gz...) are not read: a window of minutes never needs them. Stdlib only.
"""

from __future__ import annotations

import os


def tail_lines(path: str, max_bytes: int) -> tuple[list[str], bool]:
    """(lines, whole): the complete lines in the last `max_bytes` of `path` (decoded as UTF-8, bad bytes
    replaced) and whether they start at the beginning of the file. OSError when it cannot be read."""
    text, whole = tail_text(path, max_bytes)
    return text.splitlines(), whole


def tail_text(path: str, max_bytes: int) -> tuple[str, bool]:
    """As `tail_lines`, the lines left joined (a caller searching for a few words need not split them all)."""
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        start = max(0, size - max_bytes)
        fh.seek(start)
        data = fh.read(size - start)
    if start > 0:
        cut = data.find(b"\n")
        data = b"" if cut < 0 else data[cut + 1:]  # the first line is cut in the middle: drop it
    return data.decode("utf-8", "replace"), start == 0


def rotated(path: str) -> str | None:
    """The file `path` was rotated into (logrotate's FILE.1, or FILE-YYYYMMDD with dateext), if any."""
    candidates = [path + ".1"]
    directory, name = os.path.split(path)
    try:
        dated = sorted(e for e in os.listdir(directory or ".") if e.startswith(name + "-") and e[len(name) + 1:].isdigit())
    except OSError:
        dated = []
    candidates += [os.path.join(directory, e) for e in reversed(dated)]
    for candidate in candidates:
        if os.path.isfile(candidate):
            return candidate
    return None
