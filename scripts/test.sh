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
# elsewhere (STACKWATCH_LAB=1); those tests skip on a laptop without it and fail in CI.
if [ -n "${CI:-}" ] || [ -n "${STACKWATCH_LAB:-}" ]; then
  ./scripts/lab.sh
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]'
exec .venv/bin/python -m pytest "$@"
