"""A synthetic cloud's history for report tests and bench/bench_report.py, loaded through the public ingest
paths: nova notifications (oslo v2 envelope, legacy format, as the consumer hands them over) into
NotificationIngest's sink, collector-shaped samples into the metrics store's write(), alerts through the alert
store. Deterministic (seeded).

Shape: `tenants` tenants, `nodes` compute nodes, `instances` instances launched between `data_start` and the
period's end, some deleted (a deterministic share), one tenant deleted mid-period (its instances deleted first,
then keystone's identity.project.deleted), monthly compute.instance.exists (nova's default audit period) with a
few missing and a few wrong on purpose. Hourly hypervisor/load/API/probe samples, 6-hourly quotas, volumes,
floating IPs and images.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timezone

from stackwatch.model import Kind, Sample, SeriesKey
from stackwatch.stacktach.ingest import NotificationIngest
from stackwatch.stacktach.message import AmqpMessage

FLAVORS = {  # name: (vcpus, memory_mb, root_gb)
    "m1.tiny": (1, 512, 1), "m1.small": (1, 2048, 20), "m1.medium": (2, 4096, 40), "m1.large": (4, 8192, 80),
    "m1.xlarge": (8, 16384, 160),
}
NODE_VCPUS, NODE_RAM, NODE_DISK = 64, 262144, 4000
SERVICES = ("nova", "glance", "cinder", "keystone", "neutron")
PROBES = ("image", "instance", "user", "volume")


@dataclass
class Instance:
    uuid: str
    tenant: str
    flavor: str
    host: str
    launched_at: float
    deleted_at: float | None


@dataclass
class Cloud:
    start: float
    end: float
    tenants: list[str]
    nodes: list[str]
    instances: list[Instance]
    deleted_tenant: str
    tenant_deleted_at: float
    missing_exists: set[str] = field(default_factory=set)
    wrong_exists: set[str] = field(default_factory=set)


def _ts(t: float) -> str:
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def make_cloud(data_start: float, period_end: float, tenants: int = 50, nodes: int = 20, instances: int = 2000,
               seed: int = 7, deleted_tenant_at: float | None = None) -> Cloud:
    rnd = random.Random(seed)
    tenant_ids = [f"{i:02d}" + "%030x" % rnd.getrandbits(120) for i in range(tenants)]
    node_names = [f"cmp{i:02d}" for i in range(1, nodes + 1)]
    gone = tenant_ids[-1]
    gone_at = deleted_tenant_at or (data_start + period_end) / 2
    out = []
    for i in range(instances):
        tenant = tenant_ids[i % tenants]
        launched = rnd.uniform(data_start, period_end - 86400)
        if tenant == gone:
            launched = rnd.uniform(data_start, gone_at - 7200)
            deleted = rnd.uniform(launched + 600, gone_at - 60)
        elif rnd.random() < 0.6:
            deleted = min(launched + rnd.uniform(3600, 60 * 86400), period_end + 30 * 86400)
            deleted = None if deleted >= period_end else deleted
        else:
            deleted = None
        uuid = "%08x-%04x-4%03x-8%03x-%012x" % (rnd.getrandbits(32), rnd.getrandbits(16), rnd.getrandbits(12),
                                                 rnd.getrandbits(12), rnd.getrandbits(48))
        out.append(Instance(uuid, tenant, rnd.choice(list(FLAVORS)), rnd.choice(node_names), round(launched),
                            None if deleted is None else round(deleted)))
    cloud = Cloud(data_start, period_end, tenant_ids, node_names, out, gone, gone_at)
    alive_long = [x for x in out if x.deleted_at is None]
    cloud.missing_exists = {x.uuid for x in alive_long[:5]}
    cloud.wrong_exists = {x.uuid for x in alive_long[5:8]}
    return cloud


def _envelope(event_type: str, payload: dict, ts: float, message_id: str, publisher: str, request_id: str) -> bytes:
    inner = {"message_id": message_id, "event_type": event_type, "publisher_id": publisher, "priority": "INFO",
             "timestamp": _ts(ts), "_context_request_id": request_id, "_context_project_id": payload.get("tenant_id"),
             "payload": payload}
    return json.dumps({"oslo.version": "2.0", "oslo.message": json.dumps(inner)}).encode()


def _month_starts(start: float, end: float) -> list[float]:
    d = datetime.fromtimestamp(start, timezone.utc).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    out = []
    while d.timestamp() < end:
        out.append(d.timestamp())
        d = d.replace(year=d.year + (d.month == 12), month=d.month % 12 + 1)
    out.append(d.timestamp())
    return out


def notification_messages(cloud: Cloud) -> list[AmqpMessage]:
    msgs: list[AmqpMessage] = []
    n = 0

    def add(event_type, payload, ts, publisher, exchange="nova"):
        nonlocal n
        n += 1
        mid = f"gen-{n:08d}"
        msgs.append(AmqpMessage(_envelope(event_type, payload, ts, mid, publisher, f"req-gen-{n}"), mid, exchange,
                                "notifications.info", ts, "region-one"))

    months = _month_starts(cloud.start, cloud.end)
    for x in cloud.instances:
        vcpus, ram, disk = FLAVORS[x.flavor]
        base = {"instance_id": x.uuid, "tenant_id": x.tenant, "user_id": "u-" + x.tenant[:8], "instance_type": x.flavor,
                "vcpus": vcpus, "memory_mb": ram, "root_gb": disk, "host": x.host, "image_ref_url": "",
                "deleted_at": "", "terminated_at": ""}
        pub = f"compute.{x.host}"
        add("compute.instance.create.start", {**base, "state": "building", "launched_at": ""}, x.launched_at - 20, pub)
        add("compute.instance.create.end", {**base, "state": "active", "launched_at": _ts(x.launched_at)},
            x.launched_at, pub)
        if x.deleted_at is not None:
            add("compute.instance.delete.start", {**base, "state": "active", "launched_at": _ts(x.launched_at)},
                x.deleted_at - 5, pub)
            add("compute.instance.delete.end", {**base, "state": "deleted", "launched_at": _ts(x.launched_at),
                                                "deleted_at": _ts(x.deleted_at), "terminated_at": _ts(x.deleted_at)},
                x.deleted_at, pub)
        if x.uuid in cloud.missing_exists:
            continue
        for b, e in zip(months, months[1:]):
            if e > cloud.end or x.launched_at >= e or (x.deleted_at is not None and x.deleted_at < b):
                continue
            launched = x.launched_at + (3600 if x.uuid in cloud.wrong_exists else 0)
            deleted = _ts(x.deleted_at) if x.deleted_at is not None and x.deleted_at < e else ""
            add("compute.instance.exists", {**base, "state": "deleted" if deleted else "active",
                                            "launched_at": _ts(launched), "deleted_at": deleted,
                                            "audit_period_beginning": _ts(b), "audit_period_ending": _ts(e)},
                e + 300, pub)
    for i, tenant in enumerate(cloud.tenants):          # images: 2 per tenant, the first deleted a week later
        for k in range(2):
            image = {"id": f"img-{i:02d}-{k}", "owner": tenant, "size": (k + 1) * 1_000_000_000, "status": "active"}
            created = cloud.start + 86400 * (1 + i % 20)
            add("image.create", {**image, "status": "queued", "size": None}, created, "image.glance-1", "glance")
            add("image.activate", image, created + 60, "image.glance-1", "glance")
            if k == 0:
                add("image.delete", {**image, "status": "deleted"}, created + 7 * 86400, "image.glance-1", "glance")
    add("identity.project.deleted", {"resource_info": cloud.deleted_tenant}, cloud.tenant_deleted_at,
        "identity.keystone-1", exchange="keystone")
    return msgs


def load_notifications(cloud: Cloud, notifications_store, batch: int = 2000) -> int:
    ingest = NotificationIngest(notifications_store)
    msgs = notification_messages(cloud)
    for i in range(0, len(msgs), batch):
        ingest.sink(msgs[i:i + batch])
    return ingest.stored


def _alive_sweep(cloud: Cloud, times: list[float]):
    """For each time, the alive instances' sums per host and per tenant (vcpus, ram, disk, count)."""
    events = []
    for x in cloud.instances:
        events.append((x.launched_at, 1, x))
        if x.deleted_at is not None:
            events.append((x.deleted_at, -1, x))
    events.sort(key=lambda e: e[0])
    host = {h: [0, 0, 0, 0] for h in cloud.nodes}
    tenant = {t: [0, 0, 0, 0] for t in cloud.tenants}
    j = 0
    for t in times:
        while j < len(events) and events[j][0] <= t:
            _, sign, x = events[j]
            v, r, d = FLAVORS[x.flavor]
            for acc in (host[x.host], tenant[x.tenant]):
                acc[0] += sign * v
                acc[1] += sign * r
                acc[2] += sign * d
                acc[3] += sign
            j += 1
        yield t, host, tenant


def _g(name, labels, ts, value, kind=Kind.GAUGE):
    return Sample(SeriesKey.of(name, labels), ts, float(value), kind, "")


def load_metrics(cloud: Cloud, metrics_store, seed: int = 11, every: float = 3600.0) -> int:
    """Samples every `every` seconds (quotas, volumes, IPs, images every 6th time)."""
    rnd = random.Random(seed)
    hours = [cloud.start + every * i for i in range(int((cloud.end - cloud.start) // every))]
    api_totals = {(s, c): 0.0 for s in SERVICES for c in ("2xx", "4xx", "5xx")}
    written = 0
    batch: list[Sample] = []
    limits = {t: (40 if i % 10 == 0 else 400) for i, t in enumerate(cloud.tenants)}
    for i, (t, host, tenant) in enumerate(_alive_sweep(cloud, hours)):
        for h, (v, r, d, _n) in host.items():
            batch += [_g("stackwatch_openstack_hypervisor_vcpus", {"hypervisor": h}, t, NODE_VCPUS),
                      _g("stackwatch_openstack_hypervisor_vcpus_used", {"hypervisor": h}, t, v),
                      _g("stackwatch_openstack_hypervisor_memory_mb", {"hypervisor": h}, t, NODE_RAM),
                      _g("stackwatch_openstack_hypervisor_memory_mb_used", {"hypervisor": h}, t, r),
                      _g("stackwatch_openstack_hypervisor_disk_gb", {"hypervisor": h}, t, NODE_DISK),
                      _g("stackwatch_openstack_hypervisor_disk_gb_used", {"hypervisor": h}, t, d),
                      _g("stackwatch_host_load15", {"host": h}, t, v / 16.0 + rnd.random())]
        for key in api_totals:
            svc, cls = key
            api_totals[key] += {"2xx": 900, "4xx": 30, "5xx": 3}[cls] * (1 + 0.2 * rnd.random())
            batch.append(_g("stackwatch_api_requests_total", {"service": svc, "status_class": cls, "host": "ctl1",
                                                              "method": "GET", "program": svc + "-api"},
                            t, api_totals[key], Kind.COUNTER))
        for p in PROBES:
            batch += [_g("stackwatch_probe_success", {"probe": p}, t, 0.0 if rnd.random() < 0.004 else 1.0),
                      _g("stackwatch_probe_duration_seconds", {"probe": p}, t, 2 + 3 * rnd.random())]
        if i % 6 == 0:
            for h in cloud.nodes:
                for rc, ratio in (("VCPU", 4.0), ("MEMORY_MB", 1.0), ("DISK_GB", 1.0)):
                    batch.append(_g("stackwatch_openstack_allocation_ratio", {"hypervisor": h, "resource": rc}, t, ratio))
            for tn, (v, r, d, n) in tenant.items():
                if tn == cloud.deleted_tenant and t >= cloud.tenant_deleted_at:
                    continue
                for svc, res, used, limit in (("compute", "cores", v, limits[tn]),
                                              ("compute", "instances", n, limits[tn] // 2),
                                              ("compute", "ram", r, limits[tn] * 2048),
                                              ("network", "floatingip", 3, 10)):
                    lab = {"project": tn, "service": svc, "resource": res}
                    batch += [_g("stackwatch_openstack_quota_used", lab, t, used),
                              _g("stackwatch_openstack_quota_limit", lab, t, limit),
                              _g("stackwatch_openstack_quota_percent", lab, t, 100.0 * used / limit)]
                batch.append(_g("stackwatch_openstack_volume_gb", {"project": tn, "status": "in-use"}, t,
                                10 + (t - cloud.start) / 86400.0 * 0.5))
            frac = (t - cloud.start) / (cloud.end - cloud.start)
            batch += [_g("stackwatch_openstack_floating_ips", {"status": "used", "network": "public"}, t, 100 + 150 * frac),
                      _g("stackwatch_openstack_floating_ips", {"status": "free", "network": "public"}, t, 300 - 150 * frac),
                      _g("stackwatch_openstack_images", {"status": "active", "visibility": "public"}, t, 40 + int(20 * frac)),
                      _g("stackwatch_openstack_image_bytes", {"status": "active", "visibility": "public"}, t,
                         (40 + 20 * frac) * 2e9)]
        if len(batch) > 20000:
            written += metrics_store.write(batch)
            batch = []
    written += metrics_store.write(batch)
    metrics_store.flush()
    return written


def load_alerts(cloud: Cloud, alerts_store, count: int = 40, seed: int = 5,
                acks=None) -> list[tuple[str, float, float, float | None]]:
    """Alerts that fired and resolved in the window, every other one acknowledged first (through `acks`, the
    acknowledgement store, when given): [(severity, fired_at, resolved_at, acked_at)]."""
    from stackwatch.alerting.model import Alert, AlertState, Transition, fingerprint, make_labels

    rnd = random.Random(seed)
    out = []
    for i in range(count):
        labels = make_labels([("alertname", "CheckCritical"), ("host", rnd.choice(cloud.nodes)), ("n", str(i))])
        fp = fingerprint(labels)
        sev = "critical" if i % 3 == 0 else "warning"
        fired = rnd.uniform(cloud.start, cloud.end - 86400)
        resolved = fired + rnd.uniform(300, 7200)
        base = Alert(fp, "CheckCritical", labels, (), sev, AlertState.FIRING, 1.0, fired - 120, fired, None, fired)
        done = base.evolve(state=AlertState.RESOLVED, resolved_at=resolved, updated_at=resolved)
        alerts_store.save([base], [Transition(base, AlertState.PENDING, fired)])
        alerts_store.save([done], [Transition(done, AlertState.FIRING, resolved)])
        acked = None
        if acks is not None and i % 2 == 0:
            acked = fired + (resolved - fired) / 2
            acks.add(fp, "oncall", "looking", acked)
        out.append((sev, fired, resolved, acked))
    return out
