"""Following log files by glob (`/var/log/nova/*.log`) into a `Sink`, through rotation and restarts.

Each file is followed by (device, inode) and by a fingerprint of its first bytes (`positions`), not by
name. Every poll: glob, then, per file we follow,
- its name now leads elsewhere or nowhere (logrotate's rename, or deletion): it is *rotated*. It is
  read before the files still at their names (so its last lines come before the new file's first ones),
  as long as it keeps growing (the writer has not reopened yet) and until it has been still for
  `rotate_wait` seconds; then its unfinished last line is delivered as it is and the file is closed.
- it is shorter than what we read, or its first bytes changed (copytruncate, or truncated and rewritten
  before we looked): read again from 0. The bytes we had not read yet went into logrotate's copy; a
  file in the same directory that starts with the old fingerprint is that copy, and it is read from
  our offset to its end first. Lines the program writes between logrotate's copy and its truncation
  are in neither file: that is copytruncate's own race (logrotate(8) says so) and nothing reading the
  files can recover them; nor can the unread tail be recovered if the copy was already compressed or
  moved to another directory (use `delaycompress`, or better rename rotation).
- new files: from the beginning when they appear while we run (they are new logs); at the very first
  start (no positions file, or a glob added since) per `start_at`. Globs should name the live logs
  (`*.log`), not the rotated ones: a renamed file that still matches is simply followed under its new
  name, but a compressed `.gz` matching the glob would be read as a new log.

Lines are cut at newlines (a trailing newline is removed, nothing else). An unfinished last line is
held back. A line longer than `max_line` is delivered cut at `max_line` (counted as oversized) and the
rest of it is skipped, even across polls and restarts. Bytes are passed on as they are.

Delivery is at least once and never lossy: lines go to the sink in batches of at most `batch_max`,
in file order per file; only after the sink returns are the offsets advanced and the positions file
saved. If the sink raises, nothing advances and the same lines are read again next poll. The window:
if the process dies after the sink's durable write but before the positions are saved, those lines
(at most one batch) are delivered again after the restart. We keep the `Sink` contract as it is
(returning None) rather than have it return a token, so a store that must not see duplicates dedups
on its side.
"""

from __future__ import annotations

import glob
import logging
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from stackwatch.rsyslog.message import RawMessage, Sink
from stackwatch.rsyslog.positions import (Position, SavedPositions, digest, find_sibling,
                                          load_positions, matches, read_head, save_positions)

log = logging.getLogger(__name__)

_CHUNK = 256 * 1024
_State = tuple[int, bool]                     # (offset, skipping) once a line is delivered


@dataclass
class TailStats:
    lines: int = 0          # delivered (acknowledged by the sink)
    bytes: int = 0          # of delivered line data
    rotations: int = 0      # a followed file left its name (renamed or deleted)
    truncations: int = 0    # shorter, or its first bytes changed (copytruncate, inode reuse): from 0
    oversized: int = 0      # lines cut at max_line
    refused: int = 0        # batches the sink raised on


class _File:
    """One open file: where delivery stands (`offset`, saved) and where reading stands (ahead of it)."""

    def __init__(self, path: str, fd: int, st: os.stat_result, offset: int, skip: bool, now: float,
                 fp: tuple[str, int] | None = None, rotated: bool = False):
        self.path, self.fd, self.key = path, fd, (st.st_dev, st.st_ino)
        self.offset, self.skip = offset, skip
        self.read_pos, self.skipping, self.pending = offset, skip, b""
        self.orphan: bytes | None = None           # an unfinished line whose file was truncated under it
        if fp is None:
            head = read_head(fd)
            fp = (digest(head), len(head))
        self.fp, self.fp_len = fp
        self.rotated, self.size, self.changed_at = rotated, st.st_size, now

    def rewind(self) -> None:
        self.read_pos, self.skipping, self.pending = self.offset, self.skip, b""

    def position(self) -> Position:
        return Position(self.path, self.key[0], self.key[1], self.offset, self.fp, self.fp_len,
                        self.skip, self.rotated)


@dataclass
class _Batch:
    messages: list[RawMessage] = field(default_factory=list)
    size: int = 0
    oversized: int = 0
    states: dict[_File, _State] = field(default_factory=dict)
    closing: list[_File] = field(default_factory=list)


class FileTailer:
    """Globs -> sink. `poll_once()` does one round (tests drive it); `start()`/`stop()` run it in a thread
    every `poll_interval`. `rotate_wait`: how long a rotated file must stay still before it is closed."""

    def __init__(self, patterns: list[str], positions_path: Path, sink: Sink, poll_interval: float = 0.5,
                 batch_max: int = 5000, max_line: int = 65536, clock: Callable[[], float] = time.time,
                 start_at: str = "end", rotate_wait: float = 5.0, batch_max_bytes: int = 4 << 20):
        if start_at not in ("end", "beginning"):
            raise ValueError(f"start_at must be 'end' or 'beginning', not {start_at!r}")
        if batch_max < 1 or max_line < 1:
            raise ValueError("batch_max and max_line must be positive")
        self._patterns, self._positions_path, self._sink = list(patterns), Path(positions_path), sink
        self._poll_interval, self._batch_max, self._batch_bytes = poll_interval, batch_max, batch_max_bytes
        self._max_line, self._clock, self._start_at, self._rotate_wait = max_line, clock, start_at, rotate_wait
        self.stats = TailStats()
        self._files: list[_File] | None = None     # None: positions not loaded yet (first poll, or closed)
        self._dirty = False
        self._unreadable: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- running -------------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("FileTailer already started")
        load_positions(self._positions_path)     # a PositionsError is the caller's, not a log line per poll
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="stackwatch-tail", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the thread (it ends after the batch in flight) and close the files."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.close()
        self._stop.clear()

    def close(self) -> None:
        """Close the files; a later poll starts over from the positions file, as a restart would."""
        with self._lock:
            for f in self._files or ():
                os.close(f.fd)
            self._files = None

    def __enter__(self) -> FileTailer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:
                log.exception("file tail poll failed")
            self._stop.wait(self._poll_interval)

    def poll_once(self) -> int:
        """Glob, follow rotations, deliver every complete line there is; the number of lines delivered."""
        with self._lock:
            now = self._clock()
            if self._files is None:            # first poll since start or close(): where did we stop?
                self._files = []
                saved = load_positions(self._positions_path)
                self._follow(self._glob(), now, saved or SavedPositions({}, frozenset()))
            else:
                self._follow(self._glob(), now)
            return self._read_all(now)

    # -- which files ---------------------------------------------------------------------------------

    def _glob(self) -> dict[tuple[int, int], tuple[str, set[str]]]:
        """(dev, inode) -> (path, the patterns that matched it)."""
        found: dict[tuple[int, int], tuple[str, set[str]]] = {}
        own = os.path.abspath(self._positions_path)
        for pattern in self._patterns:
            for path in sorted(glob.glob(pattern)):
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                if stat.S_ISREG(st.st_mode) and os.path.abspath(path) != own:
                    found.setdefault((st.st_dev, st.st_ino), (path, set()))[1].add(pattern)
        return found

    def _follow(self, found: dict[tuple[int, int], tuple[str, set[str]]], now: float,
                saved: SavedPositions | None = None) -> None:
        """Notice rotations and truncations, then open new files (after a restart: where we stopped)."""
        for f in list(self._files):
            self._check(f, now)                # may add a copytruncate copy to self._files
        if saved is not None:
            self._restore(saved, found, now)
        tracked = {f.key for f in self._files}
        for key, (path, patterns) in found.items():
            if key not in tracked:
                # present at the very first start (or under a glob added since): start_at; else a new log
                first_sight = saved is not None and not patterns & saved.patterns
                self._open(path, now, self._start_at if first_sight else "beginning")
        for f in self._files:
            if f.key in found:                 # includes a copy or rotated file the glob matches
                f.path, f.rotated = found[f.key][0], False
            elif not f.rotated:
                f.rotated, f.changed_at = True, now
                self.stats.rotations += 1
                self._dirty = True
                log.info("%s rotated or deleted: reading it to its end", f.path)

    def _restore(self, saved: SavedPositions, found: dict[tuple[int, int], tuple[str, set[str]]],
                 now: float) -> None:
        for p in saved.files.values():
            if p.key in found:
                opened = self._open(found[p.key][0], now, position=p)
            else:                              # rotated while we were down, or still draining then
                hit = find_sibling(os.path.dirname(p.path) or ".", p.fingerprint, p.fp_len, p.offset, key=p.key)
                if hit is None:
                    log.warning("%s: lost track of it (inode %s) at offset %s", p.path, p.inode, p.offset)
                    continue
                st = os.fstat(hit[1])
                opened = _File(p.path, hit[1], st, p.offset, p.skip, now, (p.fingerprint, p.fp_len), True)
                self._files.append(opened)
                log.info("%s: reading its rotated file %s from %s", p.path, hit[0], p.offset)
            if opened is not None:
                self._check(opened, now)

    def _open(self, path: str, now: float, start_at: str = "beginning",
              position: Position | None = None) -> _File | None:
        try:
            fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            if path not in self._unreadable:
                self._unreadable.add(path)
                log.warning("cannot read %s: %s", path, exc)
            return None
        self._unreadable.discard(path)
        st = os.fstat(fd)
        if any(f.key == (st.st_dev, st.st_ino) for f in self._files):
            os.close(fd)
            return None
        if position is not None and position.key == (st.st_dev, st.st_ino):
            f = _File(path, fd, st, position.offset, position.skip, now, (position.fingerprint, position.fp_len))
        elif start_at == "end":
            f = _File(path, fd, st, *_end_of(fd, st.st_size, self._max_line), now)
        else:
            f = _File(path, fd, st, 0, False, now)
        self._files.append(f)
        self._dirty = True
        return f

    def _check(self, f: _File, now: float) -> None:
        """Growth (for rotate_wait), truncation or rewrite (read from 0), a longer fingerprint."""
        try:
            st = os.fstat(f.fd)
            head = read_head(f.fd)
        except OSError:
            log.warning("cannot stat %s", f.path, exc_info=True)
            return
        if st.st_size != f.size:
            f.size, f.changed_at = st.st_size, now
        if st.st_size < f.read_pos or not matches(head, f.fp, f.fp_len):
            self._truncated(f, head, now)
        elif f.fp_len < len(head):
            f.fp, f.fp_len = digest(head), len(head)
            self._dirty = True

    def _truncated(self, f: _File, head: bytes, now: float) -> None:
        self.stats.truncations += 1
        log.info("%s truncated or rewritten: reading it from the start", f.path)
        copy = None
        if f.fp_len > 0 and f.offset > 0:
            copy = find_sibling(os.path.dirname(f.path) or ".", f.fp, f.fp_len, f.offset,
                                exclude=frozenset(g.key for g in self._files))
        if copy is not None:
            log.info("%s: reading the rest of its copy %s from %s", f.path, copy[0], f.offset)
            st = os.fstat(copy[1])
            self._files.insert(0, _File(f.path, copy[1], st, f.offset, f.skip, now, (f.fp, f.fp_len), True))
        elif f.pending:
            f.orphan = f.pending               # its end went wherever the copy went; deliver it as is
        f.offset, f.skip = 0, False
        f.rewind()
        f.fp, f.fp_len = digest(head), len(head)
        self._dirty = True

    # -- reading and delivering ----------------------------------------------------------------------

    def _read_all(self, now: float) -> int:
        batch, delivered = _Batch(), 0
        for f in sorted(self._files, key=lambda f: not f.rotated):   # rotated ones first
            final = f.rotated and now - f.changed_at >= self._rotate_wait
            try:
                for line, state in self._lines(f, final):
                    if len(line) > self._max_line:
                        line = line[:self._max_line]
                        batch.oversized += 1
                    batch.messages.append(RawMessage(line, now, f.path, "file"))
                    batch.size += len(line)
                    batch.states[f] = state
                    if len(batch.messages) >= self._batch_max or batch.size >= self._batch_bytes:
                        if not self._flush(batch):
                            return delivered
                        delivered += len(batch.messages)
                        batch = _Batch()
                        if self._stop.is_set():
                            for g in self._files:
                                g.rewind()
                            return delivered
            except OSError:
                log.warning("cannot read %s", f.path, exc_info=True)
                f.read_pos, f.skipping = batch.states.get(f, (f.offset, f.skip))   # after what is batched
                f.pending = b""
                continue
            batch.states[f] = (f.read_pos - len(f.pending), f.skipping)
            if final:
                batch.closing.append(f)
        if not self._flush(batch):
            return delivered
        return delivered + len(batch.messages)

    def _lines(self, f: _File, final: bool) -> Iterator[tuple[bytes, _State]]:
        """Complete lines from where reading stands, each with the state delivering it leads to."""
        if f.orphan is not None:
            yield f.orphan, (f.offset, f.skip)
        pos = f.read_pos
        while True:
            data = os.pread(f.fd, _CHUNK, pos)
            if not data:
                break
            i, n = 0, len(data)
            while i < n:
                j = data.find(b"\n", i)
                if f.skipping:
                    i, f.skipping = (n, True) if j < 0 else (j + 1, False)
                elif j < 0:
                    f.pending += data[i:]
                    i = n
                    if len(f.pending) > self._max_line:      # cut now: never hold more than max_line
                        line, f.pending, f.skipping = f.pending, b"", True
                        f.read_pos = pos + n
                        yield line, (pos + n, True)
                else:
                    line = f.pending + data[i:j] if f.pending else data[i:j]
                    f.pending, i = b"", j + 1
                    f.read_pos = pos + i
                    yield line, (pos + i, False)
            pos += n
            f.read_pos = pos
        if final and f.pending:
            line, f.pending = f.pending, b""
            yield line, (pos, False)

    def _flush(self, batch: _Batch) -> bool:
        if batch.messages:
            try:
                self._sink(batch.messages)
            except Exception:
                self.stats.refused += 1
                log.warning("sink refused %d lines; reading them again next poll", len(batch.messages),
                            exc_info=True)
                for f in self._files:
                    f.rewind()
                return False
            self.stats.lines += len(batch.messages)
            self.stats.bytes += batch.size
            self.stats.oversized += batch.oversized
        for f, (offset, skip) in batch.states.items():
            if f.orphan is not None or (f.offset, f.skip) != (offset, skip):
                f.offset, f.skip, f.orphan = offset, skip, None
                self._dirty = True
        for f in batch.closing:
            os.close(f.fd)
            self._files.remove(f)
            self._dirty = True
            log.info("%s: finished its rotated file at %s", f.path, f.offset)
        if self._dirty:
            self._save()
        return True

    def _save(self) -> None:
        try:
            save_positions(self._positions_path, [f.position() for f in self._files], self._patterns)
            self._dirty = False
        except OSError:
            log.error("cannot save tail positions to %s; will retry", self._positions_path, exc_info=True)


def _end_of(fd: int, size: int, max_line: int) -> tuple[int, bool]:
    """Where 'end' starts: after the last newline, so an unfinished last line is delivered whole."""
    start = max(0, size - max_line - 1)
    tail = os.pread(fd, size - start, start)
    nl = tail.rfind(b"\n")
    if nl >= 0:
        return start + nl + 1, False
    return (size, True) if start > 0 else (0, False)
