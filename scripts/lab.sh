#!/usr/bin/env bash
# Bring the shared OpenStack lab (../shared/lab, a real single-node OpenStack Zed on loopback) up for the
# lab tests (tests/e2e/test_lab_notifications.py). Idempotent: when the lab already answers, nothing is done.
# Otherwise `openstack-lab.sh up` runs (apt install the first time, configure, start, verify: ~8 min cold,
# ~4-5 min with packages present), its output going to a log file. One result line; exit non-zero on failure.
#
#   scripts/lab.sh            # up if needed
#   LAB_LOG_FILE=/path/x.log scripts/lab.sh
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
lab_dir="$here/../../shared/lab"
[ -x "$lab_dir/openstack-lab.sh" ] || lab_dir=/work/shared/lab
lab="$lab_dir/openstack-lab.sh"
if [ ! -x "$lab" ]; then
  echo "lab: FAILED - openstack-lab.sh not found (looked in $here/../../shared/lab and /work/shared/lab)" >&2
  exit 2
fi
log_file="${LAB_LOG_FILE:-${TMPDIR:-/tmp}/stackwatch-lab-up.log}"

# The daemons the notification tests need; cinder/swift extras are not required.
NEEDED="rabbitmq keystone glance-api placement-api neutron-server nova-api nova-conductor nova-scheduler nova-compute"

lab_answers() {
  local status s
  status="$("$lab" status 2>/dev/null)" || return 1
  for s in $NEEDED; do
    echo "$status" | awk -v s="$s" '$1==s && $3=="running" {ok=1} END {exit !ok}' || return 1
  done
  # keystone must answer HTTP, and the broker's management API must be listening
  curl -s -o /dev/null --max-time 5 -w '%{http_code}' http://127.0.0.1:5000/v3 | grep -q '^200$' || return 1
  (exec 3<>/dev/tcp/127.0.0.1/15673) 2>/dev/null || return 1
  (exec 3<>/dev/tcp/127.0.0.1/5673) 2>/dev/null || return 1
  return 0
}

if lab_answers; then
  echo "lab: already up ($lab_dir; keystone 127.0.0.1:5000, rabbitmq 127.0.0.1:5673/15673)"
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "lab: FAILED - not running and bringing it up needs root (apt, daemons as service users)" >&2
  exit 1
fi

t0=$(date +%s)
echo "lab: not running, starting: $lab up (log: $log_file)" >&2
"$lab" up >"$log_file" 2>&1
rc=$?
secs=$(( $(date +%s) - t0 ))
if [ "$rc" -ne 0 ]; then
  echo "lab: FAILED - '$lab up' exited $rc after ${secs}s; last lines of $log_file:" >&2
  tail -n 20 "$log_file" >&2
  exit "$rc"
fi
if ! lab_answers; then
  echo "lab: FAILED - '$lab up' exited 0 after ${secs}s but the lab does not answer (see $log_file)" >&2
  exit 1
fi
echo "lab: up in ${secs}s ($lab_dir; log: $log_file)"
