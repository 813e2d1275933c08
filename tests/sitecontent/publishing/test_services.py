from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sitecontent.models import Status
from sitecontent.publishing import services
from tests.factories import ArticleFactory, PageFactory, UserFactory, editor, publisher

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("service", "extra"),
    [
        (services.content_publish, {}),
        (services.content_unpublish, {}),
        (services.content_schedule, {"publish_at": timezone.now() + timedelta(days=1)}),
    ],
)
@pytest.mark.parametrize("make_user", [editor, UserFactory], ids=["editor", "staff"])
def test_only_publishers_may_change_publication(service, extra, make_user):
    article = ArticleFactory(is_published=False, publish_at=None)
    with pytest.raises(PermissionDenied):
        service(item=article, user=make_user(), **extra)
    article.refresh_from_db()
    assert article.status == Status.DRAFT


def test_publish_now_cancels_a_future_schedule():
    article = ArticleFactory(publish_at=timezone.now() + timedelta(days=3))
    services.content_publish(item=article, user=publisher())
    assert article.status == Status.PUBLISHED


def test_publish_now_revives_an_expired_item():
    page = PageFactory(
        publish_at=timezone.now() - timedelta(days=3),
        unpublish_at=timezone.now() - timedelta(days=1),
    )
    services.content_publish(item=page, user=publisher())
    page.refresh_from_db()
    assert page.status == Status.PUBLISHED
    assert page.unpublish_at is None


def test_schedule_refuses_the_past():
    article = ArticleFactory(is_published=False, publish_at=None)
    with pytest.raises(ValidationError):
        services.content_schedule(
            item=article, user=publisher(), publish_at=timezone.now() - timedelta(minutes=1)
        )


def test_unpublish_keeps_content_and_times():
    article = ArticleFactory(title="Keep me")
    publish_at = article.publish_at
    services.content_unpublish(item=article, user=publisher())
    article.refresh_from_db()
    assert (article.status, article.title, article.publish_at) == (
        Status.DRAFT,
        "Keep me",
        publish_at,
    )


def test_superuser_may_publish_pages():
    page = PageFactory(is_published=False, publish_at=None)
    services.content_publish(item=page, user=UserFactory(is_superuser=True))
    assert page.status == Status.PUBLISHED
