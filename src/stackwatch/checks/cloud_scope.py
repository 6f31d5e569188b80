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
"""

from __future__ import annotations

DEFAULT_HOST = "openstack"


def build_cloud_checks(r, raw, interval: float, jitter: float) -> list:
    """The CheckSpecs of `checks.cloud` (problems go to the Reader `r`)."""
    from stackwatch.checks import get_check
    from stackwatch.checks.options import options_from_mapping
    from stackwatch.config import CheckSpec

    specs = []
    for i, c in enumerate(r.list(raw, "checks.cloud")):
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
        options, problems = options_from_mapping(plugin.Options, r.mapping(cm.get("options"), f"{path}.options"))
        for p in problems:
            r.problems.append(f"{path}.options.{p}")
        specs.append(CheckSpec(r.str(cm, "name", path, ctype), ctype, options,
                               r.duration(cm, "interval", path, interval), r.duration(cm, "jitter", path, jitter),
                               (r.str(cm, "host", path, DEFAULT_HOST),)))
    return specs
