import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from cms.models import CdnPurge
from sitecontent.models import Article, ContentTransition, Page, SchedulerState
from sitecontent.publishing import tick as publishing_tick
from tests.factories import ArticleFactory, PageFactory

pytestmark = pytest.mark.django_db


def schedule(factory, *, go_live=None, expire=None, **fields):
    """An item saved a while ago whose go-live or expiry time is ``go_live``/``expire``."""
    item = factory(**fields)
    changes = {"updated_at": timezone.now() - timedelta(days=1)}
    if go_live:
        changes["publish_at"] = go_live
    if expire:
        changes["unpublish_at"] = expire
    type(item).objects.filter(pk=item.pk).update(**changes)
    item.refresh_from_db()
    return item


@pytest.fixture
def tick(django_capture_on_commit_callbacks):
    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return publishing_tick.scheduled_publishing_tick(**kwargs)

    return run


def test_go_live_is_recorded_and_purges_the_paths_showing_the_article(tick):
    now = timezone.now()
    article = schedule(ArticleFactory, go_live=now - timedelta(seconds=20), slug="big-news")
    outcome = tick(now=now)
    assert outcome.transitions == 1
    transition = ContentTransition.objects.get()
    assert (transition.item, transition.kind) == (article, ContentTransition.Kind.WENT_LIVE)
    purge = CdnPurge.objects.get()
    assert "/" in purge.paths
    assert "/articles/*" in purge.paths  # covers /articles/big-news/ and list pages
    assert f"{article.category.get_absolute_url()}*" in purge.paths


def test_expiry_of_a_page_in_the_navigation_purges_every_page(tick):
    now = timezone.now()
    schedule(
        PageFactory,
        expire=now - timedelta(seconds=5),
        show_in_menus=True,
        publish_at=now - timedelta(days=3),
    )
    outcome = tick(now=now)
    assert outcome.transitions == 1
    assert ContentTransition.objects.get().kind == ContentTransition.Kind.EXPIRED
    assert CdnPurge.objects.get().paths == ["/*"]


def test_the_same_tick_three_times_has_one_set_of_side_effects(tick):
    now = timezone.now()
    schedule(ArticleFactory, go_live=now - timedelta(seconds=20))
    outcomes = [tick(now=now + timedelta(seconds=n)) for n in range(3)]
    assert [o.transitions for o in outcomes] == [1, 0, 0]
    assert ContentTransition.objects.count() == 1
    assert CdnPurge.objects.count() == 1
    assert SchedulerState.objects.get().runs == 3


@pytest.mark.parametrize("marker_kept", [True, False], ids=["marker kept", "marker lost"])
def test_a_tick_delivered_three_times_behind_its_marker_has_one_set_of_side_effects(
    marker_kept, settings, tmp_path, django_capture_on_commit_callbacks
):
    """EventBridge may deliver a tick more than once. With the marker (sitecontent.
    tick_gate) the repeats skip; without it (lost, unreadable) they run in full and find
    the work done: either way one transition and one purge."""
    from sitecontent.publishing import tick_gate

    settings.PUBLISHING_TICK_MARKER = "file"
    settings.PUBLISHING_TICK_MARKER_FILE = marker = tmp_path / "publishing-tick.json"
    now = timezone.now()
    schedule(ArticleFactory, go_live=now - timedelta(seconds=20))
    outcomes = []
    for _ in range(3):
        if not marker_kept:
            marker.unlink(missing_ok=True)
        with django_capture_on_commit_callbacks(execute=True):
            outcomes.append(tick_gate.publishing_tick(now=now).as_dict())
    assert [o["ran"] for o in outcomes] == ([True, False, False] if marker_kept else [True] * 3)
    assert [o.get("transitions") for o in outcomes] == (
        [1, None, None] if marker_kept else [1, 0, 0]
    )
    assert ContentTransition.objects.count() == 1
    assert CdnPurge.objects.count() == 1
    assert SchedulerState.objects.get().runs == (1 if marker_kept else 3)


def test_missed_ticks_are_caught_up_by_the_next_one(tick):
    start = timezone.now()
    tick(now=start)
    # The cron stopped for three hours; items went live and expired meanwhile.
    schedule(ArticleFactory, go_live=start + timedelta(minutes=30))
    schedule(ArticleFactory, go_live=start + timedelta(hours=2))
    schedule(PageFactory, expire=start + timedelta(hours=1), publish_at=start - timedelta(days=1))
    outcome = tick(now=start + timedelta(hours=3))
    assert outcome.transitions == 3
    assert outcome.window_start <= start


def test_nothing_happens_before_the_time_comes(tick):
    now = timezone.now()
    schedule(ArticleFactory, go_live=now + timedelta(minutes=1))
    assert tick(now=now).transitions == 0
    assert tick(now=now + timedelta(minutes=1)).transitions == 1


def test_items_saved_after_their_time_are_not_the_clocks_doing(tick):
    """Publishing now (a save) already purged; the tick must not purge again."""
    ArticleFactory(publish_at=timezone.now() - timedelta(seconds=1))
    assert tick().transitions == 0
    assert not CdnPurge.objects.exists()


def test_drafts_never_transition(tick):
    now = timezone.now()
    schedule(
        ArticleFactory, go_live=now - timedelta(seconds=10), is_published=False, publish_at=None
    )
    assert tick(now=now).transitions == 0


def test_the_management_command_runs_the_same_tick(capsys):
    from django.core.management import call_command

    schedule(ArticleFactory, go_live=timezone.now() - timedelta(seconds=10))
    call_command("publishing_tick")
    assert "1 transition(s)" in capsys.readouterr().out
    assert ContentTransition.objects.count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs concurrent writers: SQLite's shared in-memory test database locks whole "
    "tables; CI runs this on PostgreSQL",
)
def test_overlapping_ticks_do_the_work_once():
    """Two ticks at once (a duplicate delivery): the second finds the state row locked
    and steps aside, so each transition is recorded and purged once."""
    now = timezone.now()
    for _ in range(5):
        schedule(ArticleFactory, go_live=now - timedelta(seconds=30))
    publishing_tick.scheduled_publishing_tick(
        now=now - timedelta(minutes=1)
    )  # creates the state row
    purges_before = CdnPurge.objects.count()  # saving the articles purged already
    barrier = threading.Barrier(2)
    outcomes, errors = [], []

    def run():
        try:
            barrier.wait()
            outcomes.append(publishing_tick.scheduled_publishing_tick(now=now))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert sum(o.transitions for o in outcomes) == 5
    assert ContentTransition.objects.count() == 5
    assert CdnPurge.objects.count() == purges_before + 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_a_tick_steps_aside_while_another_holds_the_lock():
    from django.db import transaction

    schedule(ArticleFactory, go_live=timezone.now() - timedelta(seconds=30))
    SchedulerState.objects.create()
    locked, release = threading.Event(), threading.Event()

    def hold_lock():
        with transaction.atomic():
            SchedulerState.objects.select_for_update().get()
            locked.set()
            release.wait(10)
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait(10)
    try:
        assert publishing_tick.scheduled_publishing_tick().ran is False
        assert not ContentTransition.objects.exists()
    finally:
        release.set()
        holder.join()
    assert publishing_tick.scheduled_publishing_tick().transitions == 1


def test_clock_driven_visibility_does_not_depend_on_the_tick(client):
    go_live = timezone.now() + timedelta(hours=1)
    article = ArticleFactory(publish_at=go_live)
    with time_machine.travel(go_live + timedelta(seconds=1), tick=False):
        assert not SchedulerState.objects.exists()
        assert client.get(article.get_absolute_url()).status_code == 200
    assert Article.objects.count() == Page.objects.count() + 1


def test_a_full_tick_asks_again_for_renditions_a_lost_task_never_made(tick):
    from cms.models import TaskRun
    from sitecontent.media.services import REQUEST_AGAIN_AFTER
    from sitecontent.models import Image
    from tests.factories import ImageFactory

    image = ImageFactory(with_renditions=False)
    Image.objects.filter(pk=image.pk).update(renditions_requested_at=None)  # task lost
    runs = TaskRun.objects.filter(task_path="sitecontent.tasks.image_create_renditions")
    before = runs.count()
    outcome = tick()
    assert outcome.renditions_requested == (image.pk,)
    assert outcome.as_dict()["renditions_requested"] == [image.pk]
    assert runs.count() == before + 1
    image.refresh_from_db()
    assert image.renditions  # made by the task the tick enqueued (immediate backend)
    # Asked for just now (and lost again): ticks leave it alone until REQUEST_AGAIN_AFTER.
    Image.objects.filter(pk=image.pk).update(renditions=[], renditions_requested_at=timezone.now())
    assert tick().renditions_requested == ()
    assert tick(now=timezone.now() + REQUEST_AGAIN_AFTER * 2).renditions_requested == (image.pk,)
