"""The minute tick and the purge task each delivered three times (EventBridge and
Lambda deliver at least once; Lambda retries an asynchronous invocation twice): one
publish, one audit record, one invalidation in CloudFront's own API (moto). Through
Zappa's handler and the Lambda task backend; concurrently on PostgreSQL."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from cms.models import CdnPurge, PendingPurge, TaskRun
from cms.task_backends import run_task
from sitecontent.models import AuditEvent, ContentTransition
from tests import events
from tests.cms.test_purge_faults import cloudfront  # noqa: F401 (a fixture)
from tests.cms.test_task_backends import lambda_backend  # noqa: F401 (a fixture)
from tests.factories import ArticleFactory
from tests.lambda_fixtures import rule_name
from tests.test_lambda_handler import event_function

FUNCTION = "lambda-cms-dev"
CONCURRENT = "concurrent deliveries need PostgreSQL (SQLite has no row locks)"


def sent_events(calls):
    """The events of the asynchronous invocations lambda_backend captured."""
    return [call["event"] for call in calls]


def scheduled_article(slug):
    now = timezone.now()
    article = ArticleFactory(slug=slug)
    type(article).objects.filter(pk=article.pk).update(
        publish_at=now - timedelta(seconds=30), updated_at=now - timedelta(minutes=10)
    )
    PendingPurge.objects.all().delete()  # the factory's own save is not this test's
    return article


@pytest.mark.django_db
def test_the_tick_and_its_purge_task_delivered_three_times_have_one_side_effect_each(
    cloudfront,  # noqa: F811
    lambda_backend,  # noqa: F811
    lambda_handler,
    django_capture_on_commit_callbacks,
):
    article = scheduled_article("goes-live-once")
    tick = events.scheduled(rule_name(event_function("sitecontent.events.publishing")))
    outcomes = []
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            outcomes.append(lambda_handler(tick)["transitions"])
    assert outcomes == [1, 0, 0]
    assert ContentTransition.objects.filter(object_id=article.pk).count() == 1
    published = AuditEvent.objects.filter(
        action=AuditEvent.Action.PUBLISH, object_id=str(article.pk)
    )
    assert published.count() == 1
    [task_event] = sent_events(lambda_backend)  # only the tick that found the go-live purged

    statuses = [lambda_handler(task_event)["status"] for _ in range(3)]
    assert statuses == ["SUCCESSFUL", "skipped", "skipped"]
    [batch] = cloudfront.invalidations()
    assert batch["CallerReference"] == f"purge-{task_event['task_id']}"
    assert "/articles/*" in batch["Paths"]["Items"]
    assert CdnPurge.objects.get().sent_at is not None
    assert not PendingPurge.objects.exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent deliveries need PostgreSQL"
)
def test_one_purge_task_delivered_three_times_at_once_sends_one_invalidation(
    cloudfront,  # noqa: F811
    lambda_backend,  # noqa: F811
):
    from cms import purge_queue
    from cms.tasks import purge_cdn_paths

    purge_queue.pending_add({"/", "/articles/*", "/articles/at-once/"})
    purge_cdn_paths.enqueue()
    [task_event] = sent_events(lambda_backend)
    barrier, outcomes, errors = threading.Barrier(3), [], []

    def deliver():
        try:
            barrier.wait()
            outcomes.append(run_task(task_event)["status"])
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sorted(outcomes) == ["SUCCESSFUL", "skipped", "skipped"]
    [batch] = cloudfront.invalidations()
    assert batch["Paths"]["Items"] == ["/", "/articles/*"]
    assert TaskRun.objects.get().attempts == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrent deliveries need PostgreSQL"
)
def test_three_different_purge_tasks_at_once_send_each_path_once(cloudfront, lambda_backend):  # noqa: F811
    """Three saves' tasks running at once: the first claimer sends everything pending,
    the others find nothing (skip_locked, then the advisory lock)."""
    from cms import purge_queue
    from cms.tasks import purge_cdn_paths

    for n in range(3):
        purge_queue.pending_add({f"/articles/story-{n}/", "/"})
        purge_cdn_paths.enqueue()
    barrier, errors = threading.Barrier(3), []

    def deliver(event):
        try:
            barrier.wait()
            run_task(event)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver, args=(e,)) for e in sent_events(lambda_backend)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    sent = [p for batch in cloudfront.invalidations() for p in batch["Paths"]["Items"]]
    assert sorted(sent) == ["/", "/articles/story-0/", "/articles/story-1/", "/articles/story-2/"]
    assert not PendingPurge.objects.exists()
