"""The event-driven inventory of volumes and images: the pure fold (stacktach.inventory) and the trend job
over real cinder and glance notification bodies stored through the ingest sink."""

from __future__ import annotations

from stackwatch.model import SeriesKey
from stackwatch.stacktach import inventory
from stackwatch.stacktach.archive import ResourceEvent

from .notification_support import corpus  # noqa: F401  (fixture)


def ev(rid, ts, name, state, size=None, tenant="t1", host="stor1") -> ResourceEvent:
    return ResourceEvent(rid, ts, name, state, size, tenant, host)


def values(samples) -> dict[tuple, float]:
    return {(s.key.name, tuple(sorted(s.key.labels))): s.value for s in samples}


def test_volumes_follow_create_attach_resize_and_delete():
    vols = inventory.volumes([
        ev("v1", 1, "volume.create.start", "creating", 10), ev("v1", 2, "volume.create.end", "available", 10),
        ev("v2", 3, "volume.create.start", "creating", 5, tenant="t2", host="stor2"),
        ev("v1", 4, "volume.attach.end", "in-use"), ev("v1", 5, "volume.resize.end", "in-use", 20),
        ev("v3", 6, "volume.create.end", "error", 1), ev("v2", 7, "volume.create.end", "available", 5, tenant="t2",
                                                         host="stor2"),
        ev("v2", 8, "volume.delete.start", "deleting"), ev("v2", 9, "volume.delete.end", "deleting"),
    ])
    assert {v.id: (v.status, v.size, v.tenant, v.host) for v in vols.values()} == {
        "v1": ("in-use", 20.0, "t1", "stor1"), "v3": ("error", 1.0, "t1", "stor1")}
    assert values(inventory.volume_samples(vols.values(), 100.0)) == {
        ("stackwatch_notification_volumes", (("host", "stor1"), ("status", "error"), ("tenant", "t1"))): 1.0,
        ("stackwatch_notification_volume_gb", (("host", "stor1"), ("status", "error"), ("tenant", "t1"))): 1.0,
        ("stackwatch_notification_volumes", (("host", "stor1"), ("status", "in-use"), ("tenant", "t1"))): 1.0,
        ("stackwatch_notification_volume_gb", (("host", "stor1"), ("status", "in-use"), ("tenant", "t1"))): 20.0,
    }


def test_images_count_and_bytes_by_status_until_deleted():
    imgs = inventory.images([
        ev("i1", 1, "image.create", "queued"), ev("i1", 2, "image.upload", "active", 1000),
        ev("i2", 3, "image.create", "queued"), ev("i3", 4, "image.create", "queued"),
        ev("i3", 5, "image.upload", "active", 500), ev("i4", 6, "image.create", "queued"),
        ev("i4", 7, "image.delete", "deleted"), ev("i2", 8, "image.update", "deleted"),
    ])
    assert values(inventory.image_samples(imgs.values(), 9.0)) == {
        ("stackwatch_notification_images", (("status", "active"),)): 2.0,
        ("stackwatch_notification_image_bytes", (("status", "active"),)): 1500.0,
    }


def test_a_series_that_vanished_is_written_as_zero():
    first, keys = inventory.with_vanished(inventory.volume_samples(
        inventory.volumes([ev("v1", 1, "volume.create.start", "creating", 10)]).values(), 1.0), set(), 1.0)
    later, keys = inventory.with_vanished(inventory.volume_samples(
        inventory.volumes([ev("v1", 1, "volume.create.start", "creating", 10),
                           ev("v1", 2, "volume.create.end", "available", 10)]).values(), 2.0), keys, 2.0)
    creating = SeriesKey.of("stackwatch_notification_volumes", {"status": "creating", "tenant": "t1", "host": "stor1"})
    assert {s.key: s.value for s in first}[creating] == 1.0
    assert {s.key: s.value for s in later}[creating] == 0.0
    assert creating not in keys


def test_trend_job_over_real_cinder_and_glance_bodies(corpus, store, make_config):  # noqa: F811
    from stackwatch.notifications_runtime import NotificationRuntime
    from stackwatch.stacktach.ingest import NotificationIngest
    from stackwatch.stacktach.message import AmqpMessage

    watcher = corpus / "watcher-test-notifications"
    story = ["scenario_1_volume-attach.json", "scenario_1_volume-detach.json", "scenario_1_volume-resize.json",
             "scenario_1_volume-create.json", "scenario_1_volume-delete.json"]
    batch = [AmqpMessage((watcher / f).read_bytes(), None, "openstack", "notifications.info", 1000.0 + i, "r1")
             for i, f in enumerate(story)]
    batch.append(AmqpMessage((corpus / "uvic-devops2018-captured" / "glanceNotification.json").read_bytes(), None,
                             "glance", "notifications.info", 1010.0, "r1"))
    ingest = NotificationIngest(store.notifications, use_helper=False)
    ingest.sink(batch)
    assert ingest.stored == 6 and not ingest.dead
    rt = NotificationRuntime(make_config(), ingest)
    got = values(rt.inventory_samples(store.notifications, 2000.0))
    # 5028b1eb... was attached, detached, resized and deleted: gone; 990a723f... was created: 40 GB available
    labels = (("host", "host_0"), ("status", "available"), ("tenant", "52044438-21f2-4a48-add4-d48bab20f7e1"))
    assert got == {("stackwatch_notification_volumes", labels): 1.0,
                   ("stackwatch_notification_volume_gb", labels): 40.0,
                   ("stackwatch_notification_images", (("status", "queued"),)): 1.0,
                   ("stackwatch_notification_image_bytes", (("status", "queued"),)): 0.0}
