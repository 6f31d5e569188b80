"""The alerting section of the shipped config.yaml: valid as shipped, and its commented routing example
valid once uncommented (so the example a user copies works)."""

from __future__ import annotations

import yaml

from stackwatch.config import build_config, load_config
from tests.conftest import ROOT, minimal_raw


def commented_block(first: str, last: str) -> list[str]:
    lines = (ROOT / "config.yaml").read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith(f"  # {first}"))
    end = next(i for i, l in enumerate(lines) if i > start and l.startswith(f"  # {last}"))
    return [l.replace("  # ", "  ", 1) for l in lines[start:end + 1]]


def test_shipped_config_alerting_is_valid():
    cfg = load_config(ROOT / "config.yaml", environ={})
    assert cfg.alerting.rules and cfg.alerting.route is None    # no receivers on a bare machine: no route


def test_commented_routing_example_is_valid(tmp_path):
    routing = yaml.safe_load("\n".join(commented_block("external_url:", "  compute-admins:")))
    rules = yaml.safe_load("\n".join(l.replace("  ", "", 1) for l in commented_block("  - {name: NovaLogsSilent",
                                                                                       "     resolve_threshold")))
    receivers = [{"name": n, "type": "webhook", "url": f"http://127.0.0.1:9/{n}"}
                 for n in ("ops-mail", "chat", "pager")]
    raw = minimal_raw(tmp_path, alerting={**routing, "receivers": receivers, "rules": rules})
    cfg = build_config(raw, tmp_path / "config.yaml", environ={})
    route = cfg.alerting.route
    assert route.receiver == "ops-mail" and route.group_by == ("alertname", "role")
    assert [r.receiver for r in route.routes] == ["compute-admins", "chat"]
    assert route.routes[0].escalate[0].after == 900 and route.routes[1].period == "business-hours"
    assert [g.receivers for g in cfg.alerting.contact_groups] == [("ops-mail", "chat")]
    assert [r.kind for r in cfg.alerting.rules] == ["absent", "metric", "metric"]
    assert cfg.alerting.rules[2].resolve_threshold == 0.9
