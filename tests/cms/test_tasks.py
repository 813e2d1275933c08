"""Operators can read task runs and purges in the admin; nobody can edit them there."""

import pytest
from django.tasks import TaskResultStatus

from cms.models import CdnPurge, TaskRun
from tests.factories import UserFactory, editor

pytestmark = pytest.mark.django_db


def test_failed_task_runs_are_listed_with_their_error_for_superusers(client):
    TaskRun.objects.create(
        id="t1",
        task_path="cms.tasks.purge_cdn_paths",
        backend="default",
        status=TaskResultStatus.FAILED,
        error="Traceback: boom",
    )
    CdnPurge.objects.create(
        paths=["/", "/articles/*"], backend="RecordingBackend", reference="purge-t0"
    )
    client.force_login(UserFactory(is_superuser=True))
    listing = client.get("/admin/cms/taskrun/", {"status__exact": "FAILED"})
    assert [run.id for run in listing.context["cl"].result_list] == ["t1"]
    detail = client.get("/admin/cms/taskrun/t1/change/").content.decode()
    assert "Traceback: boom" in detail
    assert 'name="_save"' not in detail
    purges = client.get("/admin/cms/cdnpurge/").content.decode()
    assert "<code>/articles/*</code>" in purges


def test_editors_cannot_see_platform_records(client):
    client.force_login(editor())
    assert client.get("/admin/cms/taskrun/").status_code == 403
