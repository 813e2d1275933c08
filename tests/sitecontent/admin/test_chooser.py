"""The image chooser (sitecontent.admin.chooser): the list the dialog fetches (HTML
fragment or JSON), who may read it, search and pages; the hero-image field that uses it;
and the rich text editor's configuration that points at it. No popup parameters."""

import json

import pytest

from tests.factories import ArticleFactory, ImageFactory, UserFactory

pytestmark = pytest.mark.django_db

CHOOSER = "/admin/sitecontent/image/chooser/"


class TestList:
    def test_json_lists_what_the_page_needs_newest_first(self, editor_client):
        older = ImageFactory(title="Harbour", alt_text="Boats at dawn", caption="The quay")
        newer = ImageFactory(title="Market")
        body = editor_client.get(CHOOSER, {"format": "json"}).json()
        assert [r["id"] for r in body["results"]] == [newer.pk, older.pk]
        harbour = body["results"][1]
        assert harbour["title"] == "Harbour"
        assert harbour["alt"] == "Boats at dawn"
        assert harbour["caption"] == "The quay"
        assert f"{older.folder}/" in harbour["url"]
        assert f"{older.folder}/" in harbour["thumb"]
        assert (body["page"], body["num_pages"], body["count"]) == (1, 1, 2)

    def test_the_fragment_is_the_dialogs_content_not_a_page(self, editor_client):
        image = ImageFactory(title="Harbour <b>", alt_text='Say "cheese"')
        response = editor_client.get(CHOOSER)
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html
        assert "<script" not in html
        assert "data-chooser-content" in html
        assert f'data-id="{image.pk}"' in html
        assert "Harbour &lt;b&gt;" in html  # escaped: it is put in the page as HTML
        assert 'data-alt="Say &quot;cheese&quot;"' in html
        assert '<label for="chooser-q">' in html
        assert "CKEditorFuncNum" not in html

    def test_search_matches_titles_and_alt_text(self, editor_client):
        ImageFactory(title="Harbour", alt_text="Boats")
        ImageFactory(title="Market", alt_text="Stalls by the harbour wall")
        ImageFactory(title="Council", alt_text="A meeting")
        titles = {
            r["title"]
            for r in editor_client.get(CHOOSER, {"format": "json", "q": "harbour"}).json()[
                "results"
            ]
        }
        assert titles == {"Harbour", "Market"}
        empty = editor_client.get(CHOOSER, {"q": "nothing like it"}).content.decode()
        assert "No images match." in empty

    def test_pages_of_24(self, editor_client):
        for _ in range(25):
            ImageFactory(with_renditions=False)
        first = editor_client.get(CHOOSER, {"format": "json"}).json()
        second = editor_client.get(CHOOSER, {"format": "json", "page": 2}).json()
        assert (len(first["results"]), len(second["results"]), first["num_pages"]) == (24, 1, 2)
        assert "data-chooser-link>Next</a>" in editor_client.get(CHOOSER).content.decode()

    def test_one_image_by_id_for_the_upload_just_made(self, editor_client):
        ImageFactory()
        chosen = ImageFactory()
        body = editor_client.get(CHOOSER, {"format": "json", "id": chosen.pk}).json()
        assert [r["id"] for r in body["results"]] == [chosen.pk]

    def test_editors_may_upload_from_the_chooser(self, editor_client):
        html = editor_client.get(CHOOSER).content.decode()
        assert 'data-chooser-upload data-sign-url="/admin/sitecontent/upload/sign/"' in html
        assert 'name="csrfmiddlewaretoken"' in html

    def test_queries_do_not_grow_with_the_images_listed(self, editor_client):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        def count():
            with CaptureQueriesContext(connection) as queries:
                editor_client.get(CHOOSER, {"format": "json"})
            return len(queries)

        ImageFactory(with_renditions=False)
        count()  # the first request also loads what the session and caches keep
        one = count()
        for _ in range(9):
            ImageFactory(with_renditions=False)
        assert count() == one


class TestPermissions:
    def test_anonymous_is_sent_to_sign_in(self, client):
        assert client.get(CHOOSER).status_code == 302

    def test_staff_who_may_not_see_images_are_refused_in_both_forms(self, client):
        client.force_login(UserFactory())
        assert client.get(CHOOSER).status_code == 403
        refused = client.get(CHOOSER, {"format": "json"})
        assert refused.status_code == 403
        assert refused.json()["error"]

    def test_viewers_who_may_not_add_get_no_upload_form(self, client):
        from django.contrib.auth.models import Permission

        user = UserFactory()
        user.user_permissions.add(Permission.objects.get(codename="view_image"))
        client.force_login(user)
        ImageFactory()
        html = client.get(CHOOSER).content.decode()
        assert "image-choice" in html
        assert "data-chooser-upload" not in html


class TestHeroField:
    def test_the_hero_image_is_the_chooser_not_a_select_with_popups(self, editor_client):
        html = editor_client.get("/admin/sitecontent/article/add/").content.decode()
        assert 'data-image-chooser data-chooser-url="/admin/sitecontent/image/chooser/"' in html
        assert 'type="hidden" name="hero_image"' in html
        assert 'id="add_id_hero_image"' not in html  # no "+" popup
        assert "js/image-chooser.js" in html
        assert "css/media-chooser.css" in html

    def test_a_chosen_hero_shows_its_thumbnail_and_title(self, editor_client):
        image = ImageFactory(title="Harbour")
        article = ArticleFactory(hero_image=image, author=editor_client.user, is_published=False)
        html = editor_client.get(
            f"/admin/sitecontent/article/{article.pk}/change/"
        ).content.decode()
        assert f'name="hero_image" value="{image.pk}"' in html
        assert f"{image.folder}/" in html
        assert ">Harbour</span>" in html
        assert "Change image" in html

    def test_the_field_still_validates_the_id(self, editor_client):
        from django.contrib.admin import site
        from django.test import RequestFactory

        from sitecontent.admin.content import ArticleAdmin
        from sitecontent.models import Article

        request = RequestFactory().get("/")
        request.user = editor_client.user
        admin = ArticleAdmin(Article, site)
        field = admin.formfield_for_dbfield(Article._meta.get_field("hero_image"), request)
        image = ImageFactory()
        assert field.clean(str(image.pk)) == image
        with pytest.raises(Exception, match="valid choice"):
            field.clean("999999")


def test_the_rich_text_editor_inserts_images_through_the_chooser_module(editor_client):
    html = editor_client.get("/admin/sitecontent/article/add/").content.decode()
    start = html.index("data-django-prose-editor-configurable=") + len(
        "data-django-prose-editor-configurable="
    )
    quote = html[start]
    from html import unescape

    config = json.loads(unescape(html[start + 1 : html.index(quote, start + 1)]))
    assert config["extensions"]["ImageChooser"] == {"chooserUrl": CHOOSER}
    assert "pickerUrl" not in json.dumps(config["extensions"]["Figure"])
    assert any(m.endswith("js/prose-image-chooser.js") for m in config["js_modules"])
