"""No lost work in the admin: the editing session on change forms, the refused stale
save (the editor's input kept), "Save anyway", and the JSON endpoints' permissions."""

import json

import pytest
from django.test import Client

from sitecontent.models import Article, Autosave, Document, EditingPresence, Image, Page
from tests.admin_forms import article_form, article_form_for, page_form
from tests.factories import (
    ArticleFactory,
    DocumentFactory,
    ImageFactory,
    PageFactory,
    UserFactory,
    editor,
    publisher,
)

pytestmark = pytest.mark.django_db

ARTICLES = "/admin/sitecontent/article/"


def change_url(item):
    return f"/admin/sitecontent/{item._meta.model_name}/{item.pk}/change/"


def signed_in(user, **kwargs):
    client = Client(**kwargs)
    client.force_login(user)
    return client


def item_url(item, tail):
    return f"/admin/sitecontent/{item._meta.model_name}/{item.pk}/editing/{tail}/"


def base_from(response):
    return response.context["editing_session"]["base"]


@pytest.fixture
def two_publishers():
    return signed_in(publisher(display_name="Alice")), signed_in(publisher(display_name="Bob"))


class TestStaleSave:
    def test_the_second_save_is_refused_with_a_comparison_and_keeps_its_input(self, two_publishers):
        alice, bob = two_publishers
        article = ArticleFactory(is_published=False, title="Original title")
        alice_base = base_from(alice.get(change_url(article)))
        bob_base = base_from(bob.get(change_url(article)))

        saved = bob.post(
            change_url(article),
            article_form_for(article, title="Bob's title", _editing_base=bob_base, _continue="1"),
        )
        assert saved.status_code == 302
        refused = alice.post(
            change_url(article),
            article_form_for(
                article,
                title="Alice's title",
                body="<p>Alice wrote a long paragraph.</p>",
                _editing_base=alice_base,
                _continue="1",
            ),
        )

        assert refused.status_code == 200
        form = refused.context["adminform"].form
        assert [e.code for e in form.non_field_errors().as_data()] == ["stale"]
        assert "Bob saved changes to this item" in form.non_field_errors()[0]
        # Alice's input is what the form shows again; nothing of hers was saved.
        assert form["title"].value() == "Alice's title"
        assert "Alice wrote a long paragraph." in form["body"].value()
        assert Article.objects.get(pk=article.pk).title == "Bob's title"
        conflicts = refused.context["editing_session"]["stale"].conflicts
        assert [(c.name, c.theirs, c.yours) for c in conflicts] == [
            ("title", "Bob's title", "Alice's title"),
        ]  # Bob left the body alone: Alice's new paragraph contests nothing
        html = refused.content.decode()
        assert "Save anyway: overwrite their changes" in html
        assert 'data-conflict-field="title"' in html
        # The hidden version stays the one she opened: a plain "Save" is refused again.
        assert f'value="{alice_base}"' in html

    def test_save_anyway_resubmits_with_the_version_shown_and_the_button_first_pressed(
        self, two_publishers
    ):
        alice, bob = two_publishers
        article = ArticleFactory(is_published=False)
        alice_base = base_from(alice.get(change_url(article)))
        bob.post(change_url(article), article_form_for(article, title="Bob's"))
        refused = alice.post(
            change_url(article),
            article_form_for(article, title="Alice's", _editing_base=alice_base, _continue="1"),
        )
        overwrite = refused.context["editing_session"]["overwrite"]
        assert overwrite.startswith("_continue:")

        saved = alice.post(
            change_url(article),
            article_form_for(
                article, title="Alice's", _editing_base=alice_base, _overwrite=overwrite
            ),
        )

        assert saved.status_code == 302
        assert saved.url == change_url(article)  # "Save and continue editing", as pressed
        assert Article.objects.get(pk=article.pk).title == "Alice's"

    def test_an_editors_draft_of_a_live_article_meets_the_same_check(self):
        owner = editor(display_name="Erin")
        article = ArticleFactory(author=owner, title="Live")
        erin, pat = signed_in(owner), signed_in(publisher(display_name="Pat"))
        erin_base = base_from(erin.get(change_url(article)))
        pat_base = base_from(pat.get(change_url(article)))
        pat.post(
            change_url(article),
            article_form_for(article, title="Pat's draft", _editing_base=pat_base, _savedraft="1"),
        )

        refused = erin.post(
            change_url(article),
            article_form_for(article, title="Erin's draft", _editing_base=erin_base),
        )

        assert refused.status_code == 200
        assert refused.context["editing_session"]["stale"].conflicts[0].theirs == "Pat's draft"
        assert Article.objects.get(pk=article.pk).title == "Live"

    def test_images_refuse_a_stale_alt_text(self, two_publishers, settings):
        alice, bob = two_publishers
        image = ImageFactory(alt_text="Boats")
        alice_base = base_from(alice.get(change_url(image)))
        form = {"title": image.title, "caption": "", "credit": ""}
        assert bob.post(change_url(image), {**form, "alt_text": "Boats at dawn"}).status_code == 302

        refused = alice.post(
            change_url(image), {**form, "alt_text": "Ships", "_editing_base": alice_base}
        )

        assert refused.status_code == 200
        assert refused.context["adminform"].form["alt_text"].value() == "Ships"
        assert Image.objects.get(pk=image.pk).alt_text == "Boats at dawn"

    def test_the_comparison_escapes_what_either_side_wrote(self, two_publishers):
        alice, bob = two_publishers
        article = ArticleFactory(is_published=False)
        alice_base = base_from(alice.get(change_url(article)))
        bob.post(change_url(article), article_form_for(article, title="<script>bob()</script>"))
        refused = alice.post(
            change_url(article),
            article_form_for(
                article, title='<img src=x onerror="alice()">', _editing_base=alice_base
            ),
        )
        html = refused.content.decode()
        assert refused.status_code == 200
        assert "<script>bob()" not in html
        assert "<img src=x" not in html
        assert "&lt;script&gt;bob()&lt;/script&gt;" in html

    def test_pages_refuse_a_stale_save(self, two_publishers):
        alice, bob = two_publishers
        page = PageFactory(is_published=False, title="About us", slug="about")
        alice_base = base_from(alice.get(change_url(page)))
        form = page_form(title="About us", slug="about", body=page.body)
        bob.post(change_url(page), {**form, "body": "<p>Bob's text</p>"})

        refused = alice.post(
            change_url(page), {**form, "body": "<p>Alice's text</p>", "_editing_base": alice_base}
        )

        assert refused.status_code == 200
        assert [c.name for c in refused.context["editing_session"]["stale"].conflicts] == ["body"]
        assert Page.objects.get(pk=page.pk).body == "<p>Bob's text</p>"

    def test_documents_refuse_a_stale_title(self, two_publishers):
        alice, bob = two_publishers
        document = DocumentFactory(title="Annual report")
        alice_base = base_from(alice.get(change_url(document)))
        assert bob.post(change_url(document), {"title": "Annual report 2026"}).status_code == 302

        refused = alice.post(change_url(document), {"title": "Report", "_editing_base": alice_base})

        assert refused.status_code == 200
        assert refused.context["adminform"].form["title"].value() == "Report"
        assert Document.objects.get(pk=document.pk).title == "Annual report 2026"


class TestChangeForm:
    def test_the_form_carries_its_version_and_names_who_else_is_editing(self, two_publishers):
        alice, bob = two_publishers
        article = ArticleFactory()
        bob.get(change_url(article))
        html = alice.get(change_url(article)).content.decode()
        assert 'name="_editing_base"' in html
        assert 'form="article_form"' in html
        assert "Bob is also editing this." in html
        assert "js/editing.js" in html

    def test_an_autosave_is_offered_and_a_successful_save_clears_it(self):
        owner = editor()
        article = ArticleFactory(author=owner, is_published=False)
        client = signed_in(owner)
        base = base_from(client.get(change_url(article)))
        client.post(item_url(article, "autosave"), {"title": "Unsaved"})
        html = client.get(change_url(article)).content.decode()
        assert "Restore unsaved changes from" in html

        client.post(change_url(article), article_form_for(article, _editing_base=base))

        assert not Autosave.objects.exists()

    def test_a_successful_add_clears_the_add_forms_autosave(self):
        owner = editor()
        client = signed_in(owner)
        client.post(f"{ARTICLES}add/editing/autosave/", {"title": "Half written"})
        assert "Restore unsaved changes" in client.get(f"{ARTICLES}add/").content.decode()
        response = client.post(f"{ARTICLES}add/", article_form(author=owner.pk))
        assert response.status_code == 302
        assert not Autosave.objects.exists()


def heartbeat(client, item, **payload):
    return client.post(
        item_url(item, "heartbeat"),
        json.dumps(payload),
        content_type="application/json",
    )


class TestHeartbeat:
    def test_it_lists_the_others_and_says_when_the_item_changed(self, two_publishers):
        alice, bob = two_publishers
        article = ArticleFactory(is_published=False)
        base = base_from(alice.get(change_url(article)))
        heartbeat(bob, article)
        Article.objects.filter(pk=article.pk).update(title="Changed meanwhile")

        data = heartbeat(alice, article, base=base).json()

        assert [o["name"] for o in data["others"]] == ["Bob"]
        assert data["changed"]["by"]
        assert data["interval"] == 15

    def test_leaving_by_beacon_removes_the_presence(self, two_publishers):
        alice, _bob = two_publishers
        article = ArticleFactory()
        heartbeat(alice, article)
        response = alice.post(item_url(article, "heartbeat"), {"leave": "1"})
        assert response.json() == {"left": True}
        assert not EditingPresence.objects.exists()

    def test_errors_are_json_with_their_status(self):
        article = ArticleFactory(author=editor())
        someone_else = signed_in(editor())
        refused = heartbeat(someone_else, article)
        assert refused.status_code == 403
        assert "owner" in refused.json()["error"]

        owner = signed_in(article.author)
        assert owner.get(item_url(article, "heartbeat")).status_code == 405
        missing = heartbeat(owner, Article(pk=999999))
        assert (missing.status_code, "error" in missing.json()) == (404, True)
        bad = owner.post(item_url(article, "heartbeat"), "{nope", content_type="application/json")
        assert bad.status_code == 400

        signed_out = heartbeat(Client(), article)
        assert signed_out.status_code == 401
        assert "signed out" in signed_out.json()["error"]
        assert not EditingPresence.objects.exists()

    def test_a_post_without_the_csrf_token_is_refused_in_json(self):
        owner = editor()
        article = ArticleFactory(author=owner)
        client = signed_in(owner, enforce_csrf_checks=True)
        response = heartbeat(client, article)
        assert response.status_code == 403
        assert "CSRF" in response.json()["error"]
        assert not EditingPresence.objects.exists()


class TestAutosaveEndpoint:
    def url(self, item):
        return item_url(item, "autosave")

    def test_it_keeps_the_fields_and_gives_them_back_sanitized(self):
        owner = editor()
        article = ArticleFactory(author=owner, is_published=False)
        client = signed_in(owner)
        response = client.post(
            self.url(article),
            {
                "title": "Draft",
                "body": "<p>Kept<img src=x onerror=alert(1)></p>",
                "_editing_base": "title=abcdefabcdef",
                "csrfmiddlewaretoken": "ignored",
            },
        )
        assert response.status_code == 200
        assert "saved_at" in response.json()
        restored = client.get(self.url(article)).json()
        assert restored["fields"]["title"] == ["Draft"]
        assert "onerror" not in restored["fields"]["body"][0]
        assert restored["base"] == "title=abcdefabcdef"
        assert Article.objects.get(pk=article.pk).title != "Draft"

    def test_discarding_removes_it(self):
        owner = editor()
        article = ArticleFactory(author=owner)
        client = signed_in(owner)
        client.post(self.url(article), {"title": "Draft"})
        assert client.post(self.url(article), {"_discard": "1"}).json() == {"discarded": True}
        assert client.get(self.url(article)).status_code == 404

    def test_too_large_an_autosave_is_refused_with_413(self):
        owner = editor()
        article = ArticleFactory(author=owner)
        response = signed_in(owner).post(self.url(article), {"body": "x" * (1024 * 1024 + 1)})
        assert response.status_code == 413
        assert not Autosave.objects.exists()

    def test_only_who_may_change_or_add_may_autosave(self):
        article = ArticleFactory(author=editor())
        assert signed_in(editor()).post(self.url(article), {"title": "x"}).status_code == 403
        no_role = signed_in(UserFactory())
        assert no_role.post(f"{ARTICLES}add/editing/autosave/", {"title": "x"}).status_code == 403
        assert not Autosave.objects.exists()


def test_a_heartbeat_costs_a_fixed_handful_of_queries(django_assert_num_queries):
    # The session, the user with their permissions (one query: cms.auth), the item, one upsert and
    # one read of who is there, and the version check: the item's draft, its tags and
    # its attachments. (No content version: the admin's responses set no public
    # Cache-Control.)
    alice = signed_in(publisher())
    article = ArticleFactory(is_published=False)
    base = base_from(alice.get(change_url(article)))
    heartbeat(alice, article, base=base)
    with django_assert_num_queries(8):
        assert heartbeat(alice, article, base=base).status_code == 200
