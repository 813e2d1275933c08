"""The admin's home page: each coming change links to its item's change form (the
addresses come from the upcoming_changes tag, not from names built in the template)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ArticleFactory, PageFactory

pytestmark = pytest.mark.django_db


def test_each_coming_change_links_to_its_items_change_form(publisher_client):
    now = timezone.now()
    article = ArticleFactory(title="Launch post", publish_at=now + timedelta(days=2))
    page = PageFactory(title="Sale page", publish_at=now + timedelta(days=3))
    html = publisher_client.get("/admin/").content.decode()
    module = html.split('id="upcoming"', 1)[1].split("</div>", 1)[0]
    assert f'<a href="/admin/sitecontent/article/{article.pk}/change/">Launch post</a>' in module
    assert f'<a href="/admin/sitecontent/page/{page.pk}/change/">Sale page</a>' in module
    assert (
        publisher_client.get(f"/admin/sitecontent/article/{article.pk}/change/").status_code == 200
    )
