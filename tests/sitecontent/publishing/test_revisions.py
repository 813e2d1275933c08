"""Revisions: every save kept; drafts of live items wait for a publisher; compare,
restore, and changes scheduled for later."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sitecontent.models import Article, Revision
from sitecontent.publishing import revisions, tick
from tests.admin_forms import article_form, article_form_for
from tests.factories import ArticleFactory, TagFactory, editor, publisher

pytestmark = pytest.mark.django_db

ARTICLES = "/admin/sitecontent/article/"


def signed_in(user):
    browser = Client()
    browser.force_login(user)
    browser.user = user
    return browser


@pytest.fixture
def eda():
    return signed_in(editor(username="eda"))


@pytest.fixture
def pat():
    return signed_in(publisher(username="pat"))


def change_url(article):
    return f"{ARTICLES}{article.pk}/change/"


def public_title(client, article):
    html = client.get(article.get_absolute_url()).content.decode()
    return html.split("<h1>", 1)[1].split("</h1>", 1)[0]


def test_every_save_keeps_a_revision_with_who_and_what_changed(eda):
    eda.post(f"{ARTICLES}add/", article_form())
    article = Article.objects.get()
    eda.post(change_url(article), article_form_for(article, title="Second title"))
    history = list(Revision.objects.for_item(article))
    assert [r.created_by for r in history] == [eda.user, eda.user]
    assert history[0].changed_fields == ["title"]
    assert history[0].data["title"] == "Second title"
    assert all(not r.is_draft for r in history)  # a draft item changes directly


def test_an_editors_change_to_a_live_article_waits_as_a_draft(eda, client):
    article = ArticleFactory(title="Live title", author=eda.user)
    response = eda.post(
        change_url(article), article_form_for(article, title="Edited title", _savedraft="1")
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "Live title"
    draft = revisions.pending_draft(article)
    assert draft.data["title"] == "Edited title"
    form = eda.get(change_url(article))
    assert form.context["adminform"].form.initial["title"] == "Edited title"
    assert "Unpublished changes" in form.content.decode()
    client.logout()
    assert public_title(client, article) == "Live title"


def test_a_publisher_publishes_the_draft_and_it_goes_live(eda, pat, client):
    author = editor(username="writer")
    article = ArticleFactory(title="Old", author=author)
    revisions.revision_create(
        item=article,
        user=author,
        applied=False,
        data={**revisions.snapshot(article), "title": "New"},
    )
    draft = revisions.pending_draft(article)
    response = pat.post(f"{ARTICLES}{article.pk}/revisions/{draft.pk}/publish/")
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "New"
    draft.refresh_from_db()
    assert (draft.is_draft, draft.approved_by) == (False, pat.user)
    assert public_title(client, article) == "New"


def test_an_editor_cannot_publish_a_draft_even_by_posting(eda):
    article = ArticleFactory(title="Old", author=eda.user)
    draft = revisions.revision_create(
        item=article,
        user=eda.user,
        applied=False,
        data={**revisions.snapshot(article), "title": "Sneaky"},
    )
    for action in ("publish", "schedule"):
        eda.post(
            f"{ARTICLES}{article.pk}/revisions/{draft.pk}/{action}/",
            {"go_live_at": "2030-01-01T10:00"},
        )
    article.refresh_from_db()
    draft.refresh_from_db()
    assert article.title == "Old"
    assert draft.is_draft
    assert draft.go_live_at is None


def test_editors_cannot_change_other_peoples_articles(eda):
    others = ArticleFactory(is_published=False, publish_at=None)
    response = eda.post(change_url(others), article_form_for(others, title="Mine now"))
    assert response.status_code == 403
    others.refresh_from_db()
    assert others.title != "Mine now"


def test_a_publisher_saves_live_changes_directly_or_as_a_draft(pat):
    article = ArticleFactory(title="One")
    pat.post(change_url(article), article_form_for(article, title="Two"))
    article.refresh_from_db()
    assert article.title == "Two"
    assert article.is_live()
    pat.post(change_url(article), article_form_for(article, title="Three", _savedraft="1"))
    article.refresh_from_db()
    assert article.title == "Two"
    assert revisions.pending_draft(article).data["title"] == "Three"


def test_scheduled_changes_go_live_with_the_tick(pat, client, django_capture_on_commit_callbacks):
    article = ArticleFactory(title="Before")
    pat.post(change_url(article), article_form_for(article, title="After", _savedraft="1"))
    draft = revisions.pending_draft(article)
    at = (timezone.localtime() + timedelta(hours=2)).replace(second=0, microsecond=0)
    pat.post(
        f"{ARTICLES}{article.pk}/revisions/{draft.pk}/schedule/",
        {"go_live_at": at.strftime("%Y-%m-%dT%H:%M")},
    )
    draft.refresh_from_db()
    assert draft.go_live_at == at
    with django_capture_on_commit_callbacks(execute=True):
        tick.scheduled_publishing_tick(now=at - timedelta(minutes=1))
    assert public_title(client, article) == "Before"
    with django_capture_on_commit_callbacks(execute=True):
        tick.scheduled_publishing_tick(now=at)
    assert public_title(client, article) == "After"
    draft.refresh_from_db()
    assert not draft.is_draft


def test_a_scheduled_draft_records_its_publish_lag(
    pat, monkeypatch, django_capture_on_commit_callbacks
):
    """Applied late by the tick, a scheduled draft's purge says how late (PUBLISH_LAG)."""
    from cms import metrics
    from cms.models import CdnPurge

    points = []
    monkeypatch.setattr(
        metrics, "put", lambda name, value, unit="Count": points.append((name, value, unit))
    )
    article = ArticleFactory(title="Before")
    pat.post(change_url(article), article_form_for(article, title="After", _savedraft="1"))
    draft = revisions.pending_draft(article)
    at = (timezone.now() - timedelta(minutes=3)).replace(microsecond=0)
    type(draft).objects.filter(pk=draft.pk).update(go_live_at=at, approved_by=draft.created_by)
    CdnPurge.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        tick.scheduled_publishing_tick(now=timezone.now())
    [purge] = CdnPurge.objects.all()
    assert purge.scheduled_for == [at.isoformat()]
    [(_name, lag, unit)] = [p for p in points if p[0] == metrics.PUBLISH_LAG]
    assert unit == "Seconds"
    assert 180 <= lag < 180 + 60


def test_a_scheduled_draft_that_no_longer_fits_does_not_block_the_tick(pat):
    taken = ArticleFactory(slug="taken")
    article = ArticleFactory(title="Keeps")
    bad = revisions.revision_create(
        item=article,
        user=pat.user,
        applied=False,
        data={**revisions.snapshot(article), "slug": taken.slug},
    )
    Revision.objects.filter(pk=bad.pk).update(go_live_at=timezone.now() - timedelta(minutes=1))
    outcome = tick.scheduled_publishing_tick()
    assert outcome.ran
    bad.refresh_from_db()
    assert bad.is_draft
    assert bad.go_live_at is None  # off the schedule, so it does not fail every minute
    article.refresh_from_db()
    assert article.title == "Keeps"


def test_compare_shows_each_changed_field_with_content_escaped(pat):
    tag = TagFactory(name="Cloud")
    article = ArticleFactory(title="Plain", summary="Same")
    first = revisions.revision_create(item=article, user=pat.user)
    second = revisions.revision_create(
        item=article,
        user=pat.user,
        data={**first.data, "title": "<script>alert(1)</script> Bold", "tags": [tag.pk]},
    )
    response = pat.get(
        f"{ARTICLES}{article.pk}/revisions/compare/", {"a": first.pk, "b": second.pk}
    )
    assert response.status_code == 200
    changed = [change.name for change in response.context["changes"]]
    assert changed == ["title", "tags"]
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "<ins>&lt;script&gt;alert(1)&lt;/script&gt; Bold</ins>" in html
    assert "<del>Plain</del>" in html
    assert "Cloud" in html


def test_revisions_of_another_item_cannot_be_compared(pat):
    a, b = ArticleFactory(), ArticleFactory()
    ra, rb = (
        revisions.revision_create(item=a, user=pat.user),
        revisions.revision_create(item=b, user=pat.user),
    )
    response = pat.get(f"{ARTICLES}{a.pk}/revisions/compare/", {"a": ra.pk, "b": rb.pk})
    assert response.status_code == 404


def test_restoring_an_old_revision(pat, eda):
    article = ArticleFactory(title="Version one", author=eda.user)
    first = revisions.revision_create(item=article, user=pat.user)
    pat.post(change_url(article), article_form_for(article, title="Version two"))
    # An Editor's restore of a live article waits for a publisher...
    eda.post(f"{ARTICLES}{article.pk}/revisions/{first.pk}/restore/")
    article.refresh_from_db()
    assert article.title == "Version two"
    assert revisions.pending_draft(article).data["title"] == "Version one"
    # ...a publisher's goes live at once.
    pat.post(f"{ARTICLES}{article.pk}/revisions/{first.pk}/restore/")
    article.refresh_from_db()
    assert article.title == "Version one"
    listing = pat.get(f"{ARTICLES}{article.pk}/revisions/")
    assert len(listing.context["revisions"]) == 4


def test_restore_asks_first_and_its_get_changes_nothing(pat):
    article = ArticleFactory(title="Version one")
    first = revisions.revision_create(item=article, user=pat.user)
    pat.post(change_url(article), article_form_for(article, title="Version two"))
    listing = pat.get(f"{ARTICLES}{article.pk}/revisions/").content.decode()
    confirm_url = f"{ARTICLES}{article.pk}/revisions/{first.pk}/restore/"
    assert f'href="{confirm_url}"' in listing  # the button leads to the question
    count = Revision.objects.count()
    response = pat.get(confirm_url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "These changes will go live now" in html
    assert response.context["live"] is True
    assert [c.name for c in response.context["changes"]] == ["title"]
    assert '<tr data-field="title">' in html
    assert 'method="post"' in html
    assert "csrfmiddlewaretoken" in html
    article.refresh_from_db()
    assert article.title == "Version two"
    assert Revision.objects.count() == count
    pat.post(confirm_url)
    article.refresh_from_db()
    assert article.title == "Version one"


def test_an_editors_restore_confirmation_says_it_stays_a_draft(pat, eda):
    article = ArticleFactory(title="Version one", author=eda.user)
    first = revisions.revision_create(item=article, user=pat.user)
    pat.post(change_url(article), article_form_for(article, title="Version two"))
    response = eda.get(f"{ARTICLES}{article.pk}/revisions/{first.pk}/restore/")
    assert response.status_code == 200
    assert response.context["applied"] is False
    html = response.content.decode()
    assert "kept as a draft for a publisher" in html
    assert "go live now" not in html


def test_restoring_into_an_unpublished_item_says_nothing_goes_live(pat):
    article = ArticleFactory(title="Version one", is_published=False)
    first = revisions.revision_create(item=article, user=pat.user)
    pat.post(change_url(article), article_form_for(article, title="Version two"))
    response = pat.get(f"{ARTICLES}{article.pk}/revisions/{first.pk}/restore/")
    assert (response.context["applied"], response.context["live"]) == (True, False)
    assert "nothing changes there" in response.content.decode()


def test_restoring_into_a_scheduled_item_says_when_it_goes_live(pat):
    go_live = (timezone.now() + timedelta(days=2)).replace(microsecond=0)
    article = ArticleFactory(title="Version one", publish_at=go_live)
    first = revisions.revision_create(item=article, user=pat.user)
    pat.post(change_url(article), article_form_for(article, title="Version two"))
    response = pat.get(f"{ARTICLES}{article.pk}/revisions/{first.pk}/restore/")
    assert response.context["goes_live_at"] == go_live
    html = response.content.decode()
    assert "will be live from its go-live time" in html
    assert timezone.localtime(go_live).strftime("%Y-%m-%d %H:%M") in html


def test_a_save_of_an_item_without_revisions_keeps_the_original_first(pat):
    article = ArticleFactory(title="The original")  # made without a revision
    assert not Revision.objects.for_item(article).exists()
    pat.post(change_url(article), article_form_for(article, title="Rewritten"))
    newest, original = Revision.objects.for_item(article)
    assert original.data["title"] == "The original"
    assert original.created_by is None
    assert not original.is_draft
    assert newest.data["title"] == "Rewritten"
    assert newest.changed_fields == ["title"]
    pat.post(f"{ARTICLES}{article.pk}/revisions/{original.pk}/restore/")
    article.refresh_from_db()
    assert article.title == "The original"
    # A later save needs nothing more kept first.
    pat.post(change_url(article), article_form_for(article, title="Third"))
    assert Revision.objects.for_item(article).filter(created_by=None).count() == 1


def test_a_draft_of_an_item_without_revisions_keeps_the_original_first(eda):
    article = ArticleFactory(title="The original", author=eda.user)  # live, no revision
    eda.post(change_url(article), article_form_for(article, title="Draft", _savedraft="1"))
    draft, original = Revision.objects.for_item(article)
    assert draft.is_draft
    assert draft.data["title"] == "Draft"
    assert not original.is_draft
    assert original.data["title"] == "The original"


@pytest.mark.parametrize(
    ("page", "last_crumb"),
    [("revisions/", "Revisions"), ("revisions/compare/", "Compare"), ("preview/", "Preview")],
)
def test_item_pages_lead_back_to_the_item_and_its_list(pat, page, last_crumb):
    article = ArticleFactory(title="Harbour news")
    first = revisions.revision_create(item=article, user=pat.user)
    second = revisions.revision_create(
        item=article, user=pat.user, data={**first.data, "title": "B"}
    )
    response = pat.get(f"{ARTICLES}{article.pk}/{page}", {"a": first.pk, "b": second.pk})
    assert response.status_code == 200
    crumbs = response.content.decode().split('class="breadcrumbs"')[1].split("</ol>")[0]
    assert 'href="/admin/"' in crumbs
    assert f'href="{ARTICLES}"' in crumbs
    assert f'href="{change_url(article)}">Harbour news</a>' in crumbs
    assert f'<li aria-current="page">{last_crumb}</li>' in crumbs
