"""Coalesced CDN purges (cms.purging): pending paths, one invalidation for everything
pending when a purge task runs, the monthly budget and its wildcard fallback, metrics,
and what the operations panel shows."""

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from cms import cdn, metrics, purge_queue, purging
from cms.models import CdnPurge, PendingPurge
from sitecontent.publishing import tick as publishing_tick
from tests.factories import ArticleFactory, publisher

pytestmark = pytest.mark.django_db


@pytest.fixture
def recorded_metrics(monkeypatch):
    """The data points the purge code puts (cms.metrics.put is the observability slice's;
    only the calls are looked at here)."""
    points = []
    monkeypatch.setattr(
        metrics, "put", lambda name, value, unit="Count": points.append((name, value, unit))
    )
    return points


def commit(paths, callbacks):
    """One committed transaction purging ``paths``; its on-commit callbacks are kept in
    ``callbacks`` to run later, as an asynchronous task backend would."""
    from django.test.testcases import TestCase

    with TestCase.captureOnCommitCallbacks(execute=False) as captured, transaction.atomic():
        purging.purge_after_commit(paths)
    callbacks.extend(captured)


def test_paths_are_pending_from_the_changes_own_transaction():
    with transaction.atomic():
        purging.purge_after_commit({"/articles/a/", "/"})
        assert set(PendingPurge.objects.values_list("path", flat=True)) == {"/", "/articles/a/"}
        transaction.set_rollback(True)
    assert not PendingPurge.objects.exists()  # rolled back with the change


def test_saves_committed_before_a_task_runs_go_out_as_one_invalidation():
    callbacks = []
    for slug in ["a", "b", "c", "d", "e"]:
        commit({f"/articles/{slug}/", "/articles/*", "/"}, callbacks)
    assert len(callbacks) == 5  # one task per transaction...
    for callback in callbacks:
        callback()
    # ...but the first to run sent what all five committed, and the others nothing.
    assert cdn.get_backend().purges[-1:] == [["/", "/articles/*"]]
    [purge] = CdnPurge.objects.all()
    assert purge.requested_path_count == 7
    assert purge.path_count == 2
    assert not PendingPurge.objects.exists()


def test_a_task_delivered_three_times_sends_once(recorded_metrics):
    from cms.tasks import purge_cdn_paths

    purge_queue.pending_add({"/about/", "/"})
    result = purge_cdn_paths.enqueue()
    context = type("Ctx", (), {"task_result": result})()
    for _ in range(2):  # Lambda's two retries of the same event
        purge_cdn_paths.call(context)
    assert list(CdnPurge.objects.values_list("reference", "paths")) == [
        (f"purge-{result.id}", ["/", "/about/"])
    ]
    assert [p for p in recorded_metrics if p[0] == metrics.CDN_PATHS_PURGED] == [
        (metrics.CDN_PATHS_PURGED, 2, "Count")
    ]


def test_a_bulk_edit_past_the_per_purge_cap_is_widened(settings, recorded_metrics, caplog):
    settings.CDN_MAX_PATHS_PER_PURGE = 5
    purge_queue.pending_add({f"/articles/story-{n}/" for n in range(40)} | {"/", "/about/"})
    with caplog.at_level(logging.WARNING, logger="cms.purge_queue"):
        purge_queue.purge_pending(reference="purge-bulk")
    purge = CdnPurge.objects.get()
    assert purge.paths == ["/", "/about/", "/articles/*"]
    assert (purge.widened, purge.requested_path_count, purge.path_count) == (True, 42, 3)
    assert (metrics.CDN_WILDCARD_FALLBACKS, 1, "Count") in recorded_metrics
    assert "widened to wildcards: 42 paths asked, 3 sent" in caplog.text


def test_over_the_monthly_budget_purges_fall_back_to_wildcards(settings, recorded_metrics):
    settings.CDN_MONTHLY_PATH_BUDGET = 10
    CdnPurge.objects.create(paths=[f"/p{n}/" for n in range(8)], backend="x", reference="old")
    purge_queue.pending_add({"/articles/a/", "/articles/b/", "/tags/x/*", "/tags/y/*"})
    purge_queue.purge_pending(reference="purge-1")
    # Two paths of the budget left: the four fit into two wildcards.
    assert CdnPurge.objects.get(reference="purge-1").paths == ["/articles/*", "/tags/*"]
    # Spent: the floor, one path that covers everything.
    purge_queue.pending_add({"/about/", "/contact/"})
    purge_queue.purge_pending(reference="purge-2")
    assert CdnPurge.objects.get(reference="purge-2").paths == ["/*"]
    assert purge_queue.paths_used_this_month() == 11  # the budget, plus the floor once
    fallbacks = [p for p in recorded_metrics if p[0] == metrics.CDN_WILDCARD_FALLBACKS]
    assert len(fallbacks) == 2


def test_the_budget_is_counted_per_calendar_month_in_utc(settings):
    settings.CDN_MONTHLY_PATH_BUDGET = 3
    with time_machine.travel(datetime(2026, 11, 30, 23, 59, tzinfo=UTC), tick=False):
        CdnPurge.objects.create(paths=["/a/", "/b/", "/c/"], backend="x", reference="nov")
    with time_machine.travel(datetime(2026, 12, 1, 0, 1, tzinfo=UTC), tick=False):
        assert purge_queue.paths_used_this_month() == 0
        purge_queue.pending_add({"/a/", "/b/"})
        purge_queue.purge_pending(reference="purge-dec")
        assert CdnPurge.objects.get(reference="purge-dec").paths == ["/a/", "/b/"]
        assert purge_queue.month_start(timezone.now()) == datetime(2026, 12, 1, tzinfo=UTC)


def test_a_scheduled_go_live_records_its_publish_lag(
    recorded_metrics, django_capture_on_commit_callbacks
):
    now = timezone.now()
    article = ArticleFactory(slug="at-nine")
    type(article).objects.filter(pk=article.pk).update(
        publish_at=now - timedelta(seconds=40), updated_at=now - timedelta(days=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        publishing_tick.scheduled_publishing_tick(now=now)
    purge = CdnPurge.objects.get()
    assert purge.scheduled_for == [(now - timedelta(seconds=40)).isoformat()]
    [(_name, lag, unit)] = [p for p in recorded_metrics if p[0] == metrics.PUBLISH_LAG]
    assert unit == "Seconds"
    assert 40 <= lag < 40 + 30
    assert (metrics.CDN_PATHS_PURGED, len(purge.paths), "Count") in recorded_metrics


def test_an_editors_save_records_no_publish_lag(
    recorded_metrics, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ArticleFactory()
    assert not [p for p in recorded_metrics if p[0] == metrics.PUBLISH_LAG]
    assert CdnPurge.objects.get().scheduled_for == []


def test_the_operations_panel_shows_the_months_paths_against_the_budget(settings):
    settings.CDN_MONTHLY_PATH_BUDGET = 20
    CdnPurge.objects.create(paths=["/a/", "/b/", "/c/"], backend="x", reference="r1")
    CdnPurge.objects.create(paths=["/*"], backend="x", reference="r2", widened=True,
                            requested_path_count=140)  # fmt: skip
    with time_machine.travel(timezone.now() - timedelta(days=40)):
        CdnPurge.objects.create(paths=["/old/"], backend="x", reference="r0", widened=True)
    purge_queue.pending_add({"/waiting/"})
    browser = Client()
    browser.force_login(publisher())
    response = browser.get("/admin/operations/")
    html = response.content.decode()
    assert response.context["cdn_month"]["paths"] == 4
    assert 'data-ops="cdn-month-paths">4 of 20' in html
    assert 'data-ops="cdn-wildcard-fallbacks">1<' in html
    assert 'data-ops="cdn-waiting">1<' in html


# -- concurrency: PostgreSQL's row locks and the advisory lock ---------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent claims need PostgreSQL")
def test_concurrent_purge_tasks_claim_each_path_once_and_share_the_budget(settings):
    settings.CDN_MONTHLY_PATH_BUDGET = 50
    settings.CDN_MAX_PATHS_PER_PURGE = 3000
    paths = {f"/articles/story-{n}/" for n in range(30)} | {f"/tags/t{n}/" for n in range(30)}
    purge_queue.pending_add(paths)
    barrier, errors = threading.Barrier(4), []

    def run(n):
        try:
            barrier.wait()
            purge_queue.purge_pending(reference=f"purge-thread-{n}")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert not PendingPurge.objects.exists()
    purges = list(CdnPurge.objects.all())
    assert len(purges) == 1  # the first claimer took all; the others found nothing
    [purge] = purges
    assert all(any(cdn.covers(p, path) for p in purge.paths) for path in paths)
    assert purge_queue.paths_used_this_month() <= 50


def test_the_minute_tick_sends_purges_whose_task_was_lost(django_capture_on_commit_callbacks):
    purge_queue.pending_add({"/lost/"})  # committed, but its task never ran
    assert not purging.purge_overdue()  # too fresh: its task may still be on its way
    later = timezone.now() + purging.OVERDUE_AFTER + timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=True):
        publishing_tick.scheduled_publishing_tick(now=later)
    assert CdnPurge.objects.get().paths == ["/lost/"]
    assert not PendingPurge.objects.exists()
    assert not purging.purge_overdue(now=later)


def test_while_the_cdn_is_down_the_tick_retries_every_few_minutes_not_every_minute(settings):
    from cms.models import TaskRun

    settings.CDN = {"BACKEND": "cms.cdn.CloudFrontBackend", "OPTIONS": {"DISTRIBUTION_ID": "E0"}}
    cdn.get_backend.cache_clear()
    try:
        purge_queue.pending_add({"/down/"})
        start = timezone.now() + purging.OVERDUE_AFTER * 2
        # AWS_ENDPOINT_URL is a closed port in the suite: each run fails.
        enqueued = []
        for minute in range(11):
            with time_machine.travel(start + timedelta(minutes=minute), tick=False):
                enqueued.append(purging.purge_overdue())
    finally:
        cdn.get_backend.cache_clear()
    # One run, then the next once that one is more than OVERDUE_BACKOFF (5 min) old.
    assert [minute for minute, yes in enumerate(enqueued) if yes] == [0, 6]
    assert set(TaskRun.objects.values_list("status", flat=True)) == {"FAILED"}
    assert CdnPurge.objects.get().sent_at is None  # kept for the run that succeeds


SQLITE_CLAIMERS = """
import multiprocessing, os, sys

def worker(n, start):
    import django
    django.setup()
    from cms import purge_queue
    start.wait()
    for round_ in range(10):
        purge_queue.pending_add({f"/w{n}/r{round_}/"})
        purge_queue.purge_pending(reference=f"purge-w{n}-{round_}")

if __name__ == "__main__":
    import django
    django.setup()
    start = multiprocessing.Event()
    procs = [multiprocessing.Process(target=worker, args=(n, start)) for n in range(4)]
    for p in procs:
        p.start()
    start.set()
    for p in procs:
        p.join()
    from cms.models import CdnPurge, PendingPurge
    sent = [p for c in CdnPurge.objects.all() for p in c.paths]
    import json
    print(json.dumps([[p.exitcode for p in procs], len(sent), len(set(sent)),
          CdnPurge.objects.count(), PendingPurge.objects.count(),
          CdnPurge.objects.filter(sent_at=None).count()]))
"""


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own locking, on a file")
def test_processes_claiming_at_once_on_a_sqlite_file_send_each_path_once(tmp_path):
    """SQLite has no row locks: a claim starts with a write, which takes the database's
    write lock before anything is read. Four processes adding and sending at once on one
    file database: every path sent exactly once, none left, no error."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cms.settings.test",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'claims.db'}",
        "PYTHONPATH": str(root),
    }
    run = {"cwd": root, "env": env, "capture_output": True, "text": True, "timeout": 120}
    migrated = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], **run)
    assert migrated.returncode == 0, migrated.stderr
    script = tmp_path / "claimers.py"
    script.write_text(SQLITE_CLAIMERS)
    result = subprocess.run([sys.executable, str(script)], **run)
    assert result.returncode == 0, result.stderr[-2000:]
    exit_codes, sent, distinct, invalidations, pending, unsent = json.loads(
        result.stdout.strip().splitlines()[-1]
    )
    assert exit_codes == [0, 0, 0, 0]
    assert (sent, distinct, pending, unsent) == (40, 40, 0, 0)
    assert invalidations <= 40
