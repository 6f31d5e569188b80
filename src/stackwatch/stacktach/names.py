"""Event names and publishers: one normalized `name` for the legacy and the versioned form of the
same event, and the service and host a `publisher_id` names.

Pure: stdlib only.

Name mapping (`normalize_name`), applied to the event_type as sent:

1. nova legacy instance events lose their `compute.` prefix: `compute.instance.create.end` and
   versioned `instance.create.end` are both `instance.create.end`. Nova's double-prefixed
   `compute.instance.instance.create.error` (seen in real Rackspace captures) becomes
   `instance.create.error`.
2. Legacy actions spelt with dots take the versioned single-word spelling (`LEGACY_ACTIONS`):
   `resize.prep` -> `resize_prep`, `finish_resize` -> `resize_finish`, `resize.confirm` ->
   `resize_confirm`, `resize.revert` -> `resize_revert`, `live_migration.pre` ->
   `live_migration_pre`, `live_migration._post` -> `live_migration_post`, `live_migration.post.dest`
   -> `live_migration_post_dest`, `live_migration._rollback` -> `live_migration_rollback`,
   `live_migration.rollback.dest` -> `live_migration_rollback_dest`, `volume.attach` ->
   `volume_attach`, `volume.detach` -> `volume_detach`.
3. Everything else keeps its event_type: `volume.create.end`, `image.create`,
   `identity.user.created`, `scheduler.run_instance.start`, `compute.exception`,
   `compute_task.build_instances.error`, and the bare method names of nova's `@wrap_exception`
   errors (`terminate_instance`). Unknown event types are their own name.
"""

from __future__ import annotations

from functools import lru_cache

# legacy action (after "instance.") -> versioned action; longest first so prefixes don't shadow
LEGACY_ACTIONS: dict[str, str] = {
    "live_migration.rollback.dest": "live_migration_rollback_dest",
    "live_migration.post.dest": "live_migration_post_dest",
    "live_migration._rollback": "live_migration_rollback",
    "live_migration._post": "live_migration_post",
    "live_migration.pre": "live_migration_pre",
    "resize.confirm": "resize_confirm",
    "resize.revert": "resize_revert",
    "resize.prep": "resize_prep",
    "finish_resize": "resize_finish",
    "volume.attach": "volume_attach",
    "volume.detach": "volume_detach",
}
_PHASES = ("start", "end", "error")

# first word of publisher_id -> service
PUBLISHER_SERVICES: dict[str, str] = {
    "compute": "nova", "api": "nova", "scheduler": "nova", "conductor": "nova",
    "compute_task": "nova", "nova": "nova",
    "image": "glance", "glance": "glance",
    "volume": "cinder", "capacity": "cinder", "snapshot": "cinder", "backup": "cinder",
    "cinder": "cinder",
    "network": "neutron", "neutron": "neutron",
    "identity": "keystone", "keystone": "keystone",
    "orchestration": "heat", "heat": "heat",
}


@lru_cache(maxsize=8192)   # the same few hundred names and publishers, again and again
def normalize_name(event_type: str) -> str:
    """The event name shared by the legacy and versioned forms (see the module docstring)."""
    rest: str | None = None
    if event_type.startswith("compute.instance.instance."):
        rest = event_type[len("compute.instance.instance."):]
    elif event_type.startswith("compute.instance."):
        rest = event_type[len("compute.instance."):]
    elif event_type.startswith("instance."):
        rest = event_type[len("instance."):]
    if rest is None:
        return event_type
    for legacy, versioned in LEGACY_ACTIONS.items():
        if rest == legacy or (rest.startswith(legacy + ".") and rest[len(legacy) + 1:] in _PHASES):
            rest = versioned + rest[len(legacy):]
            break
    return "instance." + rest


@lru_cache(maxsize=8192)
def split_publisher(publisher_id: str | None) -> tuple[str | None, str | None]:
    """`compute.host-1` -> ("compute", "host-1"); versioned `nova-compute:host-1` ->
    ("nova-compute", "host-1"); devstack's `compute:Node_2` -> ("compute", "Node_2");
    cinder's `volume.vm@fake#fake` -> ("volume", "vm@fake#fake")."""
    if not publisher_id:
        return None, None
    dot, colon = publisher_id.find("."), publisher_id.find(":")
    cuts = [i for i in (dot, colon) if i > 0]
    if not cuts:
        return publisher_id, None
    cut = min(cuts)
    return publisher_id[:cut], publisher_id[cut + 1:] or None


@lru_cache(maxsize=8192)
def service_of(publisher_id: str | None, event_type: str, exchange: str | None = None) -> str:
    """nova/glance/cinder/neutron/keystone/... from the publisher's first word; a versioned binary
    (`nova-compute`, `cinder-volume`) gives its project; otherwise the exchange, then the first word
    of the publisher, then the first word of the event type."""
    kind, _host = split_publisher(publisher_id)
    if kind:
        if kind in PUBLISHER_SERVICES:
            return PUBLISHER_SERVICES[kind]
        project = kind.partition("-")[0]
        if "-" in kind and project:
            return PUBLISHER_SERVICES.get(project, project)
    if exchange and exchange != "openstack":          # cinder's default control_exchange
        return exchange
    if kind:
        return kind
    first = event_type.partition(".")[0]
    return PUBLISHER_SERVICES.get(first, first) or "unknown"


@lru_cache(maxsize=8192)
def bare_host(host: str | None) -> str | None:
    """cinder's `host@backend#pool` -> `host`; other hosts unchanged; "" -> None."""
    if not host:
        return None
    return host.partition("@")[0].partition("#")[0] or None


@lru_cache(maxsize=8192)
def is_compute_publisher(publisher_id: str | None) -> bool:
    kind, _host = split_publisher(publisher_id)
    return kind in ("compute", "nova-compute")
