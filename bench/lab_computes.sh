#!/bin/bash
# Extra fake-driver compute hosts in the OpenStack lab, for booting 1,000 instances (bench_inventory --lab).
#
#   bench/lab_computes.sh start 10    # nova-compute processes for hosts fake-1..fake-10 (fake driver)
#   bench/lab_computes.sh stop        # stop them, delete their compute services and resource providers
#
# Why: with one compute host, nova Zed's resource tracker reads every allocation on its provider for each
# claim (report client get_allocations_for_provider_tree: one GET /allocations/<consumer> per instance on
# the host), so booting N instances costs ~N^2/2 placement requests: 1,000 instances on the lab's single
# host would take hours. Spread over H hosts it costs N^2/(2H). Each extra host is a nova-compute process
# with the lab's compute config plus `host = fake-i`, its own log and pid file; the scheduler maps the
# new hosts to the cell within discover_hosts_in_cells_interval (60 s), forced here with nova-manage.
# `stop` leaves the lab as it was: the services and providers of the fake hosts are deleted, so nothing
# reports them as down afterwards. Instances must be deleted first (bench/lab_instances.py delete).
set -euo pipefail
RUN=/run/openstack-lab/fake-computes
. /etc/openstack-lab/openrc
export PATH=/usr/bin:/bin:/usr/sbin:/sbin

start() {
  local n=${1:-10}
  mkdir -p "$RUN"
  for i in $(seq 1 "$n"); do
    local conf="$RUN/fake-$i.conf" pid="$RUN/fake-$i.pid"
    if [ -f "$pid" ] && kill -0 "$(cat "$pid")" 2>/dev/null; then continue; fi
    printf '[DEFAULT]\nhost = fake-%s\nlog_file = /var/log/nova/nova-compute-fake-%s.log\n' "$i" "$i" > "$conf"
    chmod 644 "$conf"
    setsid setpriv --reuid=nova --regid=nova --init-groups -- \
      nova-compute --config-file /etc/nova/nova-cpu.conf --config-file "$conf" \
      > "/var/log/openstack-lab/nova-compute-fake-$i.out" 2>&1 < /dev/null &
    echo $! > "$pid"
  done
  echo "waiting for $n fake compute services to report up"
  for _ in $(seq 1 60); do
    up=$(openstack compute service list --service nova-compute -f value -c Host -c State | grep -c '^fake-.* up$' || true)
    [ "$up" -ge "$n" ] && break
    sleep 5
  done
  setpriv --reuid=nova --regid=nova --init-groups -- nova-manage cell_v2 discover_hosts > /dev/null
  for _ in $(seq 1 30); do
    hv=$(openstack hypervisor list -f value -c 'Hypervisor Hostname' | grep -c '^fake-' || true)
    [ "$hv" -ge "$n" ] && break
    sleep 5
  done
  echo "fake compute hosts up: $up services, $hv hypervisors"
}

stop() {
  for pid in "$RUN"/fake-*.pid; do
    [ -f "$pid" ] || continue
    kill "$(cat "$pid")" 2>/dev/null || true
    rm -f "$pid"
  done
  sleep 3
  pkill -f "config-file $RUN/fake-" 2>/dev/null || true
  for id in $(openstack compute service list --service nova-compute -f value -c ID -c Host | awk '$2 ~ /^fake-/ {print $1}'); do
    openstack compute service delete "$id"
  done
  for rp in $(openstack --os-placement-api-version 1.14 resource provider list -f value -c uuid -c name | awk '$2 ~ /^fake-/ {print $1}'); do
    openstack resource provider delete "$rp" 2>/dev/null || true
  done
  echo "fake compute hosts removed"
}

case "${1:-}" in
  start) start "${2:-10}" ;;
  stop) stop ;;
  *) sed -n 2,14p "$0"; exit 2 ;;
esac
