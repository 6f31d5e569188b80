"""FileTailer on real files in tmp_path: appends, partial lines, rename and copytruncate rotation,
restarts, sink refusal, new and deleted files, oversized and binary lines, inode reuse, batching."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from stackwatch.rsyslog.message import RawMessage, SinkRefused
from stackwatch.rsyslog.positions import PositionsError
from stackwatch.rsyslog.tail import FileTailer


class Collect:
    """A sink that keeps every batch; `refuse` makes the next calls raise (store down)."""

    def __init__(self) -> None:
        self.batches: list[list[RawMessage]] = []
        self.refuse = 0

    def __call__(self, batch: list[RawMessage]) -> None:
        if self.refuse:
            self.refuse -= 1
            raise SinkRefused("store down")
        self.batches.append(list(batch))

    def take(self) -> list[bytes]:
        lines = [m.data for b in self.batches for m in b]
        self.batches.clear()
        return lines


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def logdir(tmp_path: Path) -> Path:
    d = tmp_path / "log"
    d.mkdir()
    return d


@pytest.fixture
def sink() -> Collect:
    return Collect()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tailer(tmp_path, logdir, sink, clock):
    """A factory: tailers on log/*.log sharing one positions file (a second one is a restart)."""
    made: list[FileTailer] = []

    def make(**kw) -> FileTailer:
        kw = {"start_at": "beginning", "rotate_wait": 0.0, "clock": clock, **kw}
        t = FileTailer([str(logdir / "*.log")], tmp_path / "positions.json", sink, **kw)
        made.append(t)
        return t
    yield make
    for t in made:
        t.stop()


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as fh:
        fh.write(data)


def saved(tmp_path: Path) -> list[dict]:
    return json.loads((tmp_path / "positions.json").read_text())["files"]


def test_lines_appended_across_polls_are_delivered_once_in_order(logdir, tailer, sink):
    log = logdir / "nova.log"
    append(log, b"one\ntwo\n")
    t = tailer()
    assert t.poll_once() == 2
    assert t.poll_once() == 0
    append(log, b"three\n")
    assert t.poll_once() == 1
    assert sink.take() == [b"one", b"two", b"three"]
    assert (t.stats.lines, t.stats.bytes) == (3, 11)


def test_messages_carry_path_time_and_transport(logdir, tailer, sink, clock):
    append(logdir / "nova.log", b"hello\n")
    tailer().poll_once()
    assert sink.batches[0] == [RawMessage(b"hello", clock.now, str(logdir / "nova.log"), "file")]


def test_partial_line_is_held_until_completed(tmp_path, logdir, tailer, sink):
    log = logdir / "nova.log"
    append(log, b"done\nhalf a li")
    t = tailer()
    assert t.poll_once() == 1
    assert saved(tmp_path)[0]["offset"] == 5            # the unfinished line is not acknowledged
    append(log, b"ne")
    assert t.poll_once() == 0
    append(log, b"\n")
    assert t.poll_once() == 1
    assert sink.take() == [b"done", b"half a line"]


def test_start_at_end_skips_what_was_there_at_the_very_first_start(logdir, tailer, sink):
    append(logdir / "old.log", b"history 1\nhistory 2\nunfinis")
    t = tailer(start_at="end")
    assert t.poll_once() == 0
    append(logdir / "old.log", b"hed\nnew\n")
    append(logdir / "later.log", b"first line of a new log\n")    # appeared after we started
    t.poll_once()
    assert sink.take() == [b"unfinished", b"new", b"first line of a new log"]


def test_start_at_beginning_reads_existing_files(logdir, tailer, sink):
    append(logdir / "old.log", b"history\n")
    tailer(start_at="beginning").poll_once()
    assert sink.take() == [b"history"]


def test_start_at_is_validated(tmp_path, sink):
    with pytest.raises(ValueError):
        FileTailer([], tmp_path / "p.json", sink, start_at="middle")


def test_rename_rotation_loses_nothing_written_after_the_rename(logdir, tailer, sink):
    log, old = logdir / "nova.log", logdir / "nova.log.1"
    writer = open(log, "ab", buffering=0)               # nova keeps its fd across the rename
    writer.write(b"a1\na2\n")
    t = tailer()
    assert t.poll_once() == 2
    writer.write(b"a3\n")
    os.rename(log, old)                                  # logrotate: rename, create
    writer.write(b"a4\na5 unfinished")                   # still into the old file: not reopened yet
    writer.close()
    append(log, b"b1\nb2\n")                             # the reopened writer, new file
    t.poll_once()
    assert sink.take() == [b"a1", b"a2", b"a3", b"a4", b"a5 unfinished", b"b1", b"b2"]
    assert t.stats.rotations == 1
    append(old, b"never read: the old file is closed\n")
    append(log, b"b3\n")
    t.poll_once()
    assert sink.take() == [b"b3"]
    assert len(t._files) == 1


def test_rename_rotation_keeps_reading_the_old_file_until_it_is_still(tmp_path, logdir, tailer, sink, clock):
    log, old = logdir / "nova.log", logdir / "nova.log.1"
    writer = open(log, "ab", buffering=0)
    writer.write(b"a1\n")
    t = tailer(rotate_wait=5.0)
    t.poll_once()
    os.rename(log, old)
    append(log, b"b1\n")
    t.poll_once()
    assert [p["rotated"] for p in saved(tmp_path)] == [True, False]
    clock.now += 3
    writer.write(b"a2 late\na3 partial")               # the writer had not reopened yet
    t.poll_once()
    clock.now += 4                                       # 4 s still: not yet rotate_wait since last growth
    t.poll_once()
    clock.now += 2
    t.poll_once()
    writer.close()
    assert sink.take() == [b"a1", b"b1", b"a2 late", b"a3 partial"]
    assert [p["path"] for p in saved(tmp_path)] == [str(log)]


def test_copytruncate_reads_the_unread_tail_from_the_copy(logdir, tailer, sink):
    log = logdir / "nova.log"
    writer = open(log, "ab", buffering=0)                # O_APPEND, as Python's logging opens files
    writer.write(b"l1\nl2\n")
    t = tailer()
    t.poll_once()
    writer.write(b"l3 just before rotation\nl4 unfin")   # not polled yet
    shutil.copyfile(log, logdir / "nova.log.1")          # logrotate copytruncate: copy...
    os.truncate(log, 0)                                  # ...then truncate in place
    writer.write(b"m1\n")
    t.poll_once()
    assert sink.take() == [b"l1", b"l2", b"l3 just before rotation", b"l4 unfin", b"m1"]
    assert t.stats.truncations == 1
    writer.write(b"m2\n")
    t.poll_once()
    assert sink.take() == [b"m2"]
    writer.close()


def test_copytruncate_without_the_copy_loses_only_what_logrotate_took_away(tmp_path, logdir, tailer, sink):
    """copytruncate's own race (logrotate(8)): what is written between the copy and the truncation is in
    neither file. And if the copy cannot be found next to the log (compressed at once, olddir), the lines
    written since our last poll are only in the copy: from the live file they cannot be read."""
    log = logdir / "nova.log"
    writer = open(log, "ab", buffering=0)
    writer.write(b"l1\n")
    t = tailer()
    t.poll_once()
    writer.write(b"l2 only in the copy\n")
    (tmp_path / "olddir").mkdir()
    shutil.copyfile(log, tmp_path / "olddir" / "nova.log.1")
    writer.write(b"l3 between copy and truncate\n")
    os.truncate(log, 0)
    writer.write(b"m1\n")
    t.poll_once()
    writer.close()
    assert sink.take() == [b"l1", b"m1"]
    assert t.stats.truncations == 1


def test_truncated_and_grown_past_our_offset_is_detected_by_fingerprint(logdir, tailer, sink):
    log = logdir / "nova.log"
    append(log, b"old 1\nold 2\n")
    t = tailer()
    t.poll_once()
    os.truncate(log, 0)
    append(log, b"new content longer than the old offset\nnew 2\n")
    t.poll_once()
    assert sink.take() == [b"old 1", b"old 2", b"new content longer than the old offset", b"new 2"]
    assert t.stats.truncations == 1


def test_restart_continues_exactly_where_it_stopped(logdir, tailer, sink):
    a, b = logdir / "a.log", logdir / "b.log"
    append(a, b"a1\na2\na3 half")
    append(b, b"b1\n")
    first = tailer()
    first.poll_once()
    first.stop()
    append(a, b" done\na4\n")
    append(b, b"b2\n")
    second = tailer(start_at="end")                       # start_at only matters at the very first start
    second.poll_once()
    second.poll_once()
    lines = sink.take()
    assert sorted(lines) == sorted([b"a1", b"a2", b"a3 half done", b"a4", b"b1", b"b2"])
    assert len(lines) == len(set(lines))


def test_restart_after_rename_rotation_while_down_reads_the_rotated_file_first(logdir, tailer, sink):
    log = logdir / "nova.log"
    append(log, b"a1\n")
    first = tailer()
    first.poll_once()
    first.stop()
    append(log, b"a2 written before the rotation\n")
    os.rename(log, logdir / "nova.log.1")
    append(log, b"b1\n")
    second = tailer()
    second.poll_once()
    assert sink.take() == [b"a1", b"a2 written before the rotation", b"b1"]


def test_restart_after_copytruncate_while_down(logdir, tailer, sink):
    log = logdir / "nova.log"
    append(log, b"l1\n")
    first = tailer()
    first.poll_once()
    first.stop()
    append(log, b"l2\n")
    shutil.copyfile(log, logdir / "nova.log.1")
    os.truncate(log, 0)
    append(log, b"m1\n")
    second = tailer()
    second.poll_once()
    assert sink.take() == [b"l1", b"l2", b"m1"]


def test_refused_batch_is_delivered_again_and_positions_do_not_move(tmp_path, logdir, tailer, sink):
    log = logdir / "nova.log"
    append(log, b"x1\n")
    t = tailer()
    t.poll_once()
    append(log, b"x2\nx3\n")
    sink.refuse = 1
    assert t.poll_once() == 0
    assert t.stats.refused == 1
    assert saved(tmp_path)[0]["offset"] == 3
    assert t.poll_once() == 2
    assert sink.take() == [b"x1", b"x2", b"x3"]


def test_refused_batch_survives_a_restart(logdir, tailer, sink):
    log = logdir / "nova.log"
    append(log, b"x1\n")
    sink.refuse = 1
    first = tailer()
    first.poll_once()
    first.stop()
    tailer().poll_once()
    assert sink.take() == [b"x1"]


def test_positions_are_saved_only_after_the_sink_returns(tmp_path, logdir, tailer):
    seen: list[int | None] = []

    def sink(batch):
        seen.append(saved(tmp_path)[0]["offset"] if (tmp_path / "positions.json").exists() else None)

    log = logdir / "nova.log"
    append(log, b"x1\n")
    t = FileTailer([str(logdir / "*.log")], tmp_path / "positions.json", sink, start_at="beginning")
    t.poll_once()
    append(log, b"x2\n")
    t.poll_once()
    t.stop()
    assert seen == [None, 3]
    assert saved(tmp_path)[0]["offset"] == 6


def test_positions_file_records_identity_and_leaves_no_temp_file(tmp_path, logdir, tailer):
    log = logdir / "nova.log"
    append(log, b"x1\n")
    tailer().poll_once()
    st = os.stat(log)
    [entry] = saved(tmp_path)
    assert (entry["path"], entry["dev"], entry["inode"], entry["offset"]) == (str(log), st.st_dev, st.st_ino, 3)
    assert entry["fp_len"] == 3 and len(entry["fingerprint"]) == 64
    assert sorted(p.name for p in tmp_path.iterdir()) == ["log", "positions.json"]


def test_corrupt_positions_file_is_an_error_not_a_silent_restart(tmp_path, tailer):
    (tmp_path / "positions.json").write_text("{not json")
    with pytest.raises(PositionsError):
        tailer().poll_once()


def test_new_file_matching_the_glob_is_read_from_the_beginning(logdir, tailer, sink):
    t = tailer(start_at="end")
    t.poll_once()
    append(logdir / "cinder-volume.log", b"c1\nc2\n")
    append(logdir / "ignored.txt", b"not matched\n")
    t.poll_once()
    assert sink.take() == [b"c1", b"c2"]


def test_glob_added_after_restart_uses_start_at(tmp_path, logdir, sink):
    other = tmp_path / "other"
    other.mkdir()
    append(other / "history.log", b"old\n")
    first = FileTailer([str(logdir / "*.log")], tmp_path / "positions.json", sink, start_at="end")
    first.poll_once()
    first.stop()
    second = FileTailer([str(logdir / "*.log"), str(other / "*.log")], tmp_path / "positions.json", sink,
                        start_at="end")
    second.poll_once()
    append(other / "history.log", b"new\n")
    second.poll_once()
    second.stop()
    assert sink.take() == [b"new"]


def test_deleted_file_is_read_to_its_end_then_forgotten(tmp_path, logdir, tailer, sink):
    log = logdir / "nova.log"
    writer = open(log, "ab", buffering=0)
    writer.write(b"d1\n")
    t = tailer()
    t.poll_once()
    writer.write(b"d2\nd3 last, unfinished")
    os.unlink(log)
    t.poll_once()
    writer.close()
    assert sink.take() == [b"d1", b"d2", b"d3 last, unfinished"]
    assert saved(tmp_path) == []


def test_oversized_line_is_cut_and_the_rest_skipped(logdir, tailer, sink):
    append(logdir / "nova.log", b"A" * 1000 + b"\nshort\n")
    t = tailer(max_line=100)
    t.poll_once()
    assert sink.take() == [b"A" * 100, b"short"]
    assert t.stats.oversized == 1


def test_oversized_unfinished_line_is_cut_at_once_and_skipped_across_polls_and_restarts(logdir, tailer, sink):
    log = logdir / "nova.log"
    append(log, b"B" * 250)
    first = tailer(max_line=100)
    first.poll_once()
    assert sink.take() == [b"B" * 100]
    append(log, b"B" * 50)
    first.poll_once()
    first.stop()
    append(log, b"B" * 50 + b"\nnext\n")
    tailer(max_line=100).poll_once()
    assert sink.take() == [b"next"]


def test_binary_garbage_is_passed_through_as_bytes(logdir, tailer, sink):
    lines = [b"\x00\x00nul", b"\xff\xfe invalid utf-8 \xc3\x28", b"crlf\r", b"\x1b[31mansi\x1b[0m"]
    append(logdir / "nova.log", b"\n".join(lines) + b"\n")
    tailer().poll_once()
    assert sink.take() == lines


def test_100k_lines_in_bounded_batches(logdir, tailer, sink):
    lines = [b"2024-01-01 00:00:00.000 1234 INFO nova.compute.manager [-] line %06d" % i for i in range(100_000)]
    append(logdir / "nova.log", b"\n".join(lines) + b"\n")
    t = tailer()
    assert t.poll_once() == 100_000
    assert all(len(b) <= 5000 for b in sink.batches)
    assert len(sink.batches) == 20
    assert sink.take() == lines
    assert t.stats.lines == 100_000


def test_batches_respect_batch_max_and_keep_each_files_order(logdir, tailer, sink):
    append(logdir / "a.log", b"".join(b"a%d\n" % i for i in range(7)))
    append(logdir / "b.log", b"".join(b"b%d\n" % i for i in range(5)))
    tailer(batch_max=3).poll_once()
    assert all(len(b) <= 3 for b in sink.batches)
    lines = sink.take()
    assert [x for x in lines if x.startswith(b"a")] == [b"a%d" % i for i in range(7)]
    assert [x for x in lines if x.startswith(b"b")] == [b"b%d" % i for i in range(5)]


def test_inode_reuse_is_detected_by_fingerprint(logdir, tailer, sink):
    log = logdir / "nova.log"
    append(log, b"first file 1\nfirst file 2\n")
    first = tailer()
    first.poll_once()
    first.stop()
    with open(log, "r+b") as fh:                         # same dev and inode, another file's content
        fh.write(b"second file, longer than before 1\nsecond file 2\n")
        fh.truncate()
    tailer().poll_once()
    assert sink.take() == [b"first file 1", b"first file 2", b"second file, longer than before 1",
                           b"second file 2"]


def test_file_deleted_and_recreated_while_down_is_read_from_the_start(logdir, tailer, sink):
    log = logdir / "nova.log"
    append(log, b"first 1\n")
    first = tailer()
    first.poll_once()
    first.stop()
    os.unlink(log)
    append(log, b"second file 1\nsecond file 2\n")       # the inode may well be reused
    tailer().poll_once()
    assert sink.take() == [b"first 1", b"second file 1", b"second file 2"]


def test_background_thread_delivers_and_stops(logdir, tmp_path, sink):
    t = FileTailer([str(logdir / "*.log")], tmp_path / "positions.json", sink, poll_interval=0.01,
                   start_at="beginning")
    t.start()
    append(logdir / "nova.log", b"t1\nt2\n")
    deadline = time.monotonic() + 10
    while sum(len(b) for b in sink.batches) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    t.stop()
    assert t._thread is None
    assert sink.take() == [b"t1", b"t2"]


def test_restart_while_a_rotated_file_is_still_being_read(logdir, tailer, sink, clock):
    log, old = logdir / "nova.log", logdir / "nova.log.1"
    writer = open(log, "ab", buffering=0)
    writer.write(b"a1\n")
    first = tailer(rotate_wait=60.0)
    first.poll_once()
    os.rename(log, old)
    append(log, b"b1\n")
    first.poll_once()
    first.stop()
    writer.write(b"a2 written while we were down\n")
    writer.close()
    second = tailer(rotate_wait=0.0)
    second.poll_once()
    assert sink.take() == [b"a1", b"b1", b"a2 written while we were down"]
    assert len(second._files) == 1


@pytest.mark.parametrize("rotation", ["rename", "copytruncate", "copytruncate while down"])
def test_glob_that_also_matches_rotated_names_delivers_nothing_twice(tmp_path, logdir, sink, clock, rotation):
    def make() -> FileTailer:
        return FileTailer([str(logdir / "nova.log*")], tmp_path / "positions.json", sink, start_at="beginning",
                          rotate_wait=0.0, clock=clock)

    log = logdir / "nova.log"
    writer = open(log, "ab", buffering=0)
    writer.write(b"l1\n")
    t = make()
    t.poll_once()
    writer.write(b"l2\n")
    if rotation == "rename":
        os.rename(log, logdir / "nova.log.1")
        writer.write(b"l3\n")
        append(log, b"m1\n")
    else:
        if rotation == "copytruncate while down":
            t.stop()
            t = make()
        shutil.copyfile(log, logdir / "nova.log.1")
        os.truncate(log, 0)
        writer.write(b"m1\n")
    t.poll_once()
    t.poll_once()
    writer.close()
    t.stop()
    lines = sink.take()
    assert sorted(lines) == sorted([b"l1", b"l2", b"m1"] + ([b"l3"] if rotation == "rename" else []))
