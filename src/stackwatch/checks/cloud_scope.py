"""config.yaml's `checks.cloud`: checks of the cloud as a whole (its APIs, its broker, its capacity), run once
by this stackwatch rather than on every host, and recorded under a host name of their own.

```yaml
checks:
  cloud:
    - {type: os-compute-services, interval: 60s, options: {critical: "0"}}
    - {type: rabbitmq, host: rabbit-1, options: {url: "http://10.0.0.5:15672", user: monitor}}
```

Each entry has the keys of a `checks.host` entry (type, name, interval, jitter, options) and `host`, the name
the results are shown under (default "openstack", as the OpenStack probes). Options are validated by the
check's own Options class, so an unknown option or a bad threshold is a config error naming its path.
They become `Config.cloud_checks`, which `serve` schedules once each.
"""

from __future__ import annotations

DEFAULT_HOST = "openstack"


def build_cloud_checks(r, raw_checks, raw_openstack=None) -> tuple:
    """The CheckSpecs of `checks.cloud` in the raw `checks:` section (problems go to the Reader `r`).
    They are kept apart from `Config.checks` (the checks of this machine's hosts, which the NRPE and coverage
    plans read per inventory host); `checks.defaults` gives their interval and jitter. An OpenStack check
    that names no `cloud`/`region` of its own takes those of the `openstack:` section (checked there)."""
    from stackwatch.checks import get_check
    from stackwatch.checks.options import options_from_mapping
    from stackwatch.config import CheckSpec
    from stackwatch.config_reader import Reader

    if not isinstance(raw_checks, dict) or raw_checks.get("cloud") is None:
        return ()
    quiet = Reader(r.environ, r.base_dir)  # checks.defaults' problems are reported by the checks builder
    defaults = quiet.mapping(raw_checks.get("defaults"), "checks.defaults")
    interval = quiet.duration(defaults, "interval", "checks.defaults", "60s")
    jitter = quiet.duration(defaults, "jitter", "checks.defaults", "5s")
    specs, seen = [], set()
    for i, c in enumerate(r.list(raw_checks.get("cloud"), "checks.cloud")):
        path = f"checks.cloud[{i}]"
        cm = r.mapping(c, path, ("type", "name", "host", "interval", "jitter", "options"))
        ctype = r.str(cm, "type", path)
        if not ctype:
            continue
        try:
            plugin = get_check(ctype)
        except KeyError as exc:
            r.problem(f"{path}.type", str(exc.args[0]))
            continue
        given = r.mapping(cm.get("options"), f"{path}.options")
        options, problems = options_from_mapping(plugin.Options, {**inherited(plugin.Options, raw_openstack), **given})
        for p in problems:
            r.problems.append(f"{path}.options.{p}")
        name, host = r.str(cm, "name", path, ctype), r.str(cm, "host", path, DEFAULT_HOST)
        if (host, name) in seen:
            r.problem(f"{path}.name", f"duplicate check name {name!r} on host {host!r}", "give each a distinct name")
        seen.add((host, name))
        specs.append(CheckSpec(name, ctype, options, r.duration(cm, "interval", path, interval),
                               r.duration(cm, "jitter", path, jitter), (host,)))
    return tuple(specs)


def inherited(options_cls, raw_openstack) -> dict:
    """`cloud` and `region` of the raw `openstack:` section, for a check whose options have them."""
    from stackwatch.checks.options import fields

    if not isinstance(raw_openstack, dict):
        return {}
    names = {f.name for f in fields(options_cls)}
    return {k: raw_openstack[k] for k in ("cloud", "region") if k in names and isinstance(raw_openstack.get(k), str)}
