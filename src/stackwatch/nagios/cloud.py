"""The cloud-wide checks of config.yaml's `checks.cloud` (os-compute-services, os-endpoints, rabbitmq, ...)
as Nagios services: where they run, which Nagios host shows them, and their NRPE commands.

- The runner: the inventory host whose NRPE runs them, `nagios.cloud_checks_host`, else the first host
  with the `monitoring` role, else the first `controller`. `nrpe-config --host RUNNER` adds their commands.
- The Nagios host of each result: the entry's `host:` (default `openstack`), as `serve` records them, so
  passive results land. A name that is not an inventory host is a virtual host that nagios-config defines,
  at the runner's address (the checks are made from there), in host group `openstack-cloud`, with an
  always-UP host check: it is not a machine that can be down; the runner's liveness is its own host and
  `nrpe` service, on which every cloud service depends. A name that is an inventory host gets the
  services added to it.
- NRPE commands: `sw_<name>` under the default host, `sw_<host>_<name>` under any other (two brokers may
  both run a check named `rabbitmq`). Active services reach the runner's NRPE through the
  `stackwatch-cloud-nrpe` command, which names the runner's address, whatever host shows them.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackwatch.checks.cloud_scope import DEFAULT_HOST
from stackwatch.inventory import Host
from stackwatch.nagios.plan import NRPE_SERVICE, PlanError, ServiceCheck, arguments, command_name, validate_name

HOSTGROUP = "openstack-cloud"
MONITORING_ROLE = "monitoring"


@dataclass(frozen=True, slots=True)
class CloudHost:
    name: str                            # the Nagios host_name (the CheckResult.host of the results)
    virtual: bool                        # not an inventory host: nagios-config defines it
    services: tuple[ServiceCheck, ...]


def runner(config) -> Host | None:
    """The inventory host that runs the cloud checks for Nagios; None when there are none."""
    if not config.cloud_checks:
        return None
    inventory = config.inventory
    name = config.nagios.cloud_checks_host if config.nagios else None
    if name is not None:
        try:
            return inventory.host(name)
        except KeyError as exc:
            raise PlanError(f"nagios.cloud_checks_host: {exc.args[0]}") from None
    for role in (MONITORING_ROLE, "controller"):
        hosts = inventory.hosts_with_role(role)
        if hosts:
            return hosts[0]
    raise PlanError("checks.cloud: no inventory host to run the cloud checks from (none has the monitoring or "
                    "controller role): set nagios.cloud_checks_host to the host whose NRPE runs them")


def cloud_command(host: str, check: str) -> str:
    return command_name(check if host == DEFAULT_HOST else f"{host}_{check}")


def cloud_hosts(config) -> tuple[CloudHost, ...]:
    """The Nagios hosts of the cloud checks, in config order, each with its services."""
    inventory_names = {h.name for h in config.inventory.hosts}
    grouped: dict[str, list[ServiceCheck]] = {}
    for spec in config.cloud_checks:
        host = spec.hosts[0] if spec.hosts else DEFAULT_HOST
        validate_name("host", host)
        validate_name("check", spec.name)
        if spec.name == NRPE_SERVICE:
            raise PlanError(f"check name {NRPE_SERVICE!r} is taken by the NRPE service itself: rename the check")
        try:
            args = arguments(spec.options)
        except PlanError as exc:
            raise PlanError(f"checks.cloud {spec.name!r} (host {host}): {exc}") from None
        grouped.setdefault(host, []).append(ServiceCheck(spec.name, cloud_command(host, spec.name), spec.type,
                                                         args, spec.interval))
    return tuple(CloudHost(name, name not in inventory_names, tuple(services)) for name, services in grouped.items())


def runner_services(config, host: Host) -> tuple[ServiceCheck, ...]:
    """The cloud checks' NRPE commands when `host` is the runner, else none."""
    run_by = runner(config)
    if run_by is None or run_by.name != host.name:
        return ()
    return tuple(s for h in cloud_hosts(config) for s in h.services)


def check_clashes(host_services: dict[str, tuple[ServiceCheck, ...]], clouds: tuple[CloudHost, ...],
                  run_by: Host | None, roles: set[str]) -> None:
    """Refuse what Nagios or NRPE would refuse: a cloud service named as a check of the same inventory
    host, two commands of one NRPE with the same name, the host group's name taken by a role."""
    if clouds and HOSTGROUP in roles:
        raise PlanError(f"role {HOSTGROUP!r} clashes with the host group of the cloud checks' hosts: rename the role")
    for cloud in clouds:
        if cloud.virtual:
            continue
        own = {s.service for s in host_services.get(cloud.name, ())}
        for s in cloud.services:
            if s.service in own:
                raise PlanError(f"checks.cloud {s.service!r} on host {cloud.name}: that host already has a check of "
                                "that name: rename one")
    if run_by is None:
        return
    commands = {s.command: f"check {s.service!r} of {run_by.name}" for s in host_services.get(run_by.name, ())}
    for cloud in clouds:
        for s in cloud.services:
            what = f"cloud check {s.service!r} of {cloud.name}"
            if s.command in commands:
                raise PlanError(f"{commands[s.command]} and {what} both become NRPE command {s.command} on "
                                f"{run_by.name}: rename one")
            commands[s.command] = what
