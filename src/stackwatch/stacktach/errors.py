"""Error notifications as one uniform `ErrorEvent`: what failed, where, for which instance and
request, with which exception.

Pure: stdlib only. Sources, all already recognized by the decoder (`Notification.is_error`):
- `*.error` event types, legacy (`compute.instance.create.error`: payload `message` and
  `exception`) and versioned (`instance.create.error`, `compute_task.build_instances.error`,
  `libvirt.connect.error`: an ExceptionPayload under `fault` or `reason`);
- versioned `compute.exception` (the payload is the ExceptionPayload itself);
- nova's legacy `@wrap_exception` notifications: priority ERROR, the event type is the bare method
  name (`terminate_instance`), payload `{exception, args}` with the instance in `args.instance`;
- any other priority ERROR/CRITICAL notification, or one whose payload carries a fault.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

from stackwatch.stacktach.notification import Notification


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    time: float | None
    service: str
    host: str | None
    event_type: str                  # as sent
    name: str                        # normalized
    instance_uuid: str | None
    request_id: str | None
    tenant_id: str | None
    exception: str | None            # class name, when the notification names one
    message: str | None
    function: str | None             # versioned ExceptionPayload: module.function
    message_id: str | None
    wrapped: bool                    # a legacy @wrap_exception method-name event

    @property
    def key(self) -> tuple[str, str, str]:
        """What to group and count by: service, event name, exception class (or "unknown")."""
        return self.service, self.name, self.exception or "unknown"


def is_wrap_exception(n: Notification) -> bool:
    """Legacy `@wrap_exception`: an ERROR whose event type is a bare method name (no dot) and whose
    payload has `exception`."""
    return n.priority == "ERROR" and "." not in n.event_type and "exception" in n.payload


def error_event(n: Notification) -> ErrorEvent | None:
    """The ErrorEvent of an error notification; None for anything else."""
    if not n.is_error:
        return None
    fault = n.fault
    return ErrorEvent(
        time=n.timestamp, service=n.service, host=n.host, event_type=n.event_type, name=n.name,
        instance_uuid=n.instance_uuid, request_id=n.request_id, tenant_id=n.tenant_id,
        exception=fault.exception if fault else None,
        message=fault.message if fault else None,
        function=fault.function if fault else None,
        message_id=n.message_id, wrapped=is_wrap_exception(n))


def error_events(notes: Iterable[Notification]) -> Iterator[ErrorEvent]:
    """The error events of a stream, in stream order."""
    for n in notes:
        event = error_event(n)
        if event is not None:
            yield event
