"""Fault injection on the real lab (held exclusively: `lab_faults`): glance-api stopped during the image probe
gives CRITICAL naming the failed step, and once glance is back the reaper removes what the run left. (nova-compute
stopped failing the instance probe with "No valid host" is tests/e2e/test_lab_compute_down.py, one stop shared with
the heartbeat and maintenance tests.) Every daemon stopped here is started again, whatever happens."""

from __future__ import annotations

import time

import pytest

from stackwatch.checks.probes import core, probe_class
from stackwatch.checks.probes.service import connect_probe_api, reap_all, run_probe
from stackwatch.openstack.api import Api
from stackwatch.states import State
from tests.lab import lab_faults, openstack_lab  # noqa: F401 (fixture)
from tests.openstack.lab_support import ensure_probe_project, lab_daemon, lab_environ, probe_config, wait_until

pytestmark = [pytest.mark.filterwarnings("ignore::DeprecationWarning:openstack"),
              pytest.mark.filterwarnings("ignore::PendingDeprecationWarning:openstack"),
              pytest.mark.filterwarnings("ignore::ResourceWarning")]


def glance_answers(api: Api) -> bool:
    try:
        api.get_json("image", "/images", params={"limit": 1}, timeout=5)
        return True
    except Exception:
        return False


def test_glance_stopped_during_the_image_probe(lab_faults, tmp_path, monkeypatch):  # noqa: F811
    lab = lab_faults
    with lab_environ(lab):
        ensure_probe_project(lab)
        config = probe_config(step_timeout=20)
        stopped = []
        real_request = Api.request

        def request(self, service, method, path, **kwargs):
            # the moment the probe uploads its image, glance-api goes away (the image already exists, queued)
            if service == "image" and method == "PUT" and path.endswith("/file") and not stopped:
                lab_daemon(lab, "stop", "glance-api")
                stopped.append(path)
            return real_request(self, service, method, path, **kwargs)

        monkeypatch.setattr(Api, "request", request)
        try:
            result = run_probe("image", config, tmp_path)
        finally:
            monkeypatch.setattr(Api, "request", real_request)
            if stopped:
                lab_daemon(lab, "start", "glance-api")
        assert stopped, "the probe never reached its upload"
        outcome = core.evaluate(result, 600)
        assert outcome.state is State.CRITICAL
        assert outcome.summary.startswith("step upload failed"), outcome.summary
        assert "no answer" in outcome.summary and "\n" not in outcome.summary
        assert result.cleanup_errors, "glance was down: the delete in the finally block cannot have worked"
        name = core.resource_name("image", result.run_id)

        api = connect_probe_api(config)
        wait_until("glance-api answering again", lambda: glance_answers(api), 120)
        image = probe_class("image")(api, config.probes)
        assert name in [n for _id, n in image.list_resources()]
        found = reap_all(config, tmp_path, time.time(), max_age=0, kinds=("image",))
        assert found["image"][0] >= 1 and found["image"][1] == []
        assert [n for _id, n in image.list_resources()] == []
