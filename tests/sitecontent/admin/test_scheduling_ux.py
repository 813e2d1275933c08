"""What editors see about time: the week ahead on the admin home, and warnings when a
time they set is already past."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sitecontent.publishing import revisions
from tests.admin_forms import article_form, split
from tests.factories import ArticleFactory, PageFactory, publisher

pytestmark = pytest.mark.django_db


@pytest.fixture
def pat():
    browser = Client()
    browser.user = publisher()
    browser.force_login(browser.user)
    return browser


def test_admin_home_lists_the_next_weeks_go_lives_expiries_and_scheduled_changes(pat):
    now = timezone.now()
    ArticleFactory(title="Launch post", publish_at=now + timedelta(days=2))
    PageFactory(
        title="Sale page", publish_at=now - timedelta(days=1), unpublish_at=now + timedelta(days=3)
    )
    ArticleFactory(title="Far future", publish_at=now + timedelta(days=30))
    live = ArticleFactory(title="Live one")
    draft = revisions.revision_create(
        item=live, user=pat.user, applied=False, data=revisions.snapshot(live)
    )
    draft.go_live_at = now + timedelta(days=1)
    draft.save()
    html = pat.get("/admin/").content.decode()
    module = html.split('id="upcoming"', 1)[1].split("</div>", 1)[0]
    assert module.index("Live one") < module.index("Launch post") < module.index("Sale page")
    assert "changes go live" in module
    assert "goes live" in module
    assert "expires" in module
    assert "Far future" not in module


def test_a_go_live_time_in_the_past_is_saved_with_a_warning(pat):
    day, time = split(timezone.now() - timedelta(days=2))
    response = pat.post(
        "/admin/sitecontent/article/add/",
        article_form(author=pat.user.pk, is_published="on", publish_at_0=day, publish_at_1=time),
        follow=True,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert any("is in the past: this is live now" in m and "UTC" in m for m in messages)


def test_an_expiry_in_the_past_warns_that_the_item_is_hidden(pat):
    start = timezone.now() - timedelta(days=3)
    p0, p1 = split(start)
    u0, u1 = split(start + timedelta(days=1))
    response = pat.post(
        "/admin/sitecontent/article/add/",
        article_form(
            author=pat.user.pk,
            is_published="on",
            publish_at_0=p0,
            publish_at_1=p1,
            unpublish_at_0=u0,
            unpublish_at_1=u1,
        ),
        follow=True,
    )
    assert any("this is not visible" in str(m) for m in response.context["messages"])
