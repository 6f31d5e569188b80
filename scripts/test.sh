#!/usr/bin/env bash
# Set up and run the whole test suite: Debian packages the tests use for real, a venv with stackwatch
# and its test extras, then pytest. CI runs exactly this (through .ci/run) with CI=true, where nothing
# may skip for a missing service.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="monitoring-plugins-basic hyperfine util-linux rsyslog rsyslog-relp rsyslog-gnutls bsdutils openssl rabbitmq-server prometheus-alertmanager nagios4-core nagios-nrpe-server nagios-nrpe-plugin chromium poppler-utils"
missing=""
for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "note: not root, not installing:$missing (tests that need them skip outside CI)" >&2
  fi
fi

# The OpenStack lab (../shared/lab) for the tests that drive a real cloud: always in CI, on request
# elsewhere (STACKWATCH_LAB=1); those tests skip on a laptop without it and fail in CI. A cold lab takes
# minutes to come up, so it comes up in the background while the other tests run; the tests that use it
# (marked `lab` by tests/conftest.py) run afterwards.
lab_pid=""
if [ -n "${CI:-}" ] || [ -n "${STACKWATCH_LAB:-}" ]; then
  lab_out="${TMPDIR:-/tmp}/stackwatch-lab-sh.out"
  ./scripts/lab.sh >"$lab_out" 2>&1 &
  lab_pid=$!
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
if [ -z "$lab_pid" ]; then
  exec .venv/bin/python -m pytest "$@"
fi

rc=0
.venv/bin/python -m pytest -m "not lab" "$@" || rc=$?
if ! wait "$lab_pid"; then
  echo "the OpenStack lab did not come up; the lab tests will fail:" >&2
fi
cat "$lab_out" >&2
.venv/bin/python -m pytest -m lab "$@" || { r=$?; [ "$r" = 5 ] || [ "$rc" != 0 ] || rc=$r; }   # 5: none collected
exit "$rc"
