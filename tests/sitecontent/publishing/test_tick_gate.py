"""The publishing tick's "next due" marker (sitecontent.publishing.tick_gate): an idle site's
minute tick opens no database connection, so an Aurora Serverless database can pause."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from cms.lambda_events import lambda_event
from sitecontent import events
from sitecontent.models import Article, ContentTransition, Revision
from sitecontent.publishing import services, tick_gate
from sitecontent.publishing.tick_gate import Marker
from tests.factories import ArticleFactory, publisher


def write(store, marker):
    """Put ``marker`` in ``store`` whatever it holds now."""
    assert store.write(marker, store.read()[1])


@pytest.fixture
def file_marker(settings, tmp_path):
    settings.PUBLISHING_TICK_MARKER = "file"
    settings.PUBLISHING_TICK_MARKER_FILE = tmp_path / "state" / "publishing-tick.json"
    return tick_gate.get_store()


@pytest.fixture
def s3_marker(media_bucket, settings):
    settings.PUBLISHING_TICK_MARKER = "s3"
    store = tick_gate.get_store()
    assert (store.bucket, store.key) == (media_bucket.bucket, "state/publishing-tick.json")
    return store


@pytest.fixture
def connections_opened(monkeypatch):
    """Every time anything asked for a database connection (opening one, or using the
    one it has: Django's cursor() always goes through ensure_connection)."""
    asked = []
    ensure_connection = BaseDatabaseWrapper.ensure_connection  # pytest-django's blocker

    def counting(self):
        asked.append(self.alias)
        return ensure_connection(self)

    monkeypatch.setattr(BaseDatabaseWrapper, "ensure_connection", counting)
    return asked


@pytest.fixture
def gated_tick(django_capture_on_commit_callbacks):
    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return tick_gate.publishing_tick(**kwargs)

    return run


# -- skipping: no database at all (these tests have no database access) --------------


def test_an_idle_tick_opens_no_database_connection(file_marker, connections_opened, monkeypatch):
    # As a warm container is between events on a stage with CONN_MAX_AGE=0. (Here the
    # test database's in-memory SQLite connection cannot really be closed.)
    wrapper = connections["default"]  # the wrapper itself, not the proxy in front of it
    monkeypatch.setattr(wrapper, "connection", None)
    before = timezone.now() - timedelta(minutes=1)
    write(file_marker, Marker(next_due=None, full_run_at=before, checked_at=before, generation=7))
    result = events.publishing_tick({"source": "aws.events"}, None)
    assert result == {"ran": False, "skipped": "nothing scheduled", "next_due": None}
    assert connections_opened == []
    assert wrapper.connection is None
    marker = file_marker.read()[0]
    assert marker.checked_at > before  # the operations panel sees the tick is alive
    assert (marker.next_due, marker.full_run_at, marker.generation) == (None, before, 8)
    assert tick_gate.last_checked_at() == marker.checked_at


def test_a_tick_before_the_next_due_time_skips_saying_until_when(file_marker, connections_opened):
    now = timezone.now()
    due = now + timedelta(hours=2)
    write(file_marker, Marker(next_due=due, full_run_at=now - timedelta(hours=1)))
    outcome = tick_gate.publishing_tick(now=now)
    assert outcome.as_dict() == {
        "ran": False,
        "skipped": f"nothing due until {due.isoformat()}",
        "next_due": due.isoformat(),
    }
    assert connections_opened == []


def test_the_marker_only_allows_skipping_when_it_is_sure():
    now = timezone.now()
    every = timedelta(hours=6)
    recent = now - timedelta(minutes=5)
    assert Marker(next_due=None, full_run_at=recent).allows_skip(now, every)
    assert Marker(next_due=now + timedelta(seconds=1), full_run_at=recent).allows_skip(now, every)
    assert not Marker(next_due=now, full_run_at=recent).allows_skip(now, every)  # due
    assert not Marker(next_due=None, full_run_at=None).allows_skip(now, every)  # never ran
    # The safety net: a full run at least every PUBLISHING_TICK_FULL_RUN_HOURS.
    assert not Marker(next_due=None, full_run_at=now - every).allows_skip(now, every)
    # A full run "in the future" (clocks disagree): don't trust it.
    assert not Marker(full_run_at=now + timedelta(minutes=1)).allows_skip(now, every)


def test_without_a_marker_setting_every_tick_runs_in_full(settings):
    settings.PUBLISHING_TICK_MARKER = ""
    assert tick_gate.get_store() is None
    assert tick_gate.last_checked_at() is None


# -- full runs ---------------------------------------------------------------------


@pytest.mark.django_db
def test_a_missing_marker_runs_the_tick_in_full_and_writes_one(file_marker, gated_tick):
    now = timezone.now()
    later = ArticleFactory(publish_at=now + timedelta(hours=3))
    assert file_marker.read() == (None, None)
    outcome = gated_tick(now=now)
    assert outcome.ran is True
    marker = file_marker.read()[0]
    assert marker.next_due == later.publish_at
    assert marker.full_run_at == marker.checked_at == now


@pytest.mark.django_db
def test_an_unreadable_marker_runs_the_tick_in_full_and_is_replaced(file_marker, gated_tick):
    path = Path(file_marker.path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    outcome = gated_tick(now=timezone.now())
    assert outcome.ran is True
    assert file_marker.read()[0].next_due is None  # nothing scheduled


@pytest.mark.django_db
def test_a_due_item_makes_the_tick_run_in_full(
    file_marker, gated_tick, django_capture_on_commit_callbacks
):
    now = timezone.now()
    write(file_marker, Marker(next_due=None, full_run_at=now, checked_at=now))
    article = ArticleFactory(is_published=False, publish_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.content_schedule(
            item=article, user=publisher(), publish_at=now + timedelta(minutes=1)
        )
    assert isinstance(gated_tick(now=now + timedelta(seconds=30)), tick_gate.TickSkipped)
    outcome = gated_tick(now=now + timedelta(minutes=2))
    assert (outcome.ran, outcome.transitions) == (True, 1)
    assert ContentTransition.objects.get().object_id == article.pk
    marker = file_marker.read()[0]
    assert (marker.next_due, marker.full_run_at) == (None, now + timedelta(minutes=2))


@pytest.mark.django_db
def test_the_safety_net_runs_in_full_however_quiet_the_marker_says_it_is(
    file_marker, gated_tick, settings
):
    settings.PUBLISHING_TICK_FULL_RUN_HOURS = 6
    now = timezone.now()
    write(file_marker, Marker(next_due=None, full_run_at=now - timedelta(hours=6)))
    assert gated_tick(now=now).ran is True
    assert file_marker.read()[0].full_run_at == now


@pytest.mark.django_db
def test_a_skipped_tick_runs_no_query(file_marker, gated_tick, django_assert_num_queries):
    now = timezone.now()
    write(file_marker, Marker(next_due=now + timedelta(hours=1), full_run_at=now))
    with django_assert_num_queries(0):
        assert gated_tick(now=now + timedelta(minutes=1)).ran is False


# -- saves move the marker earlier, on commit only ---------------------------------


@pytest.mark.django_db
def test_scheduling_moves_the_marker_earlier_once_the_save_commits(
    file_marker, django_capture_on_commit_callbacks
):
    now = timezone.now()
    write(file_marker, Marker(next_due=now + timedelta(days=1), full_run_at=now, generation=1))
    article = ArticleFactory(is_published=False, publish_at=None)
    go_live = now + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.content_schedule(item=article, user=publisher(), publish_at=go_live)
        assert file_marker.read()[0].next_due == now + timedelta(days=1)  # not committed yet
    marker = file_marker.read()[0]
    assert (marker.next_due, marker.full_run_at, marker.generation) == (go_live, now, 2)

    # A later time does not move it later (the tick alone does that, after a full run).
    other = ArticleFactory(is_published=False, publish_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.content_schedule(
            item=other, user=publisher(), publish_at=go_live + timedelta(days=2)
        )
    assert file_marker.read()[0].next_due == go_live


@pytest.mark.django_db
def test_a_rolled_back_schedule_leaves_the_marker_alone(
    file_marker, django_capture_on_commit_callbacks
):
    now = timezone.now()
    original = Marker(next_due=None, full_run_at=now, checked_at=now, generation=4)
    write(file_marker, original)
    article = ArticleFactory(is_published=False, publish_at=None)

    def failing_request():
        with transaction.atomic():
            services.content_schedule(
                item=article, user=publisher(), publish_at=now + timedelta(hours=1)
            )
            raise RuntimeError("the request failed after saving")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        failing_request()
    assert callbacks == []
    assert file_marker.read()[0] == original
    assert Article.objects.get(pk=article.pk).publish_at is None


@pytest.mark.django_db
def test_an_expiry_set_on_a_live_item_moves_the_marker(
    file_marker, django_capture_on_commit_callbacks
):
    now = timezone.now()
    write(file_marker, Marker(next_due=None, full_run_at=now))
    article = ArticleFactory()
    article.unpublish_at = now + timedelta(minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        article.save()  # an admin change form saves like this
    assert file_marker.read()[0].next_due == article.unpublish_at


@pytest.mark.django_db
def test_saves_that_schedule_nothing_for_the_tick_write_nothing(
    file_marker, django_capture_on_commit_callbacks
):
    now = timezone.now()
    write(file_marker, Marker(next_due=None, full_run_at=now))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        ArticleFactory()  # live since yesterday: the save itself purged
        ArticleFactory(is_published=False, publish_at=now + timedelta(hours=1))  # a draft
        services.content_publish(item=ArticleFactory(is_published=False), user=publisher())
    assert [c for c in callbacks if getattr(c, "func", None) is tick_gate.move_earlier] == []
    assert file_marker.read()[0] == Marker(next_due=None, full_run_at=now)


def test_scheduled_edits_count_until_applied():
    at = timezone.now() + timedelta(hours=1)
    assert tick_gate.scheduled_time(Revision(go_live_at=at)) == at
    assert tick_gate.scheduled_time(Revision(go_live_at=at, applied_at=at)) is None
    assert tick_gate.scheduled_time(Revision()) is None


def test_a_save_creates_the_marker_when_there_is_none(file_marker):
    """Else a tick that read "no marker" before the save committed, and queried before
    it too, would write a marker that never heard of it."""
    at = timezone.now() + timedelta(hours=1)
    tick_gate.move_earlier(at)
    marker = file_marker.read()[0]
    assert (marker.next_due, marker.full_run_at) == (at, None)  # next tick: in full


def test_a_tick_that_read_before_a_save_loses_its_write(file_marker):
    now = timezone.now()
    write(file_marker, Marker(next_due=now, full_run_at=now - timedelta(hours=1)))
    _, token = file_marker.read()  # the tick reads, then queries ...
    tick_gate.move_earlier(now + timedelta(minutes=5))  # ... a save commits meanwhile
    tick_gate._write_after_full_run(file_marker, Marker(next_due=None, full_run_at=now), token)
    assert file_marker.read()[0].next_due == now  # the next tick runs in full


# -- the marker in the media bucket (moto over HTTP) ---------------------------------


@pytest.mark.django_db
def test_the_s3_marker_is_a_private_object_outside_media_and_uploads(
    s3_marker, media_bucket, gated_tick, django_capture_on_commit_callbacks
):
    from cms import aws

    s3 = aws.client("s3")
    now = timezone.now()
    assert gated_tick(now=now).ran is True  # no object yet: in full
    body = s3.get_object(Bucket=media_bucket.bucket, Key="state/publishing-tick.json")
    stored = json.loads(body["Body"].read())
    assert stored == {
        "next_due": None,
        "full_run_at": now.isoformat(),
        "checked_at": now.isoformat(),
        "generation": 1,
    }
    assert body["CacheControl"] == "no-store"

    # Skips read the object and note the check in it; no query.
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert gated_tick(now=now + timedelta(minutes=1)).ran is False
    assert len(queries) == 0
    assert s3_marker.read()[0].checked_at == now + timedelta(minutes=1)
    assert tick_gate.last_checked_at() == now + timedelta(minutes=1)

    # A schedule moves the real object earlier once it commits.
    go_live = now + timedelta(minutes=10)
    article = ArticleFactory(is_published=False, publish_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.content_schedule(item=article, user=publisher(), publish_at=go_live)
    assert s3_marker.read()[0].next_due == go_live
    assert gated_tick(now=go_live + timedelta(seconds=1)).transitions == 1

    listed = s3.list_objects_v2(Bucket=media_bucket.bucket)["Contents"]
    assert [obj["Key"] for obj in listed] == ["state/publishing-tick.json"]
    assert media_bucket.events() == []  # never taken for an upload


def test_s3_marker_writes_are_compare_and_swap(s3_marker):
    now = timezone.now()
    assert s3_marker.read() == (None, None)
    assert s3_marker.write(Marker(next_due=now, generation=1), None) is True
    assert s3_marker.write(Marker(generation=9), None) is False  # created meanwhile
    marker, etag = s3_marker.read()
    assert marker == Marker(next_due=now, generation=1)
    assert s3_marker.write(marker.earlier(now - timedelta(hours=1)), etag) is True
    assert s3_marker.write(Marker(generation=9), etag) is False  # changed since read
    assert s3_marker.read()[0].next_due == now - timedelta(hours=1)


def test_an_unreachable_bucket_means_a_full_tick(settings, aws, monkeypatch):
    """No such bucket (or no permission): the read finds no marker, so the tick runs in
    full; saves log the failure and leave the safety net to find their change."""
    settings.PUBLISHING_TICK_MARKER, settings.MEDIA_BUCKET = "s3", "no-such-bucket"
    store = tick_gate.get_store()
    assert store.read() == (None, None)
    with pytest.raises(tick_gate.MarkerError):
        store.write(Marker(), None)
    tick_gate.move_earlier(timezone.now())  # logged, not raised


# -- connections ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_an_event_closes_its_database_connection_when_it_finishes(monkeypatch):
    closed = []
    monkeypatch.setattr(connection, "close", lambda: closed.append(connection.alias))

    @lambda_event
    def handler(event, context):
        closed.clear()  # the stale check before may have closed an old one already
        return Article.objects.count()

    assert handler({}) == 0
    assert closed == ["default"]


@pytest.mark.django_db
def test_an_event_inside_a_transaction_keeps_its_connection(monkeypatch):
    closed = []
    monkeypatch.setattr(connection, "close", lambda: closed.append(connection.alias))
    lambda_event(lambda event, context: Article.objects.count())({})
    assert closed == []
