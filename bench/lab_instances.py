"""Boot (or delete) N instances in the OpenStack lab for bench_inventory.py --lab, with the lab's fake driver.

    .venv/bin/python bench/lab_instances.py boot 1000     # raises the admin project's quotas, multi-creates
    .venv/bin/python bench/lab_instances.py delete        # deletes every server named swbench-*

Uses the lab's own `openstack` CLI with the admin's openrc; servers are booted in batches with
`server create --min B --max B` (one API call per batch), named swbench-<batch>-<i>.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.lab import OPENRC, SYSTEM_PATH, parse_openrc  # noqa: E402

BATCH = int(os.environ.get("LAB_BATCH", "50"))


def cli(*args: str, as_json: bool = False, timeout: float = 600):
    env = {"PATH": SYSTEM_PATH, "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
           **parse_openrc(OPENRC.read_text())}
    cmd = ["openstack", *args] + (["-f", "json"] if as_json else [])
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)}: {proc.stderr.strip()[-500:]}")
    return json.loads(proc.stdout) if as_json and proc.stdout.strip() else proc.stdout


def ours() -> list[dict]:
    return [s for s in cli("server", "list", "--all-projects", "--name", "^swbench-", "--limit", "-1",
                           "-c", "ID", "-c", "Status", as_json=True)]


def boot(n: int) -> None:
    project = os.environ.get("LAB_PROJECT", "admin")
    cli("quota", "set", "--instances", str(n + 100), "--cores", str(n + 100), "--ram", str((n + 100) * 1024),
        project)
    t0 = time.time()
    made = len(ours())
    batch = 0
    while made < n:
        size = min(BATCH, n - made)
        cli("--os-compute-api-version", "2.37", "server", "create", "--flavor", "m1.tiny", "--image", "cirros-lab",
            "--nic", "none", "--min", str(size), "--max", str(size), f"swbench-{int(t0)}-{batch}")
        batch += 1
        made += size
        print(f"requested {made}/{n} at {time.time() - t0:.0f}s", flush=True)
    while True:
        states: dict[str, int] = {}
        for s in ours():
            states[s["Status"]] = states.get(s["Status"], 0) + 1
        print(f"{time.time() - t0:.0f}s: {states}", flush=True)
        if states.get("ACTIVE", 0) + states.get("ERROR", 0) >= n:
            break
        time.sleep(15)


def delete() -> None:
    t0 = time.time()
    ids = [s["ID"] for s in ours()]
    for i in range(0, len(ids), BATCH):
        cli("server", "delete", *ids[i:i + BATCH])
    while ours():
        print(f"{time.time() - t0:.0f}s: {len(ours())} left", flush=True)
        time.sleep(15)
    print(f"deleted {len(ids)} in {time.time() - t0:.0f}s")


if __name__ == "__main__":
    if sys.argv[1:2] == ["boot"]:
        boot(int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
    elif sys.argv[1:2] == ["delete"]:
        delete()
    else:
        raise SystemExit(__doc__)
