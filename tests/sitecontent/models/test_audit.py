"""The audit log's records: one per act, written by the services (so the admin, the API,
tasks, commands and the minute tick all leave them), kept after the item is deleted,
and sign-in lockouts through django-axes' own flow."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sitecontent.media import services as media_services
from sitecontent.models import Article, AuditEvent, Image, Revision
from sitecontent.publishing import revisions, services
from sitecontent.publishing import tick as publishing_tick
from tests.factories import ArticleFactory, DocumentFactory, ImageFactory, PageFactory, publisher

pytestmark = pytest.mark.django_db

Action = AuditEvent.Action


@pytest.fixture
def pat():
    return publisher(username="pat")


def records(item=None):
    events = AuditEvent.objects.all() if item is None else AuditEvent.objects.for_item(item)
    return list(events.order_by("at", "id").values_list("action", "actor_name"))


def inserts_into_the_log(queries) -> int:
    return sum(
        q["sql"].startswith("INSERT") and "sitecontent_auditevent" in q["sql"] for q in queries
    )


def test_a_new_item_is_created_and_a_later_save_an_edit(pat):
    article = Article(title="Fresh", slug="fresh", summary="s", body="<p>b</p>", author=pat)
    services.content_save(item=article, user=pat)
    article.title = "Fresher"
    services.content_save(item=article, user=pat)
    assert records(article) == [(Action.CREATE, "pat"), (Action.EDIT, "pat")]
    edit = AuditEvent.objects.for_item(article).first()
    assert edit.details["changed"] == ["title"]
    assert edit.object_repr == "Fresher"


def test_each_act_writes_exactly_one_record(pat):
    article = ArticleFactory(is_published=False, publish_at=None)
    revisions.revision_create(item=article, user=pat)
    acts = [
        lambda: services.content_save(item=article, user=pat),
        lambda: services.content_publish(item=article, user=pat),
        lambda: services.content_unpublish(item=article, user=pat),
        lambda: services.content_schedule(
            item=article, user=pat, publish_at=timezone.now() + timedelta(days=1)
        ),
    ]
    for act in acts:
        with CaptureQueriesContext(connection) as queries:
            act()
        assert inserts_into_the_log(queries) == 1
    assert [a for a, _ in records(article)] == [
        Action.EDIT,
        Action.PUBLISH,
        Action.UNPUBLISH,
        Action.SCHEDULE,
    ]
    scheduled = AuditEvent.objects.for_item(article).first()
    assert scheduled.details["at"] == article.publish_at.isoformat()


def test_drafts_and_their_publishing_and_scheduling_are_recorded(pat):
    article = ArticleFactory(title="Live")
    revisions.revision_create(item=article, user=pat)
    draft = revisions.revision_save_draft(
        item=article, user=pat, data={**revisions.snapshot(article), "title": "Draft"}
    )
    revisions.revision_schedule(revision=draft, user=pat, at=timezone.now() + timedelta(hours=1))
    revisions.revision_publish(revision=draft, user=pat)
    assert [a for a, _ in records(article)] == [Action.DRAFT, Action.SCHEDULE, Action.PUBLISH]
    published = AuditEvent.objects.for_item(article).first()
    assert published.object_repr == "Draft"  # the title as it became
    assert published.details["revision"] == draft.pk


def test_a_restore_is_one_record_saying_whether_it_went_live(pat):
    article = ArticleFactory(title="One")
    first = revisions.revision_create(item=article, user=pat)
    article.title = "Two"
    services.content_save(item=article, user=pat)
    AuditEvent.objects.all().delete()
    revisions.revision_restore(revision=first, user=pat)
    (restore,) = AuditEvent.objects.all()
    assert restore.action == Action.RESTORE
    assert restore.details["revision"] == first.pk
    assert restore.details["live"] is True


def test_a_deleted_items_records_stay_with_its_title(pat):
    article = ArticleFactory(title="Gone tomorrow")
    services.content_publish(item=article, user=pat)
    article_id = article.pk
    services.content_delete(item=article, user=pat)
    assert not Article.objects.filter(pk=article_id).exists()
    kept = AuditEvent.objects.filter(object_id=str(article_id), content_type__model="article")
    assert [(e.action, e.object_repr) for e in kept.order_by("at", "id")] == [
        (Action.PUBLISH, "Gone tomorrow"),
        (Action.DELETE, "Gone tomorrow"),
    ]
    # Deleting the actor keeps the name too.
    pat.delete()
    assert set(kept.values_list("actor_name", flat=True)) == {"pat"}


def test_media_saves_and_deletes_are_recorded(pat):
    image = Image(title="Harbour", alt_text="Boats", file=ImageFactory.build().file)
    media_services.media_save(item=image, user=pat)
    image.title = "Harbour at dawn"
    media_services.media_save(item=image, user=pat)
    image_id = image.pk
    media_services.media_delete(item=image, user=pat)
    document = DocumentFactory()
    media_services.media_delete(item=document, user=pat)
    log = AuditEvent.objects.order_by("at", "id")
    assert [(e.action, e.object_repr) for e in log] == [
        (Action.CREATE, "Harbour"),
        (Action.EDIT, "Harbour at dawn"),
        (Action.DELETE, "Harbour at dawn"),
        (Action.DELETE, document.title),
    ]
    assert log[0].object_id == str(image_id)


def test_the_ticks_transitions_are_the_schedules_doing(django_capture_on_commit_callbacks):
    now = timezone.now()
    going = ArticleFactory(publish_at=now - timedelta(minutes=1))
    ending = PageFactory(
        publish_at=now - timedelta(days=2), unpublish_at=now - timedelta(minutes=1)
    )
    Article.objects.filter(pk=going.pk).update(updated_at=now - timedelta(days=1))
    type(ending).objects.filter(pk=ending.pk).update(updated_at=now - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        publishing_tick.scheduled_publishing_tick(now=now)
        publishing_tick.scheduled_publishing_tick(now=now + timedelta(seconds=30))
    assert records(going) == [(Action.PUBLISH, "")]
    assert records(ending) == [(Action.UNPUBLISH, "")]
    event = AuditEvent.objects.for_item(going).get()
    assert event.actor is None
    assert event.details["by"] == "schedule"


def test_a_scheduled_draft_applied_by_the_tick_is_published_by_the_schedule(pat):
    article = ArticleFactory(title="Live")
    draft = revisions.revision_save_draft(
        item=article, user=pat, data={**revisions.snapshot(article), "title": "Later"}
    )
    revisions.revision_schedule(revision=draft, user=pat, at=timezone.now() + timedelta(hours=1))
    revisions.revisions_apply_due(now=timezone.now() + timedelta(hours=2))
    newest = AuditEvent.objects.for_item(article).first()
    assert (newest.action, newest.actor, newest.details["by"]) == (Action.PUBLISH, None, "schedule")


def test_the_first_save_of_an_item_without_revisions_keeps_the_stored_version(pat):
    article = ArticleFactory(title="Original")
    article.title = "Changed"
    services.content_save(item=article, user=pat)
    titles = [r.data["title"] for r in Revision.objects.for_item(article).order_by("id")]
    assert titles == ["Original", "Changed"]
    assert records(article) == [(Action.EDIT, "pat")]  # keeping the original is no act


# -- sign-in lockouts ------------------------------------------------------------------


def sign_in(client, username, password):
    return client.post(
        "/admin/login/?next=/admin/",
        {"username": username, "password": password},
        REMOTE_ADDR="198.51.100.9",
    )


@pytest.fixture
def lockable(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    settings.AXES_FAILURE_LIMIT = 3
    publisher(username="ed", password="right-password")


def test_a_lockout_is_recorded_once_with_the_username_and_address_but_no_password(lockable):
    client = Client()
    statuses = [sign_in(client, "ed", "wrong-secret-guess").status_code for _ in range(6)]
    assert statuses[-1] == 429  # axes' own lockout answered
    (event,) = AuditEvent.objects.filter(action=Action.LOCKOUT)
    assert event.details["username"] == "ed"
    assert event.details["ip_address"] == "198.51.100.9"
    assert event.actor is None
    assert "ed" in event.message
    assert "198.51.100.9" in event.message
    assert "wrong-secret-guess" not in str(event.details) + event.message


def test_another_address_locked_out_is_its_own_record(lockable):
    for address in ("198.51.100.9", "192.0.2.7"):
        for _ in range(4):
            Client().post(
                "/admin/login/",
                {"username": "ed", "password": "nope"},
                REMOTE_ADDR=address,
            )
    locked = AuditEvent.objects.filter(action=Action.LOCKOUT)
    assert sorted(e.details["ip_address"] for e in locked) == ["192.0.2.7", "198.51.100.9"]
