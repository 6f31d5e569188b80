"""One disk check three ways: in-process (as the scheduler runs it), `stackwatch-check` spawned as a
process (as NRPE runs it), and Debian's `/usr/lib/nagios/plugins/check_disk` (the baseline).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from stackwatch.checks import get_check
from stackwatch.checks.options import options_from_mapping

RUNS = max(10, int(40 * float(os.environ.get("BENCH_SCALE", "1"))))
CHECK_DISK = "/usr/lib/nagios/plugins/check_disk"


def median_wall(cmd: list[str], runs: int) -> float:
    subprocess.run(cmd, capture_output=True)  # warm the page cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    # An installed package has its bytecode compiled; an editable checkout run with
    # PYTHONDONTWRITEBYTECODE=1 would recompile our modules on every spawn. Compile once, as pip does.
    import compileall

    import stackwatch
    compileall.compile_dir(Path(stackwatch.__file__).parent, quiet=1)
    plugin = get_check("disk")
    options, problems = options_from_mapping(plugin.Options, {"path": "/", "warning": "20%", "critical": "10%"})
    assert not problems, problems
    check = plugin(options)
    times = []
    for _ in range(RUNS * 5):
        t0 = time.perf_counter()
        check.run()
        times.append(time.perf_counter() - t0)
    in_process = statistics.median(times)

    script = Path(sys.executable).with_name("stackwatch-check")
    ours = median_wall([str(script), "disk", "--path", "/", "--warning", "20%", "--critical", "10%"], RUNS)
    bare_python = median_wall([sys.executable, "-c", "pass"], RUNS)
    print(f"disk check in-process: median {in_process * 1000:.3f} ms")
    print(f"bare `python -c pass`: median {bare_python * 1000:.1f} ms")
    print(f"stackwatch-check disk as a process: median {ours * 1000:.1f} ms "
          f"({ours / bare_python:.2f}x bare python)  [target: <= 25 ms]")
    if os.path.exists(CHECK_DISK):
        theirs = median_wall([CHECK_DISK, "-w", "20%", "-c", "10%", "-p", "/"], RUNS)
        print(f"check_disk (monitoring-plugins) as a process: median {theirs * 1000:.1f} ms")
        print(f"ratios vs check_disk: stackwatch-check {ours / theirs:.2f}x, in-process {in_process / theirs:.4f}x")
    else:
        print(f"{CHECK_DISK} not installed (apt-get install monitoring-plugins-basic): no baseline ratio")
    if shutil.which("hyperfine") is None:
        print("(hyperfine not installed; timings above are from subprocess.run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
