"""The domain signals (sitecontent.signals): each publishing act announces itself once,
drafts announce nothing, and redirects and purges follow the signals."""

from datetime import timedelta

import pytest
from django.contrib.redirects.models import Redirect
from django.utils import timezone

from cms.models import CdnPurge
from sitecontent import signals
from sitecontent.models import Article, Page
from sitecontent.publishing import revisions, services
from sitecontent.publishing import tick as publishing_tick
from tests.admin_forms import article_form_for
from tests.factories import ArticleFactory, PageFactory, editor, publisher

pytestmark = pytest.mark.django_db

SIGNALS = {
    "published": signals.content_published,
    "unpublished": signals.content_unpublished,
    "address": signals.content_address_changed,
}


@pytest.fixture
def heard():
    """Every domain signal sent during the test: (name, sender, item pk, extra kwargs)."""
    calls = []

    def listener(name):
        def receive(sender, instance, signal, **kwargs):
            calls.append((name, sender, instance.pk, kwargs))

        return receive

    receivers = {name: listener(name) for name in SIGNALS}
    for name, signal in SIGNALS.items():
        signal.connect(receivers[name], weak=False)
    yield calls
    for name, signal in SIGNALS.items():
        signal.disconnect(receivers[name])


def names(calls):
    return [call[0] for call in calls]


def long_ago(item, **changes):
    """Mark ``item`` as last saved yesterday, with ``changes``, as the tick finds it."""
    type(item).objects.filter(pk=item.pk).update(
        updated_at=timezone.now() - timedelta(days=1), **changes
    )
    item.refresh_from_db()
    return item


# -- the services -------------------------------------------------------------------


def test_publishing_a_draft_is_announced_once_with_the_model_as_sender(heard):
    article = ArticleFactory(is_published=False, publish_at=None)
    heard.clear()
    services.content_publish(item=article, user=publisher())
    assert heard == [("published", Article, article.pk, {})]


def test_unpublishing_a_live_page_is_announced_once(heard):
    page = PageFactory()
    services.content_unpublish(item=page, user=publisher())
    assert heard == [("unpublished", Page, page.pk, {})]


def test_unpublishing_an_item_nobody_could_see_announces_nothing(heard):
    scheduled = ArticleFactory(publish_at=timezone.now() + timedelta(days=1))
    services.content_unpublish(item=scheduled, user=publisher())
    assert heard == []


def test_scheduling_a_draft_announces_nothing_until_the_tick_puts_it_live(heard):
    article = ArticleFactory(is_published=False, publish_at=None)
    services.content_schedule(
        item=article, user=publisher(), publish_at=timezone.now() + timedelta(hours=1)
    )
    assert heard == []


def test_rescheduling_a_live_item_into_the_future_announces_it_leaves_the_site(heard):
    article = ArticleFactory()
    services.content_schedule(
        item=article, user=publisher(), publish_at=timezone.now() + timedelta(hours=1)
    )
    assert names(heard) == ["unpublished"]


def test_deleting_a_live_article_announces_it_leaves_the_site(heard):
    article = ArticleFactory()
    pk = article.pk
    services.content_delete(item=article, user=publisher())
    assert heard == [("unpublished", Article, pk, {})]
    assert not Article.objects.filter(pk=pk).exists()


def test_putting_a_draft_live_is_announced_once():
    article = ArticleFactory(title="Old")
    draft = revisions.revision_create(
        item=article, user=None, applied=False, data={**revisions.snapshot(article), "title": "New"}
    )
    calls = []

    def receive(sender, instance, **kwargs):
        calls.append(instance.title)

    signals.content_published.connect(receive, sender=Article, weak=False)
    try:
        revisions.revision_publish(revision=draft, user=publisher())
    finally:
        signals.content_published.disconnect(receive, sender=Article)
    assert calls == ["New"]  # receivers see the new version


def test_a_publishers_restore_of_a_live_item_is_announced(heard):
    article = ArticleFactory(title="First")
    first = revisions.revision_create(item=article, user=None)
    article.title = "Second"
    article.save()
    heard.clear()
    revisions.revision_restore(revision=first, user=publisher())
    assert names(heard) == ["published"]


def test_an_editors_restore_of_a_live_item_waits_as_a_draft_and_announces_nothing(heard):
    someone = editor()
    article = ArticleFactory(title="First", author=someone)
    first = revisions.revision_create(item=article, user=None)
    heard.clear()
    assert revisions.revision_restore(revision=first, user=someone).is_draft
    assert heard == []


# -- the admin: direct saves and drafts ---------------------------------------------


def test_a_publishers_direct_save_of_a_live_article_is_announced_once(heard, publisher_client):
    article = ArticleFactory(title="Live")
    heard.clear()
    response = publisher_client.post(
        f"/admin/sitecontent/article/{article.pk}/change/",
        article_form_for(article, title="Corrected"),
    )
    assert response.status_code == 302
    assert heard == [("published", Article, article.pk, {})]


def test_an_editors_draft_of_a_live_article_announces_nothing(heard):
    from django.test import Client

    someone = editor()
    browser = Client()
    browser.force_login(someone)
    article = ArticleFactory(title="Live", slug="live", author=someone)
    heard.clear()
    response = browser.post(
        f"/admin/sitecontent/article/{article.pk}/change/",
        article_form_for(article, title="Draft title", slug="renamed"),
    )
    assert response.status_code == 302
    assert heard == []
    assert not Redirect.objects.exists()


def test_saving_a_draft_item_announces_nothing(heard):
    article = ArticleFactory(is_published=False, publish_at=None, slug="one")
    article.slug = "two"
    article.save()
    assert heard == []


# -- addresses ------------------------------------------------------------------------


def test_an_address_change_is_announced_once_with_both_addresses(heard):
    article = ArticleFactory(slug="old")
    heard.clear()
    article.slug = "new"
    article.save()
    assert heard == [
        ("address", Article, article.pk, {"old_url": "/articles/old/", "new_url": "/articles/new/"})
    ]


def test_a_saved_item_whose_address_stayed_announces_no_address_change(heard):
    article = ArticleFactory(slug="same")
    heard.clear()
    article.title = "New title"
    article.save()
    assert heard == []


def test_a_draft_put_live_that_renames_the_article_redirects_the_old_address(client, heard):
    article = ArticleFactory(slug="before")
    draft = revisions.revision_create(
        item=article,
        user=None,
        applied=False,
        data={**revisions.snapshot(article), "slug": "after"},
    )
    heard.clear()
    revisions.revision_publish(revision=draft, user=publisher())
    assert sorted(names(heard)) == ["address", "published"]
    assert client.get("/articles/before/")["Location"] == "/articles/after/"


def test_redirects_follow_the_domain_signal_not_the_save():
    """The redirect receiver listens to content_address_changed: whoever sends it (not
    only a save) gets the redirect."""
    page = PageFactory(slug="here")
    PageFactory(slug="child", parent=page)
    signals.content_address_changed.send(
        sender=Page, instance=page, old_url="/there/", new_url="/here/"
    )
    assert Redirect.objects.get(old_path="/there/").new_path == "/here/"
    assert Redirect.objects.get(old_path="/there/child/").new_path == "/here/child/"


# -- the minute tick ------------------------------------------------------------------


@pytest.fixture
def tick(django_capture_on_commit_callbacks):
    def run(**kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return publishing_tick.scheduled_publishing_tick(**kwargs)

    return run


def test_the_tick_announces_a_go_live_once(heard, tick):
    now = timezone.now()
    article = long_ago(ArticleFactory(), publish_at=now - timedelta(seconds=20))
    heard.clear()
    for n in range(3):
        tick(now=now + timedelta(seconds=n))
    assert heard == [("published", Article, article.pk, {})]


def test_the_tick_announces_an_expiry_once(heard, tick):
    now = timezone.now()
    page = long_ago(
        PageFactory(publish_at=now - timedelta(days=2)), unpublish_at=now - timedelta(seconds=5)
    )
    heard.clear()
    tick(now=now)
    tick(now=now + timedelta(seconds=1))
    assert heard == [("unpublished", Page, page.pk, {})]


def test_the_tick_announces_scheduled_changes_it_applies(heard, tick):
    article = ArticleFactory(title="Before")
    draft = revisions.revision_create(
        item=article,
        user=None,
        applied=False,
        data={**revisions.snapshot(article), "title": "After"},
    )
    draft.go_live_at, draft.approved_by = timezone.now() - timedelta(seconds=1), publisher()
    draft.save(update_fields=["go_live_at", "approved_by"])
    heard.clear()
    tick()
    assert names(heard) == ["published"]


def test_the_tick_purge_listens_to_the_go_live_signal(tick):
    """A go-live writes no row: without the receiver of content_published nothing would
    purge the paths showing the article."""
    from sitecontent.caching import receivers

    now = timezone.now()
    long_ago(ArticleFactory(slug="news"), publish_at=now - timedelta(seconds=20))
    signals.content_published.disconnect(receivers.purge_after_publishing, sender=Article)
    try:
        tick(now=now)
        assert not CdnPurge.objects.exists()
    finally:
        signals.content_published.connect(receivers.purge_after_publishing, sender=Article)
    later = ArticleFactory(slug="later")
    long_ago(later, publish_at=now + timedelta(seconds=30))
    tick(now=now + timedelta(minutes=1))
    assert "/articles/*" in CdnPurge.objects.get().paths


def test_a_publishers_save_draft_that_unpublishes_announces_it_and_keeps_the_content(
    heard, publisher_client
):
    article = ArticleFactory(title="Live")
    heard.clear()
    response = publisher_client.post(
        f"/admin/sitecontent/article/{article.pk}/change/",
        {
            **article_form_for(article, title="Draft title", _savedraft="1"),
            "is_published": "",
        },
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.is_published, article.title) == (False, "Live")
    assert heard == [("unpublished", Article, article.pk, {})]


def test_a_service_publish_and_unpublish_each_purge_once_what_showed_the_article(
    django_capture_on_commit_callbacks,
):
    """The save's purge covers the announcement's (purge_after_publishing skips after a
    save); each act still reaches the CDN, once, with the paths showing the article."""
    article = ArticleFactory(slug="once", is_published=False, publish_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        services.content_publish(item=article, user=publisher())
    with django_capture_on_commit_callbacks(execute=True):
        services.content_unpublish(item=Article.objects.get(pk=article.pk), user=publisher())
    purges = list(CdnPurge.objects.order_by("pk"))
    assert len(purges) == 2
    assert all("/articles/*" in purge.paths for purge in purges)
