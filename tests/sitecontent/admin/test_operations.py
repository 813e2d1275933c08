"""The operations panel: the tick's health, failed tasks (and retrying them), purges,
storage and database."""

from datetime import timedelta

import pytest
import time_machine
from django.tasks import TaskResultStatus
from django.test import Client
from django.utils import timezone

from cms.models import CdnPurge, TaskRun
from sitecontent.publishing import tick
from tests.factories import UserFactory, editor, publisher

pytestmark = pytest.mark.django_db

PANEL = "/admin/operations/"


def signed_in(user):
    browser = Client()
    browser.force_login(user)
    return browser


def failed_run(**fields):
    return TaskRun.objects.create(
        **{
            "id": "run-1",
            "task_path": "cms.tasks.purge_cdn_paths",
            "backend": "default",
            "kwargs": {"paths": ["/"]},
            "status": TaskResultStatus.FAILED,
            "error": "Traceback (most recent call last):\nRuntimeError: CDN said no",
            **fields,
        }
    )


def test_the_panel_says_when_the_tick_never_ran_or_stopped():
    panel = signed_in(publisher())
    assert 'data-ops="tick-overdue"' in panel.get(PANEL).content.decode()
    tick.scheduled_publishing_tick()
    html = panel.get(PANEL).content.decode()
    assert 'data-ops="tick-ok"' in html
    from sitecontent.models import SchedulerState

    SchedulerState.objects.update(last_finished_at=timezone.now() - timedelta(minutes=10))
    assert 'data-ops="tick-overdue"' in panel.get(PANEL).content.decode()


def test_failed_tasks_show_their_error_and_can_be_retried(django_capture_on_commit_callbacks):
    run = failed_run()
    panel = signed_in(publisher())
    html = panel.get(PANEL).content.decode()
    assert "RuntimeError: CDN said no" in html
    response = panel.post(f"{PANEL}tasks/{run.pk}/retry/")
    assert response.status_code == 302
    run.refresh_from_db()
    retried = TaskRun.objects.get(pk=run.retried_as)
    assert retried.status == TaskResultStatus.SUCCESSFUL  # the recording CDN accepted it
    assert CdnPurge.objects.get().paths == ["/"]
    # A second retry of the same failure is refused.
    panel.post(f"{PANEL}tasks/{run.pk}/retry/")
    assert TaskRun.objects.count() == 2


def test_dead_lettered_tasks_are_counted_listed_apart_and_can_be_retried(
    django_capture_on_commit_callbacks,
):
    failed_run()
    dead = failed_run(id="run-2", dead_lettered_at=timezone.now(),
                      error="dead-lettered: Task timed out after 60.05 seconds")  # fmt: skip
    failed_run(id="run-3", dead_lettered_at=timezone.now(), retried_as="run-9")
    panel = signed_in(publisher())
    response = panel.get(PANEL)
    assert [r.pk for r in response.context["failures"]] == ["run-1"]
    assert {r.pk for r in response.context["dead_letters"]} == {"run-2", "run-3"}
    html = response.content.decode()
    assert '<span data-ops="dead-letter-count">(1)</span>' in html
    assert "1 is not retried yet." in html
    assert "dead-lettered: Task timed out after 60.05 seconds" in html
    assert f'action="{PANEL}tasks/run-2/retry/"' in html
    assert "retried as run-9" in html
    panel.post(f"{PANEL}tasks/{dead.pk}/retry/")
    dead.refresh_from_db()
    assert TaskRun.objects.get(pk=dead.retried_as).status == TaskResultStatus.SUCCESSFUL
    assert '<span data-ops="dead-letter-count">(0)</span>' in panel.get(PANEL).content.decode()


def test_storage_database_and_purges_are_reported():
    CdnPurge.objects.create(paths=["/articles/*"], backend="RecordingBackend", reference="r1")
    response = signed_in(publisher()).get(PANEL)
    storage, database = response.context["storage"], response.context["database"]
    assert storage["ok"]
    assert storage["backend"] == "FileSystemStorage"
    assert database["ok"]
    assert database["pending_migrations"] == []
    assert "<code>/articles/*</code>" in response.content.decode()


@pytest.mark.parametrize(("make_user", "status"), [(editor, 403), (UserFactory, 403)])
def test_editors_and_plain_staff_cannot_open_the_panel_or_retry(make_user, status):
    run = failed_run()
    browser = signed_in(make_user())
    assert browser.get(PANEL).status_code == status
    browser.post(f"{PANEL}tasks/{run.pk}/retry/")
    run.refresh_from_db()
    assert run.retried_as == ""


def test_visitors_are_sent_to_sign_in():
    assert Client().get(PANEL).status_code == 302


def test_a_tick_that_skips_the_database_is_not_reported_overdue(
    settings, tmp_path, django_capture_on_commit_callbacks
):
    """With the marker on, an idle minute tick leaves the database alone (so Aurora can
    pause) and records only in the marker that it ran: the panel reads both."""
    from sitecontent.models import SchedulerState
    from sitecontent.publishing import tick_gate

    settings.PUBLISHING_TICK_MARKER = "file"
    settings.PUBLISHING_TICK_MARKER_FILE = tmp_path / "tick.json"
    panel = signed_in(publisher())
    with django_capture_on_commit_callbacks(execute=True):
        tick_gate.publishing_tick()  # no marker yet: a full run, which writes it
    SchedulerState.objects.update(last_finished_at=timezone.now() - timedelta(minutes=10))
    assert isinstance(tick_gate.publishing_tick(), tick_gate.TickSkipped)
    html = panel.get(PANEL).content.decode()
    assert 'data-ops="tick-ok"' in html
    assert 'data-ops="tick-skipping"' in html

    # Neither the marker nor a full run is recent: overdue, as before.
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert 'data-ops="tick-overdue"' in panel.get(PANEL).content.decode()
