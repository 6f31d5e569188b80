"""The os-instances judgement (pure, `now` given): ERROR, and building or deleting for too long."""

from __future__ import annotations

from stackwatch.checks.instances import InstancesCheck, InstancesOptions, Servers, judge, timestamp
from stackwatch.checks.openstack_api import ServerRow
from stackwatch.states import State

NOW = timestamp("2026-11-25T12:00:00Z")


def server(name, status="ACTIVE", task=None, created="2026-11-25T11:59:00Z", updated="2026-11-25T11:59:30Z",
           fault=None):
    return ServerRow(f"id-{name}", name, status, task, "c1", created, updated, fault)


def test_times_are_utc_with_or_without_zone():
    assert timestamp("2026-11-25T12:00:00Z") == timestamp("2026-11-25T12:00:00") == timestamp("2026-11-25T13:00:00+01:00")
    assert timestamp(None) is None and timestamp("yesterday") is None


def test_nothing_wrong_is_ok():
    check = InstancesCheck(InstancesOptions())
    outcome = judge(Servers(NOW, [], [server("b", "BUILD")], []), check.options)   # building for 1 minute
    assert check.status_line(outcome) == (
        "INSTANCES OK - 0 instances in ERROR, 0 instances building or deleting for more than 1h, 1 building, "
        "0 deleting | error=0;0;;0 stuck=0;0;;0 building=1;;;0 deleting=0;;;0")


def test_error_instances_are_named_with_their_fault():
    outcome = judge(Servers(NOW, [server("vm1", "ERROR", fault="No valid host was found.")], [], []),
                    InstancesOptions())
    assert outcome.state is State.WARNING
    assert outcome.summary.startswith("1 instances in ERROR: vm1 (id-vm1) [No valid host was found.] (outside range 0:0)")
    assert judge(Servers(NOW, [server("vm1", "ERROR")] * 3, [], []),
                 InstancesOptions(error_critical="2")).state is State.CRITICAL


def test_stuck_building_since_creation_and_deleting_since_update():
    old_build = server("b", "BUILD", created="2026-11-25T10:30:00Z")                  # 1h30m
    fresh_delete = server("d1", task="deleting", updated="2026-11-25T11:50:00Z")      # 10m
    old_delete = server("d2", task="deleting", created="2026-01-01T00:00:00Z", updated="2026-11-25T09:00:00Z")
    outcome = judge(Servers(NOW, [], [old_build], [fresh_delete, old_delete]), InstancesOptions())
    assert outcome.state is State.WARNING
    assert ("2 instances building or deleting for more than 1h: b (id-b) building for 1h30m, "
            "d2 (id-d2) deleting for 3h") in outcome.summary
    assert judge(Servers(NOW, [], [old_build], []), InstancesOptions(stuck_after="2h")).state is State.OK
    assert judge(Servers(NOW, [], [old_build], []), InstancesOptions(stuck_critical="0")).state is State.CRITICAL


def test_an_unreadable_time_counts_as_stuck():
    outcome = judge(Servers(NOW, [], [server("b", "BUILD", created=None)], []), InstancesOptions())
    assert outcome.state is State.WARNING and "building for an unknown time" in outcome.summary
