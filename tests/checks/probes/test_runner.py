"""Running a probe without a cloud: steps timed and failed one line each, cleanup always in the finally block,
the per-kind lock, the -t budget, and the reaper's choice (a probe double that records what it was asked)."""

from __future__ import annotations

import time

from stackwatch.checks.probes import core
from stackwatch.checks.probes.runner import Deadline, Probe, Run, StepFailed, execute, kind_lock, reap
from stackwatch.openstack.api import ApiError


class Recorder(Probe):
    kind = "image"

    def __init__(self, fail_at=None, cleanup_error=None, resources=()):
        super().__init__(api=None, config=None)
        self.fail_at, self.cleanup_error, self.resources = fail_at, cleanup_error, list(resources)
        self.cleaned, self.deleted = [], []

    def run(self, run: Run) -> None:
        run.step("create", lambda d: run.created("image", "img-1"))
        if self.fail_at == "upload":
            run.step("upload", self._fail)
        run.step("delete", lambda d: run.gone("image"))

    @staticmethod
    def _fail(d: Deadline):
        raise ApiError("image", "PUT /images/img-1/file", "Service Unavailable", 503, "req-9")

    def cleanup(self, run: Run) -> list[str]:
        self.cleaned.append(dict(run.resources))
        if self.cleanup_error:
            raise RuntimeError(self.cleanup_error)
        return []

    def list_resources(self):
        return self.resources

    def delete(self, leftover):
        self.deleted.append(leftover.id)


def test_a_passing_run_times_every_step_and_still_cleans_up(tmp_path):
    probe = Recorder()
    result = execute(probe, tmp_path, step_timeout=5)
    assert [s.name for s in result.steps] == ["create", "delete"] and result.failed is None
    assert probe.cleaned == [{}]          # nothing left to clean: the delete step removed it
    assert result.run_id and core.parse_name(core.resource_name("image", result.run_id))


def test_a_failing_step_is_recorded_with_its_request_id_and_the_rest_is_skipped(tmp_path):
    probe = Recorder(fail_at="upload")
    result = execute(probe, tmp_path, step_timeout=5)
    assert [s.name for s in result.steps] == ["create", "upload"]
    failed = result.failed
    assert failed.name == "upload" and failed.request_id == "req-9"
    assert failed.error == "image PUT /images/img-1/file: HTTP 503: Service Unavailable (request req-9)"
    assert probe.cleaned == [{"image": "img-1"}]   # the finally block got what the run still held


def test_a_cleanup_that_raises_does_not_hide_the_result(tmp_path):
    result = execute(Recorder(fail_at="upload", cleanup_error="glance gone"), tmp_path, step_timeout=5)
    assert result.failed.name == "upload" and result.cleanup_errors == ("RuntimeError: glance gone",)


def test_one_run_of_a_kind_at_a_time(tmp_path):
    with kind_lock(tmp_path, "image"):
        result = execute(Recorder(), tmp_path, step_timeout=5)
    assert result.unknown.startswith("another image probe is running") and result.steps == ()
    assert execute(Recorder(), tmp_path, step_timeout=5).unknown is None   # released


def test_the_budget_shortens_steps_and_says_so():
    run = Run("image", step_timeout=100, budget=1.5)
    seen = []
    run.step("quick", lambda d: seen.append(d.seconds))
    assert seen[0] <= 1.5
    try:
        run.step("slow", lambda d: d.wait_for("never", lambda: False, 0.2))
    except StepFailed:
        pass
    assert "timed out after" in run.steps[-1].error and "raise -t" in run.steps[-1].error


def test_wait_for_returns_the_first_truthy_value_and_times_out():
    values = iter([None, 0, "ready"])
    assert Deadline(5).wait_for("ready", lambda: next(values), 0.01) == "ready"
    try:
        Deadline(0.3).wait_for("never", lambda: False, 0.05)
        raise AssertionError("no timeout")
    except StepFailed as exc:
        assert str(exc) == "timed out after 0.3s waiting for never"


def test_the_reaper_takes_old_leftovers_but_not_while_a_run_holds_the_lock(tmp_path):
    now = time.time()
    old = core.resource_name("image", core.run_id(now - 7200, "aaaa"))
    young = core.resource_name("image", core.run_id(now - 10, "bbbb"))
    probe = Recorder(resources=[("1", old), ("2", young), ("3", "cirros")])
    with kind_lock(tmp_path, "image"):
        assert reap(probe, tmp_path, now, 3600) == (0, [])
    assert probe.deleted == []
    assert reap(probe, tmp_path, now, 3600) == (1, [])
    assert probe.deleted == ["1"]


class LostAnswer(Recorder):
    """A create whose answer never came back, though the cloud made the resource."""

    def run(self, run: Run) -> None:
        self.resources.append(("img-lost", run.name))
        run.step("create", self._fail)


def test_a_failed_run_sweeps_what_it_created_without_knowing(tmp_path):
    probe = LostAnswer(resources=[("other", "cirros")])
    result = execute(probe, tmp_path, step_timeout=5)
    assert result.failed.name == "create"
    assert probe.deleted == ["img-lost"] and result.cleanup_errors == ()


def test_a_passing_run_does_not_sweep(tmp_path):
    probe = Recorder(resources=[("x", "stackwatch-probe-image-20261125t195501-zzzz")])
    execute(probe, tmp_path, step_timeout=5)
    assert probe.deleted == []
