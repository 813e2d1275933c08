"""Each publishing rule in one home, met by the services themselves (not only the admin):
who may delete, where a save goes (draft or direct), and that go-live times are future."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sitecontent.admin.forms import ScheduleChangesForm, ScheduleForm
from sitecontent.models import Article, Page, Status
from sitecontent.publishing import revisions, services
from sitecontent.publishing.validators import FUTURE_MESSAGE, validate_future
from tests.factories import ArticleFactory, PageFactory, UserFactory, editor, publisher

pytestmark = pytest.mark.django_db


# -- deleting -------------------------------------------------------------------------


def test_an_editor_cannot_delete_a_live_article_through_the_service():
    someone = editor()
    article = ArticleFactory(author=someone)
    with pytest.raises(PermissionDenied):
        services.content_delete(item=article, user=someone)
    assert Article.objects.filter(pk=article.pk).exists()


def test_an_editor_cannot_delete_even_their_own_draft_page():
    someone = editor()
    page = PageFactory(owner=someone, is_published=False, publish_at=None)
    with pytest.raises(PermissionDenied):
        services.content_delete(item=page, user=someone)
    assert Page.objects.filter(pk=page.pk).exists()


def test_a_delete_permission_without_publishing_cannot_delete_a_live_item():
    from django.contrib.auth.models import Permission

    deleter = UserFactory()
    deleter.user_permissions.add(Permission.objects.get(codename="delete_article"))
    deleter = type(deleter).objects.get(pk=deleter.pk)  # fresh permission cache
    live = ArticleFactory()
    draft = ArticleFactory(is_published=False, publish_at=None)
    with pytest.raises(PermissionDenied):
        services.content_delete(item=live, user=deleter)
    services.content_delete(item=draft, user=deleter)
    assert list(Article.objects.all()) == [live]


def test_a_publisher_deletes_live_articles_and_pages():
    article, page = ArticleFactory(), PageFactory()
    services.content_delete(item=article, user=publisher())
    services.content_delete(item=page, user=publisher())
    assert not Article.objects.exists()
    assert not Page.objects.exists()


def test_the_admins_bulk_delete_goes_through_the_rule(publisher_client):
    articles = ArticleFactory.create_batch(2)
    response = publisher_client.post(
        "/admin/sitecontent/article/",
        {
            "action": "delete_selected",
            "_selected_action": [a.pk for a in articles],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    assert not Article.objects.exists()


def test_an_editors_forged_delete_post_leaves_the_live_article(editor_client):
    article = ArticleFactory(author=editor_client.user)
    response = editor_client.post(
        f"/admin/sitecontent/article/{article.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 403
    assert Article.objects.filter(pk=article.pk).exists()


# -- draft or direct: saves_as_draft -------------------------------------------------


def test_a_new_item_is_always_saved_directly():
    assert not revisions.saves_as_draft(user=editor(), item=Article())


def test_an_editors_save_of_an_unpublished_item_is_direct():
    someone = editor()
    article = ArticleFactory(author=someone, is_published=False, publish_at=None)
    assert not revisions.saves_as_draft(user=someone, item=article)


@pytest.mark.parametrize(
    "times",
    [
        {},
        {"publish_at": timezone.now() + timedelta(days=1)},
        {
            "publish_at": timezone.now() - timedelta(days=2),
            "unpublish_at": timezone.now() - timedelta(days=1),
        },
    ],
    ids=["live", "scheduled", "expired"],
)
def test_an_editors_save_of_a_published_item_becomes_a_draft(times):
    someone = editor()
    article = ArticleFactory(author=someone, **times)
    assert revisions.saves_as_draft(user=someone, item=article)


def test_a_publisher_saves_directly_unless_asking_for_a_draft():
    article = ArticleFactory()
    assert not revisions.saves_as_draft(user=publisher(), item=article)
    assert revisions.saves_as_draft(user=publisher(), item=article, draft_requested=True)


def test_whether_an_item_is_published_is_read_from_the_database():
    """A form may have cleared the flag in memory; the stored row decides."""
    someone = editor()
    article = ArticleFactory(author=someone)
    article.is_published = False
    assert revisions.saves_as_draft(user=someone, item=article)


def test_the_direct_save_service_refuses_an_editors_change_to_a_live_item():
    someone = editor()
    article = ArticleFactory(author=someone, title="Live")
    article.title = "Sneaked in"
    with pytest.raises(PermissionDenied):
        services.content_save(item=article, user=someone)
    article.refresh_from_db()
    assert article.title == "Live"


def test_the_direct_save_service_refuses_an_editor_approving_an_item():
    someone = editor()
    article = ArticleFactory.build(author=someone, category=None, is_published=True)
    with pytest.raises(PermissionDenied):
        services.content_save(item=article, user=someone)
    assert not Article.objects.exists()


def test_the_direct_save_service_refuses_someone_elses_item():
    article = ArticleFactory(author=editor(), is_published=False, publish_at=None)
    article.title = "Not yours"
    with pytest.raises(PermissionDenied):
        services.content_save(item=article, user=editor())


def test_the_direct_save_service_keeps_an_applied_revision():
    someone = editor()
    article = ArticleFactory(author=someone, is_published=False, publish_at=None)
    article.title = "Changed"
    revision = services.content_save(item=article, user=someone)
    assert not revision.is_draft
    assert revision.data["title"] == "Changed"
    assert Article.objects.get().title == "Changed"


# -- the future-time check: one rule, one wording ------------------------------------


def test_a_past_time_gets_the_same_words_from_every_form_and_service():
    past = timezone.now() - timedelta(minutes=1)
    stamp = timezone.localtime(past).strftime("%Y-%m-%dT%H:%M")
    messages = set()
    for form in (ScheduleForm({"publish_at": stamp}), ScheduleChangesForm({"go_live_at": stamp})):
        assert not form.is_valid()
        messages.update(m for errors in form.errors.values() for m in errors)
    article = ArticleFactory(is_published=False, publish_at=None)
    with pytest.raises(ValidationError) as schedule_error:
        services.content_schedule(item=article, user=publisher(), publish_at=past)
    messages.update(schedule_error.value.message_dict["publish_at"])
    live = ArticleFactory()
    draft = revisions.revision_create(item=live, user=None, applied=False)
    with pytest.raises(ValidationError) as revision_error:
        revisions.revision_schedule(revision=draft, user=publisher(), at=past)
    messages.update(revision_error.value.message_dict["go_live_at"])
    assert messages == {str(FUTURE_MESSAGE)} == {"Choose a time in the future."}
    article.refresh_from_db()
    assert article.status == Status.DRAFT


def test_now_is_not_in_the_future():
    with pytest.raises(ValidationError):
        validate_future(timezone.now())
    validate_future(timezone.now() + timedelta(seconds=5))


@pytest.mark.parametrize("method", ["delete_model", "delete_queryset"])
def test_the_admins_delete_methods_meet_the_rule_however_they_are_reached(rf, method):
    """Django's delete view asks has_delete_permission first; delete_model and
    delete_queryset ask again, through the service."""
    from django.contrib import admin

    someone = editor()
    article = ArticleFactory(author=someone)
    request = rf.post("/")
    request.user = someone
    model_admin = admin.site._registry[Article]
    target = article if method == "delete_model" else Article.objects.filter(pk=article.pk)
    with pytest.raises(PermissionDenied):
        getattr(model_admin, method)(request, target)
    assert Article.objects.filter(pk=article.pk).exists()


def test_only_publishers_may_set_publication_fields_through_the_service():
    someone = editor()
    article = ArticleFactory(author=someone, is_published=False, publish_at=None)
    with pytest.raises(PermissionDenied):
        services.content_publication_update(
            item=article, user=someone, changes={"is_published": True}
        )
    article.refresh_from_db()
    assert article.status == Status.DRAFT
    services.content_publication_update(
        item=article, user=publisher(), changes={"is_published": True}
    )
    article.refresh_from_db()
    assert article.status == Status.PUBLISHED
