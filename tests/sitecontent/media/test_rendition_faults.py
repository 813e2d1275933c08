"""S3 unreachable while an upload's renditions are made: the image and its original
stay as they were, the task fails on record (and on the operations panel), and a retry
once S3 answers makes the renditions. Real parts: django-storages over HTTP to moto's
S3, Django's task backend, the panel's retry."""

import copy

import pytest
from django.tasks import TaskResultStatus
from django.test import Client

from cms.models import TaskRun
from sitecontent.models import Image
from tests.cms.test_purge_faults import closed_port
from tests.factories import ImageFactory, UserFactory

pytestmark = pytest.mark.django_db

TASK = "sitecontent.tasks.image_create_renditions"


def unreachable(storages: dict) -> dict:
    """The same media storages, pointed at a port nothing listens on."""
    down = copy.deepcopy(storages)
    for alias in ("default", "renditions"):
        down[alias]["OPTIONS"]["endpoint_url"] = closed_port()
    return down


def test_renditions_with_s3_unreachable_fail_on_record_and_a_retry_makes_them(
    s3_media, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        image = ImageFactory(with_renditions=False, title="Harbour at dawn")
    original = f"media/{image.file.name}"
    assert s3_media.keys("media/") == [original]
    reachable = settings.STORAGES
    settings.STORAGES = unreachable(reachable)

    for callback in after_commit:  # the upload's commit enqueues the task; it runs now
        callback()
    [run] = TaskRun.objects.filter(task_path=TASK)
    assert run.status == TaskResultStatus.FAILED
    assert "EndpointConnectionError" in run.error or "Could not connect" in run.error
    stored = Image.objects.get(pk=image.pk)
    assert (stored.title, stored.file.name, stored.renditions) == (
        "Harbour at dawn",
        image.file.name,
        [],
    )

    settings.STORAGES = reachable
    assert s3_media.keys("media/") == [original]  # the original is intact
    browser = Client()
    browser.force_login(UserFactory(username="root", is_superuser=True))
    panel = browser.get("/admin/operations/")
    assert [r.pk for r in panel.context["failures"]] == [run.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert browser.post(f"/admin/operations/tasks/{run.pk}/retry/").status_code == 302
    retried = TaskRun.objects.get(pk=TaskRun.objects.get(pk=run.pk).retried_as)
    assert retried.status == TaskResultStatus.SUCCESSFUL
    stored.refresh_from_db()
    assert stored.renditions
    keys = s3_media.keys("media/")
    assert original in keys
    assert all(f"media/{r['name']}" in keys for r in stored.renditions)
