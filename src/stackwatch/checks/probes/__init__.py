"""Probes that use the cloud as a user would: upload an image, boot an instance, create a user, store an object,
create a volume; each timed step by step and cleaned up, as `stackwatch-check probe-<kind>`, `stackwatch probe
KIND` and scheduled in serve. `KINDS` maps each kind to its module (imported only when needed)."""

KINDS = {
    "image": "stackwatch.checks.probes.image",
    "instance": "stackwatch.checks.probes.instance",
    "user": "stackwatch.checks.probes.user",
    "object": "stackwatch.checks.probes.objects",
    "volume": "stackwatch.checks.probes.volume",
}


def probe_class(kind: str):
    """The Probe subclass of `kind` (KeyError naming the kinds for another)."""
    if kind not in KINDS:
        raise KeyError(f"unknown probe {kind!r}; known: {', '.join(KINDS)}")
    import importlib

    return importlib.import_module(KINDS[kind]).PROBE
