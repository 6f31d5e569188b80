"""Faults in notification payloads: what exception, with what message, an error notification reports.

Pure: stdlib only. Shapes (NOTES 3.2): a versioned ExceptionPayload (`exception`,
`exception_message`, `function_name`, `module_name`) as the payload itself (`compute.exception`) or
under `fault` (InstanceActionPayload) or `reason` (`compute_task.*.error`, `libvirt.connect.error`);
legacy `*.error` payloads with `message` and `exception` (a repr string, or a dict with `kwargs`);
`@wrap_exception` payloads `{exception, args}`; the legacy scheduler's ERROR with a `reason` string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stackwatch.stacktach.times import text


@dataclass(frozen=True, slots=True)
class Fault:
    exception: str | None            # class name: "NoValidHost", "FlavorDiskTooSmall"
    message: str | None
    function: str | None = None      # versioned ExceptionPayload: "module.function"


def _first_text(*values: object) -> str | None:
    return next((t for t in map(text, values) if t is not None), None)


_REPR = re.compile(r"<?([A-Za-z_][\w.]*?)(?:_Remote)?(?:\(|: | object\b|$)")


def _exception_class(value: str) -> str | None:
    """`NoValidHost_Remote(...)`, `nova.exception.Foo: msg`, `<Foo object at 0x..>` -> class name."""
    m = _REPR.match(value.strip())
    if not m or not (m.group(1)[:1].isupper() or "." in m.group(1)):
        return None
    return m.group(1).rpartition(".")[2] or None


def fault_of(p: dict, payload_type: str | None, priority: str | None) -> Fault | None:
    """The fault a (flattened) payload reports, or None."""
    def versioned(exc: dict) -> Fault:
        module, func = text(exc.get("module_name")), text(exc.get("function_name"))
        where = f"{module}.{func}" if module and func else func
        return Fault(text(exc.get("exception")), text(exc.get("exception_message")), where)

    if payload_type == "ExceptionPayload" or ("exception_message" in p and "exception" in p):
        return versioned(p)
    for key in ("fault", "reason"):                           # InstanceActionPayload, ComputeTask
        nested = p.get(key)
        if isinstance(nested, dict) and ("exception" in nested or "exception_message" in nested):
            return versioned(nested)
    exc = p.get("exception")
    if exc is not None:                                       # legacy *.error and @wrap_exception
        cls = message = None
        if isinstance(exc, str):
            cls = _exception_class(exc)
            message = exc
        elif isinstance(exc, dict):
            kwargs = exc.get("kwargs") if isinstance(exc.get("kwargs"), dict) else {}
            cls = _first_text(exc.get("class"), exc.get("exc_type"))
            message = _first_text(exc.get("message"), kwargs.get("reason"), kwargs.get("message"))
        return Fault(cls, text(p.get("message")) or message)
    if priority == "ERROR" and text(p.get("reason")):        # legacy scheduler.run_instance
        return Fault(None, text(p.get("reason")))
    return None
