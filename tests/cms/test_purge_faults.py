"""CloudFront (or the purge relay) unreachable during an editor's save, and purge tasks
delivered more than once, with the real parts: the admin's change form, Django's task
backend, cms.purging, boto3 over HTTP to a moto server, the operations panel's retry.

The save succeeds; the purge task fails on record (and on the panel); the paths stay
claimed in an unsent CdnPurge; a retry once the endpoint answers sends exactly one
invalidation with them.
"""

import socket

import pytest
from django.tasks import TaskResultStatus
from django.test import Client

from cms import aws as aws_adapter
from cms import cdn, purge_queue
from cms.models import CdnPurge, PendingPurge, TaskRun
from cms.tasks import purge_cdn_paths
from sitecontent.models import Article
from tests.admin_forms import article_form_for
from tests.cms.test_cdn import RELAY, create_distribution
from tests.factories import ArticleFactory, UserFactory

pytestmark = pytest.mark.django_db

PANEL = "/admin/operations/"


def closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # nothing listens there once the probe closed


@pytest.fixture
def cloudfront(aws, settings, monkeypatch):
    """The CloudFront backend on moto's CloudFront, with a switch that makes the AWS
    endpoint a closed port (``down()``) and back (``up()``)."""
    distribution = create_distribution()
    settings.CDN = {
        "BACKEND": "cms.cdn.CloudFrontBackend",
        "OPTIONS": {"DISTRIBUTION_ID": distribution},
    }
    cdn.get_backend.cache_clear()

    class Switch:
        id = distribution

        def down(self):
            monkeypatch.setenv("AWS_ENDPOINT_URL", closed_port())
            aws_adapter.client.cache_clear()

        def up(self):
            monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
            aws_adapter.client.cache_clear()

        def invalidations(self):
            client = aws_adapter.client("cloudfront")
            listed = client.list_invalidations(DistributionId=distribution)["InvalidationList"]
            return [
                client.get_invalidation(DistributionId=distribution, Id=item["Id"])["Invalidation"][
                    "InvalidationBatch"
                ]
                for item in listed.get("Items", [])
            ]

    yield Switch()
    cdn.get_backend.cache_clear()


def purge_runs():
    return TaskRun.objects.filter(task_path="cms.tasks.purge_cdn_paths").order_by("enqueued_at")


def test_a_save_while_cloudfront_is_unreachable_succeeds_and_its_purge_is_retried(
    cloudfront, django_capture_on_commit_callbacks
):
    root = UserFactory(username="root", is_superuser=True)
    article = ArticleFactory(slug="storm-warning", title="Storm warning")
    PendingPurge.objects.all().delete()  # the factory's own purge is not this test's
    browser = Client()
    browser.force_login(root)
    cloudfront.down()

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            f"/admin/sitecontent/article/{article.pk}/change/",
            article_form_for(article, title="Storm warning: roads closed"),
        )
    # The editor's save: committed, and a normal redirect.
    assert response.status_code == 302
    assert Article.objects.get(pk=article.pk).title == "Storm warning: roads closed"
    # The purge: failed on record, its paths kept in an unsent purge.
    [run] = purge_runs()
    assert run.status == TaskResultStatus.FAILED
    assert "EndpointConnectionError" in run.error or "Could not connect" in run.error
    [unsent] = CdnPurge.objects.all()
    assert unsent.sent_at is None
    assert unsent.sending_since is None
    assert "/articles/*" in unsent.paths
    waiting = set(PendingPurge.objects.values_list("path", flat=True))
    assert waiting
    assert all(any(cdn.covers(p, path) for p in unsent.paths) for path in waiting)
    panel = browser.get(PANEL)
    assert [r.pk for r in panel.context["failures"]] == [run.pk]
    assert panel.context["cdn_month"]["unsent"] == 1
    assert "not sent yet" in panel.content.decode()

    cloudfront.up()
    with django_capture_on_commit_callbacks(execute=True):
        assert browser.post(f"{PANEL}tasks/{run.pk}/retry/").status_code == 302
    retried = TaskRun.objects.get(pk=TaskRun.objects.get(pk=run.pk).retried_as)
    assert retried.status == TaskResultStatus.SUCCESSFUL
    [batch] = cloudfront.invalidations()
    assert batch["CallerReference"] == unsent.reference
    assert batch["Paths"]["Items"] == unsent.paths
    unsent.refresh_from_db()
    assert unsent.sent_at is not None
    assert not PendingPurge.objects.exists()


def test_a_redelivery_after_the_endpoint_failed_sends_the_same_invalidation_once(cloudfront):
    """The first delivery claimed the paths and could not send them; Lambda's two
    retries of the same event: the first sends them with the same CallerReference, the
    second finds nothing left."""
    purge_queue.pending_add({"/", "/articles/*"})
    cloudfront.down()
    result = purge_cdn_paths.enqueue()
    assert TaskRun.objects.get(pk=result.id).status == TaskResultStatus.FAILED
    cloudfront.up()
    context = type("Ctx", (), {"task_result": result})()
    for _ in range(2):
        purge_cdn_paths.call(context)
    [batch] = cloudfront.invalidations()
    assert batch["CallerReference"] == f"purge-{result.id}"
    assert batch["Paths"]["Items"] == ["/", "/articles/*"]
    assert CdnPurge.objects.get().sent_at is not None


def test_a_sender_that_died_mid_send_is_taken_over_after_its_lease(cloudfront):
    """A Lambda that timed out after claiming (its lease never given back): another
    purge task sends its record, under the record's own reference, once the lease ran
    out; before that, it leaves the record alone."""
    import time_machine
    from django.utils import timezone

    purge_queue.pending_add({"/about/"})
    original = cdn.CloudFrontBackend.purge

    def dies(self, paths, *, reference):
        raise SystemExit("Task timed out")  # not an Exception: no lease given back

    cdn.CloudFrontBackend.purge = dies
    try:
        with pytest.raises(SystemExit):
            purge_queue.purge_pending(reference="purge-dead")
    finally:
        cdn.CloudFrontBackend.purge = original
    assert CdnPurge.objects.get().sending_since is not None
    purge_queue.purge_pending(reference="purge-early")
    assert cloudfront.invalidations() == []
    with time_machine.travel(timezone.now() + purge_queue.SEND_LEASE + purge_queue.SEND_LEASE):
        purge_queue.purge_pending(reference="purge-late")
    [batch] = cloudfront.invalidations()
    assert (batch["CallerReference"], batch["Paths"]["Items"]) == ("purge-dead", ["/about/"])


def test_the_purge_relay_unreachable_fails_the_task_and_loses_nothing(aws, settings, monkeypatch):
    settings.CDN = {
        "BACKEND": "cms.cdn.CloudFrontBackend",
        "OPTIONS": {"DISTRIBUTION_ID": "E0", "PURGE_FUNCTION": RELAY},
    }
    cdn.get_backend.cache_clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL", closed_port())
    aws_adapter.client.cache_clear()
    purge_queue.pending_add({"/tags/x/*"})
    result = purge_cdn_paths.enqueue()
    run = TaskRun.objects.get(pk=result.id)
    assert run.status == TaskResultStatus.FAILED
    [unsent] = CdnPurge.objects.all()
    assert (unsent.paths, unsent.sent_at) == (["/tags/x/*"], None)
    assert PendingPurge.objects.get().batch == unsent
    cdn.get_backend.cache_clear()
