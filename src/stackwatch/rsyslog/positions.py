"""Where the file tailer stands in each file, persisted across restarts, and how a file is recognised.

A file is known by its (device, inode) and by a fingerprint: the SHA-256 of its first bytes (up to
FINGERPRINT_BYTES, and `fp_len` says how many were hashed, since a young file is shorter). An inode
number is reused once a file is deleted, so (device, inode) alone could resume a new file at the old
file's offset; the fingerprint tells them apart, and it also recognises a rotated file or a copytruncate
copy found under another name in the same directory.

The positions file is JSON, replaced atomically (temp file in the same directory, fsync, os.replace,
fsync of the directory): a crash leaves the old positions or the new ones, never a torn file.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path

FINGERPRINT_BYTES = 256
_VERSION = 1


class PositionsError(ValueError):
    """The positions file exists but cannot be read: fix or delete it (then `start_at` applies again)."""


@dataclass(frozen=True, slots=True)
class Position:
    path: str              # the name the file was followed under (kept after it was rotated away)
    dev: int
    inode: int
    offset: int            # every byte before it was delivered and acknowledged by the sink
    fingerprint: str       # sha256 hex of the first fp_len bytes
    fp_len: int
    skip: bool = False     # inside an over-long line: discard up to the next newline first
    rotated: bool = False  # no longer at `path` (renamed or deleted), still being read to its end

    @property
    def key(self) -> tuple[int, int]:
        return (self.dev, self.inode)


@dataclass(frozen=True, slots=True)
class SavedPositions:
    files: dict[tuple[int, int], Position]
    patterns: frozenset[str]       # the globs followed when they were saved


def digest(head: bytes) -> str:
    return hashlib.sha256(head).hexdigest()


def read_head(fd: int) -> bytes:
    """The first bytes of an open file, as many as a fingerprint covers (fewer if the file is shorter)."""
    return os.pread(fd, FINGERPRINT_BYTES, 0)


def matches(head: bytes, fingerprint: str, fp_len: int) -> bool:
    return len(head) >= fp_len and digest(head[:fp_len]) == fingerprint


def load_positions(path: Path) -> SavedPositions | None:
    """None when there is no positions file yet (the very first start)."""
    try:
        raw = json.loads(path.read_bytes())
        files = [Position(**entry) for entry in raw["files"]]
        patterns = frozenset(raw["patterns"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PositionsError(f"{path}: unreadable tail positions ({exc}); delete it to start over") from exc
    return SavedPositions({p.key: p for p in files}, patterns)


def save_positions(path: Path, positions: list[Position], patterns: list[str]) -> None:
    doc = {"version": _VERSION, "patterns": sorted(patterns), "files": [asdict(p) for p in positions]}
    data = json.dumps(doc, indent=1).encode()
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def find_sibling(directory: str, fingerprint: str, fp_len: int, min_size: int,
                 key: tuple[int, int] | None = None,
                 exclude: frozenset[tuple[int, int]] = frozenset()) -> tuple[str, int] | None:
    """An open fd on the file in `directory` that starts with the fingerprinted bytes and holds at least
    `min_size` bytes (and has inode `key` when given): where a rotated file or a copytruncate copy went.
    The most recently modified one wins; the caller closes the fd."""
    candidates = []
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    st = entry.stat()
                except OSError:
                    continue
                ident = (st.st_dev, st.st_ino)
                if (not stat.S_ISREG(st.st_mode) or st.st_size < min_size or ident in exclude
                        or (key is not None and ident != key)):
                    continue
                candidates.append((st.st_mtime_ns, entry.path, ident))
    except OSError:
        return None
    for _mtime, path, ident in sorted(candidates, reverse=True):
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            continue
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) == ident and matches(read_head(fd), fingerprint, fp_len):
            return path, fd
        os.close(fd)
    return None
