"""The `openstack:` section of config.yaml: which cloud, the inventory collectors and the probes.

```yaml
openstack:
  cloud: mycloud            # a clouds.yaml entry; leave out to use the OS_* environment (an openrc)
  region: RegionOne
  timeout: 30s              # per API request
  workers: 8                # parallel API requests at most
  collectors: {interval: 5m, enabled: [compute_services, hypervisors, instances, images, volumes,
                                       floating_ips, network_agents, quotas]}
  probes: {project: stackwatch-probes, kinds: [image, instance, user, object, volume], interval: 10m}
```

The section's presence turns the OpenStack collectors on; probes run in serve only when `probes.kinds` is set.
Credentials never appear here: they stay in clouds.yaml/secure.yaml or the environment.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackwatch.config_reader import Reader

COLLECTOR_NAMES = ("compute_services", "hypervisors", "instances", "images", "volumes", "floating_ips",
                   "network_agents", "quotas")
PROBE_KINDS = ("image", "instance", "user", "object", "volume")


@dataclass(frozen=True, slots=True)
class ProbeConfig:
    project: str | None = None           # the dedicated project probes run in (None: the connection's own)
    kinds: tuple[str, ...] = ()          # scheduled in serve
    interval: float = 600.0
    step_timeout: float = 120.0          # each step fails after this long
    slow: float = 60.0                   # WARNING when a whole probe takes longer
    image_size_mb: int = 4
    flavor: str = "m1.tiny"
    image: str | None = None             # the instance probe's image (name or id)
    network: str = "none"                # "none", "auto", or a network id
    microversion: str = "2.37"
    volume_size_gb: int = 1
    user_domain: str = "default"
    reaper_max_age: float = 3600.0       # probe leftovers older than this are deleted and counted as leaked
    host: str = "openstack"              # the host column probe results are shown under


@dataclass(frozen=True, slots=True)
class OpenStackConfig:
    enabled: bool = False
    cloud: str | None = None
    region: str | None = None
    timeout: float = 30.0
    workers: int = 8
    page_size: int = 1000
    interval: float = 300.0              # how often the inventory is read
    full_resync: float = 3600.0          # servers: a full list this often, changes-since in between
    collectors: tuple[str, ...] = COLLECTOR_NAMES
    probes: ProbeConfig = ProbeConfig()


def build_openstack(r: Reader, raw) -> OpenStackConfig:
    """The section from its raw YAML value (None: OpenStack monitoring off); problems go to `r`."""
    if raw is None:
        return OpenStackConfig()
    m = r.mapping(raw, "openstack", ("cloud", "region", "timeout", "workers", "page_size", "collectors", "probes"))
    cm = r.mapping(m.get("collectors"), "openstack.collectors", ("interval", "full_resync", "enabled"))
    enabled = r.str_list(cm, "enabled", "openstack.collectors") if "enabled" in cm else COLLECTOR_NAMES
    for name in enabled:
        if name not in COLLECTOR_NAMES:
            r.problem("openstack.collectors.enabled", f"unknown collector {name!r}",
                      f"known: {', '.join(COLLECTOR_NAMES)}")
    return OpenStackConfig(
        enabled=True, cloud=r.str(m, "cloud", "openstack", None), region=r.str(m, "region", "openstack", None),
        timeout=r.duration(m, "timeout", "openstack", "30s"),
        workers=int(r.number(m, "workers", "openstack", 8, 1)),
        page_size=int(r.number(m, "page_size", "openstack", 1000, 1)),
        interval=r.duration(cm, "interval", "openstack.collectors", "5m"),
        full_resync=r.duration(cm, "full_resync", "openstack.collectors", "1h"),
        collectors=tuple(n for n in enabled if n in COLLECTOR_NAMES),
        probes=_build_probes(r, m.get("probes")))


def _build_probes(r: Reader, raw) -> ProbeConfig:
    path = "openstack.probes"
    pm = r.mapping(raw, path, ("project", "kinds", "interval", "step_timeout", "slow", "image_size_mb", "flavor",
                               "image", "network", "microversion", "volume_size_gb", "user_domain",
                               "reaper_max_age", "host"))
    kinds = r.str_list(pm, "kinds", path)
    for kind in kinds:
        if kind not in PROBE_KINDS:
            r.problem(f"{path}.kinds", f"unknown probe {kind!r}", f"known: {', '.join(PROBE_KINDS)}")
    if "instance" in kinds and not pm.get("image"):
        r.problem(f"{path}.image", "required by the instance probe", "the name or id of a small image to boot")
    d = ProbeConfig()
    return ProbeConfig(
        project=r.str(pm, "project", path, None), kinds=tuple(k for k in kinds if k in PROBE_KINDS),
        interval=r.duration(pm, "interval", path, "10m"), step_timeout=r.duration(pm, "step_timeout", path, "2m"),
        slow=r.duration(pm, "slow", path, "1m"),
        image_size_mb=int(r.number(pm, "image_size_mb", path, d.image_size_mb, 1)),
        flavor=r.str(pm, "flavor", path, d.flavor), image=r.str(pm, "image", path, None),
        network=r.str(pm, "network", path, d.network), microversion=r.str(pm, "microversion", path, d.microversion),
        volume_size_gb=int(r.number(pm, "volume_size_gb", path, 1, 1)),
        user_domain=r.str(pm, "user_domain", path, d.user_domain),
        reaper_max_age=r.duration(pm, "reaper_max_age", path, "1h"), host=r.str(pm, "host", path, d.host))
