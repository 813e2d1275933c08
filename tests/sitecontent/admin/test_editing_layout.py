"""The editing screen's layout (publishable_change_form.html): the publication fields and
the save buttons are in the sidebar, outside the item's <form> element, and still the
form's own through their form attribute; the draft banner's forms are not nested in it."""

import re

import pytest

from tests.admin_forms import article_form_for
from tests.factories import ArticleFactory, PageFactory, UserFactory, editor


def sidebar_of(html: str) -> str:
    return html[html.index('<aside class="editing-sidebar"') : html.index("</aside>")]


def main_form_of(html: str, model: str) -> str:
    start = html.index(f'id="{model}_form"')
    return html[start : html.index("</form>", start)]


@pytest.mark.django_db
@pytest.mark.parametrize(("factory", "model"), [(ArticleFactory, "article"), (PageFactory, "page")])
def test_publication_fields_and_buttons_belong_to_the_form_from_the_sidebar(client, factory, model):
    client.force_login(UserFactory(is_superuser=True))
    item = factory()
    html = client.get(f"/admin/sitecontent/{model}/{item.pk}/change/").content.decode()
    sidebar = sidebar_of(html)
    for name in ("is_published", "publish_at_0", "publish_at_1", "unpublish_at_0"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', sidebar)
        assert tag, name
        assert f'form="{model}_form"' in tag.group(0), name
    for name in ("_save", "_savedraft", "_continue"):
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', sidebar)
        assert tag, name
        assert f'form="{model}_form"' in tag.group(0), name
    assert "deletelink" in sidebar
    form = main_form_of(html, model)
    assert 'name="title"' in form
    assert 'name="publish_at_0"' not in form
    assert 'name="_save"' not in form


@pytest.mark.django_db
def test_a_save_from_the_sidebar_posts_the_sidebar_fields(client):
    # What a browser posts for the form attribute: the same names as before.
    client.force_login(UserFactory(is_superuser=True))
    article = ArticleFactory()
    data = article_form_for(article, title="Moved", _continue="1")
    response = client.post(f"/admin/sitecontent/article/{article.pk}/change/", data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title == "Moved"


@pytest.mark.django_db
def test_the_draft_banner_is_in_the_sidebar_with_its_own_forms(client):
    eda = editor(username="eda")
    article = ArticleFactory(author=eda)
    client.force_login(eda)
    data = article_form_for(article, title="Draft title", _savedraft="1")
    client.post(f"/admin/sitecontent/article/{article.pk}/change/", data)
    client.force_login(UserFactory(is_superuser=True))
    html = client.get(f"/admin/sitecontent/article/{article.pk}/change/").content.decode()
    sidebar = sidebar_of(html)
    assert 'class="draft-banner module"' in sidebar
    # The draft's own forms (publish now, schedule), beside the review panel's.
    actions = re.findall(r'<form [^>]*action="[^"]*/revisions/\d+/(publish|schedule)/"', sidebar)
    assert actions == ["publish", "schedule"]
    assert "Draft title" in main_form_of(html, "article")


@pytest.mark.django_db
def test_an_editor_on_a_live_item_gets_only_save_draft(client):
    eda = editor(username="eda")
    article = ArticleFactory(author=eda)
    client.force_login(eda)
    sidebar = sidebar_of(
        client.get(f"/admin/sitecontent/article/{article.pk}/change/").content.decode()
    )
    assert 'name="_savedraft"' in sidebar
    assert 'name="_save"' not in sidebar
