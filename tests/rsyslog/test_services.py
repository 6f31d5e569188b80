"""Service and program derivation: syslog tag / file name, logger, log directory, facility."""

from __future__ import annotations

import pytest

from stackwatch.rsyslog.services import program_from_path, service_for


@pytest.mark.parametrize("program, logger, expected", [
    ("nova-compute", "oslo.messaging._drivers.impl_rabbit", "nova"),
    ("neutron-keepalived-state-change", None, "neutron"),
    ("swift-proxy-server", None, "swift"),
    ("placement-api", None, "placement"),
    ("nova_compute", None, "nova"),                      # kolla container names
    ("", "glance.api.v2.images", "glance"),
    ("", "keystone.common.wsgi", "keystone"),
    ("", "cinder.volume.manager", "cinder"),
    ("uwsgi", "placement.requestlog", "placement"),
    ("sshd", None, ""),
    ("", "oslo_messaging.rpc.server", ""),
    ("", None, ""),
])
def test_service_from_program_then_logger(program, logger, expected):
    assert service_for(program, logger) == expected


def test_service_from_directory_and_facility():
    assert service_for("server", "oslo_service.service", "neutron") == "neutron"
    assert service_for("uwsgi", None, "", 19, {19: "keystone"}) == "keystone"   # local3 -> keystone
    assert service_for("nova-api", None, "", 19, {19: "keystone"}) == "nova"    # the program wins


@pytest.mark.parametrize("path, program, service", [
    ("/var/log/nova/nova-compute.log", "nova-compute", "nova"),
    ("/var/log/nova/nova-compute.log.1", "nova-compute", "nova"),
    ("/var/log/nova/nova-api.log.2.gz", "nova-api", "nova"),
    ("/var/log/neutron/server.log", "neutron-server", "neutron"),
    ("/var/log/neutron/openvswitch-agent.log", "neutron-openvswitch-agent", "neutron"),
    ("/var/log/keystone/keystone.log", "keystone", "keystone"),
    ("nova-api.log.1.2017-05-16_13:53:08", "nova-api", ""),
    ("/var/log/syslog", "syslog", ""),
    ("", "", ""),
])
def test_program_from_path(path, program, service):
    assert program_from_path(path) == (program, service)
