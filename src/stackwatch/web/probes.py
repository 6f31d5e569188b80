"""The probes page (/probes): the newest result of every probe check (`probe-<kind>`) on every host, the request
id of a failed step linked to its log trace (/trace/<request id>), and the probes' latest step timings."""

from __future__ import annotations

import re

from flask import Blueprint, render_template

from stackwatch.web.deps import deps

bp = Blueprint("probes", __name__)

# the request ids OpenStack services hand out (oslo: req-UUID) as a probe's summary names them
REQUEST_ID = re.compile(r"\breq-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")


def summary_parts(summary: str) -> list[tuple[str, bool]]:
    """The summary split into (text, is_request_id) parts, for the template to link the ids (and escape all)."""
    parts, last = [], 0
    for m in REQUEST_ID.finditer(summary):
        parts += [(summary[last:m.start()], False), (m.group(0), True)]
        last = m.end()
    parts.append((summary[last:], False))
    return [p for p in parts if p[0]]


@bp.get("/probes")
def index():
    d = deps()
    checks = [c for c in d.store.checks.current() if c.check.startswith("probe-")]
    steps = {}
    for info, _ts, value in d.store.metrics.latest("stackwatch_probe_step_seconds"):
        steps.setdefault(info.key.label("probe"), []).append((info.key.label("step"), value))
    return render_template("probes.html", checks=checks, parts={(c.host, c.check): summary_parts(c.summary)
                                                                  for c in checks},
                           steps=steps, now=d.clock())
