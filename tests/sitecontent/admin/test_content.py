from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from sitecontent import roles
from sitecontent.models import Article, Image, Page, Status
from tests.admin_forms import article_form, page_form, split
from tests.factories import (
    ArticleFactory,
    CategoryFactory,
    DocumentFactory,
    ImageFactory,
    PageFactory,
    UserFactory,
    png_bytes,
)

pytestmark = pytest.mark.django_db

ARTICLES = "/admin/sitecontent/article/"
PAGES = "/admin/sitecontent/page/"


def run_action(client, action, items, **extra):
    return client.post(
        ARTICLES, {"action": action, "_selected_action": [i.pk for i in items], **extra}
    )


class TestRoles:
    def test_migration_creates_both_groups_with_their_permissions(self):
        editors = set(
            Group.objects.get(name=roles.EDITORS).permissions.values_list("codename", flat=True)
        )
        publishers = set(
            Group.objects.get(name=roles.PUBLISHERS).permissions.values_list("codename", flat=True)
        )
        assert {"add_article", "change_article", "add_image"} <= editors
        assert not {"publish_article", "publish_page", "delete_article"} & editors
        assert {"publish_article", "publish_page", "delete_article"} <= publishers
        assert editors < publishers

    def test_migrations_leave_the_groups_exactly_as_roles_py_says(self):
        for name, entries in roles.ROLE_PERMISSIONS.items():
            wanted = {e if "." in e else f"sitecontent.{e}" for e in entries}
            held = {
                f"{app}.{codename}"
                for app, codename in Group.objects.get(name=name).permissions.values_list(
                    "content_type__app_label", "codename"
                )
            }
            assert held == wanted, name

    def test_anonymous_visitor_is_sent_to_login(self, client):
        response = client.get(ARTICLES)
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/")


class TestEditor:
    def test_creates_a_draft_even_when_posting_publication_fields(self, editor_client):
        day, time = split(timezone.now() - timedelta(hours=1))
        response = editor_client.post(
            f"{ARTICLES}add/",
            article_form(
                author=editor_client.user.pk, is_published="on", publish_at_0=day, publish_at_1=time
            ),
        )
        assert response.status_code == 302
        article = Article.objects.get(slug="fresh-piece")
        assert article.status == Status.DRAFT
        assert article.publish_at is None

    def test_form_has_no_publication_inputs(self, editor_client):
        html = editor_client.get(f"{ARTICLES}add/").content.decode()
        assert 'name="title"' in html
        assert 'name="is_published"' not in html
        assert 'name="publish_at_0"' not in html

    def test_edits_a_draft(self, editor_client):
        draft = ArticleFactory(is_published=False, publish_at=None, author=editor_client.user)
        response = editor_client.post(
            f"{ARTICLES}{draft.pk}/change/",
            article_form(title="Renamed", slug=draft.slug, author=editor_client.user.pk),
        )
        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.title == "Renamed"
        assert draft.status == Status.DRAFT

    @pytest.mark.parametrize(
        "when", [timedelta(days=-1), timedelta(days=1)], ids=["live", "scheduled"]
    )
    def test_cannot_change_live_or_scheduled_items_even_by_posting(self, editor_client, when):
        article = ArticleFactory(title="Approved", publish_at=timezone.now() + when)
        change_url = f"{ARTICLES}{article.pk}/change/"
        page = editor_client.get(change_url).content.decode()
        assert 'name="_save"' not in page  # read-only view
        response = editor_client.post(
            change_url,
            article_form(title="Hijacked", slug=article.slug, author=editor_client.user.pk),
        )
        assert response.status_code == 403
        article.refresh_from_db()
        assert article.title == "Approved"

    def test_does_not_see_publishing_actions(self, editor_client):
        ArticleFactory()
        html = editor_client.get(ARTICLES).content.decode()
        for action in ("publish_now", "schedule", "unpublish"):
            assert f'value="{action}"' not in html

    @pytest.mark.parametrize("action", ["publish_now", "schedule", "unpublish"])
    def test_forged_publishing_action_changes_nothing(self, editor_client, action):
        draft = ArticleFactory(is_published=False, publish_at=None)
        live = ArticleFactory()
        future = (timezone.now() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        run_action(editor_client, action, [draft, live], apply="1", publish_at=future)
        draft.refresh_from_db()
        live.refresh_from_db()
        assert draft.status == Status.DRAFT
        assert live.status == Status.PUBLISHED

    def test_cannot_delete(self, editor_client):
        article = ArticleFactory(is_published=False, publish_at=None)
        response = editor_client.post(f"{ARTICLES}{article.pk}/delete/", {"post": "yes"})
        assert response.status_code == 403
        assert Article.objects.filter(pk=article.pk).exists()


class TestPublisher:
    def test_publish_now_makes_a_draft_live(self, publisher_client):
        draft = ArticleFactory(is_published=False, publish_at=None)
        response = run_action(publisher_client, "publish_now", [draft])
        assert response.status_code == 302
        draft.refresh_from_db()
        assert draft.status == Status.PUBLISHED

    def test_unpublish_takes_an_article_down(self, publisher_client):
        live = ArticleFactory()
        run_action(publisher_client, "unpublish", [live])
        live.refresh_from_db()
        assert live.status == Status.DRAFT

    def test_schedule_asks_for_a_time_then_schedules(self, publisher_client):
        drafts = ArticleFactory.create_batch(2, is_published=False, publish_at=None)
        form = run_action(publisher_client, "schedule", drafts)
        assert form.status_code == 200
        assert 'type="datetime-local"' in form.content.decode()
        go_live = (timezone.localtime() + timedelta(days=2)).replace(second=0, microsecond=0)
        done = run_action(
            publisher_client,
            "schedule",
            drafts,
            apply="1",
            publish_at=go_live.strftime("%Y-%m-%dT%H:%M"),
        )
        assert done.status_code == 302
        for draft in drafts:
            draft.refresh_from_db()
            assert draft.status == Status.SCHEDULED
            assert draft.publish_at == go_live

    def test_schedule_refuses_a_time_in_the_past(self, publisher_client):
        draft = ArticleFactory(is_published=False, publish_at=None)
        past = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
        response = run_action(publisher_client, "schedule", [draft], apply="1", publish_at=past)
        assert response.status_code == 200
        assert "Choose a time in the future." in response.content.decode()
        draft.refresh_from_db()
        assert draft.status == Status.DRAFT

    def test_schedule_reports_items_it_cannot_schedule_and_keeps_them(self, publisher_client):
        soon = timezone.now() + timedelta(hours=1)
        clash = ArticleFactory(
            title="Clash", is_published=False, publish_at=None, unpublish_at=soon
        )
        fine = ArticleFactory(is_published=False, publish_at=None)
        later = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        response = run_action(
            publisher_client, "schedule", [clash, fine], apply="1", publish_at=later
        )
        messages = [str(m) for m in response.wsgi_request._messages]
        assert any("Clash" in m and "expiry time" in m for m in messages)
        clash.refresh_from_db()
        fine.refresh_from_db()
        assert clash.status == Status.DRAFT
        assert fine.status == Status.SCHEDULED

    def test_publishes_through_the_form_with_now_as_default_time(self, publisher_client):
        response = publisher_client.post(
            f"{ARTICLES}add/",
            article_form(author=publisher_client.user.pk, is_published="on"),
        )
        assert response.status_code == 302
        assert Article.objects.get(slug="fresh-piece").status == Status.PUBLISHED

    def test_duplicate_slug_is_a_form_error(self, publisher_client):
        ArticleFactory(slug="fresh-piece")
        response = publisher_client.post(
            f"{ARTICLES}add/", article_form(author=publisher_client.user.pk)
        )
        assert response.status_code == 200
        assert "slug" in response.context["adminform"].form.errors
        assert Article.objects.filter(slug="fresh-piece").count() == 1

    def test_expiry_before_go_live_is_an_error_on_the_field(self, publisher_client):
        start = timezone.now() + timedelta(days=2)
        p0, p1 = split(start)
        u0, u1 = split(start - timedelta(days=1))
        response = publisher_client.post(
            f"{ARTICLES}add/",
            article_form(
                author=publisher_client.user.pk,
                is_published="on",
                publish_at_0=p0,
                publish_at_1=p1,
                unpublish_at_0=u0,
                unpublish_at_1=u1,
            ),
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert "after the go-live time" in errors["unpublish_at"][0]
        assert not Article.objects.exists()

    def test_changelist_shows_status_with_zone_and_filters_by_it(self, publisher_client):
        when = timezone.now() + timedelta(days=1)
        scheduled = ArticleFactory(title="Later on", publish_at=when)
        ArticleFactory(title="Right now")
        html = publisher_client.get(ARTICLES).content.decode()
        assert f"Scheduled for {timezone.localtime(when):%Y-%m-%d %H:%M} UTC" in html
        response = publisher_client.get(ARTICLES, {"status": "scheduled"})
        assert list(response.context["cl"].result_list) == [scheduled]

    def test_changelist_search(self, publisher_client):
        ArticleFactory(title="Needle in a haystack")
        ArticleFactory(title="Other")
        response = publisher_client.get(ARTICLES, {"q": "needle"})
        assert [a.title for a in response.context["cl"].result_list] == ["Needle in a haystack"]

    def test_changelist_drills_down_by_publication_date(self, publisher_client):
        old = ArticleFactory(publish_at=timezone.now().replace(year=2024))
        ArticleFactory()
        response = publisher_client.get(ARTICLES, {"publish_at__year": "2024"})
        assert list(response.context["cl"].result_list) == [old]

    def test_slug_is_prefilled_from_title(self, publisher_client):
        html = publisher_client.get(f"{ARTICLES}add/").content.decode()
        assert "&quot;#id_slug&quot;" in html
        assert "&quot;#id_title&quot;" in html


class TestPageAdmin:
    def test_duplicate_root_slug_is_a_form_error(self, publisher_client):
        PageFactory(slug="about")
        response = publisher_client.post(f"{PAGES}add/", page_form())
        assert response.status_code == 200
        assert "slug" in response.context["adminform"].form.errors
        assert Page.objects.count() == 1

    def test_reserved_slug_is_a_form_error(self, publisher_client):
        response = publisher_client.post(f"{PAGES}add/", page_form(slug="articles"))
        assert response.status_code == 200
        assert "used by another part" in str(response.context["adminform"].form.errors["slug"])

    def test_editor_cannot_publish_a_page_by_posting(self, editor_client):
        response = editor_client.post(f"{PAGES}add/", page_form(is_published="on"))
        assert response.status_code == 302
        assert Page.objects.get(slug="about").status == Status.DRAFT


class TestImageAdmin:
    def test_upload_records_dimensions_and_uploader(self, editor_client):
        upload = SimpleUploadedFile("pic.png", png_bytes((120, 80)), content_type="image/png")
        response = editor_client.post(
            "/admin/sitecontent/image/add/",
            {"title": "Pic", "alt_text": "A picture", "file": upload},
        )
        assert response.status_code == 302
        image = Image.objects.get()
        assert (image.width, image.height) == (120, 80)
        assert image.uploaded_by == editor_client.user

    def test_file_that_is_not_an_image_is_refused(self, editor_client):
        fake = SimpleUploadedFile("pic.png", b"<html>not an image</html>", content_type="image/png")
        response = editor_client.post(
            "/admin/sitecontent/image/add/", {"title": "Pic", "alt_text": "x", "file": fake}
        )
        assert response.status_code == 200
        assert "file" in response.context["adminform"].form.errors
        assert not Image.objects.exists()

    def test_editing_texts_does_not_read_the_stored_file(self, editor_client, monkeypatch):
        """Stored files were checked, and measured, when they arrived; on S3 reading
        one again would be a GET of the original for every alt-text edit."""
        image = ImageFactory(uploaded_by=editor_client.user)
        size = (image.width, image.height)
        storage = Image._meta.get_field("file").storage
        opened, real_open = [], storage.open

        def counting_open(name, *args, **kwargs):
            opened.append(name)
            return real_open(name, *args, **kwargs)

        monkeypatch.setattr(storage, "open", counting_open)
        response = editor_client.post(
            f"/admin/sitecontent/image/{image.pk}/change/",
            {"title": "Renamed", "alt_text": "Better words", "caption": "", "credit": ""},
        )
        assert response.status_code == 302
        image = Image.objects.get(pk=image.pk)
        assert (image.title, image.alt_text) == ("Renamed", "Better words")
        assert (image.width, image.height) == size
        assert opened == []

    def test_a_replacement_file_is_measured(self, editor_client):
        image = ImageFactory(uploaded_by=editor_client.user)
        upload = SimpleUploadedFile("wide.png", png_bytes((300, 40)), content_type="image/png")
        response = editor_client.post(
            f"/admin/sitecontent/image/{image.pk}/change/",
            {"title": "T", "alt_text": "A", "caption": "", "credit": "", "file": upload},
        )
        assert response.status_code == 302
        image.refresh_from_db()
        assert (image.width, image.height) == (300, 40)

    def test_a_document_title_can_be_edited(self, editor_client):
        document = DocumentFactory(uploaded_by=editor_client.user)
        response = editor_client.post(
            f"/admin/sitecontent/document/{document.pk}/change/", {"title": "Annual report"}
        )
        assert response.status_code == 302
        document.refresh_from_db()
        assert document.title == "Annual report"

    def test_a_replacement_file_is_still_checked(self, editor_client):
        image = ImageFactory(uploaded_by=editor_client.user)
        name = image.file.name
        fake = SimpleUploadedFile("new.png", b"<svg onload=alert(1)>", content_type="image/png")
        response = editor_client.post(
            f"/admin/sitecontent/image/{image.pk}/change/",
            {"title": "T", "alt_text": "A", "caption": "", "credit": "", "file": fake},
        )
        assert response.status_code == 200
        assert "file" in response.context["adminform"].form.errors
        image.refresh_from_db()
        assert image.file.name == name

    def test_alt_text_is_required(self, editor_client):
        upload = SimpleUploadedFile("pic.png", png_bytes(), content_type="image/png")
        response = editor_client.post(
            "/admin/sitecontent/image/add/", {"title": "Pic", "alt_text": "", "file": upload}
        )
        assert "alt_text" in response.context["adminform"].form.errors


def test_author_choices_are_staff_only(publisher_client):
    UserFactory(username="visitor-account", is_staff=False)
    form = publisher_client.get(f"{ARTICLES}add/").context["adminform"].form
    assert "visitor-account" not in [u.username for u in form.fields["author"].queryset]
    assert form.initial["author"] == publisher_client.user.pk


def test_category_changelist_counts_articles(publisher_client):
    category = CategoryFactory(name="News")
    ArticleFactory.create_batch(2, category=category)
    response = publisher_client.get("/admin/sitecontent/category/")
    assert response.context["cl"].result_list[0].article_count == 2


class TestOwnProfile:
    def test_editor_updates_own_byline_but_cannot_raise_own_privileges(self, editor_client):
        me = editor_client.user
        url = f"/admin/sitecontent/user/{me.pk}/change/"
        assert "My profile" in editor_client.get("/admin/").content.decode()
        response = editor_client.post(
            url,
            {
                "first_name": "Eda",
                "last_name": "W",
                "email": "eda@example.com",
                "display_name": "Eda W.",
                "bio": "Writes guides.",
                "is_superuser": "on",
                "groups": [Group.objects.get(name=roles.PUBLISHERS).pk],
                "username": "root",
            },
        )
        assert response.status_code == 302
        me.refresh_from_db()
        assert (me.display_name, me.bio) == ("Eda W.", "Writes guides.")
        assert not me.is_superuser
        assert me.username != "root"
        assert list(me.groups.values_list("name", flat=True)) == [roles.EDITORS]

    def test_editor_cannot_open_anyone_elses_account(self, editor_client):
        other = UserFactory()
        assert editor_client.get(f"/admin/sitecontent/user/{other.pk}/change/").status_code == 403
        response = editor_client.post(
            f"/admin/sitecontent/user/{other.pk}/change/", {"display_name": "Hacked"}
        )
        assert response.status_code == 403
        other.refresh_from_db()
        assert other.display_name != "Hacked"
        assert editor_client.get("/admin/sitecontent/user/").status_code == 403


def test_own_profile_page_is_titled_and_links_nowhere_forbidden(editor_client):
    me = editor_client.user
    url = f"/admin/sitecontent/user/{me.pk}/change/"
    page = editor_client.get(url)
    html = page.content.decode()
    assert page.context["title"] == "My profile"
    assert "/admin/sitecontent/user/" not in html.split('class="breadcrumbs"')[1].split("</ol>")[0]
    saved = editor_client.post(
        url,
        {
            "first_name": "",
            "last_name": "",
            "email": "e@example.com",
            "display_name": "Eda",
            "bio": "",
        },
    )
    assert saved.status_code == 302
    assert saved.url == url
    assert "Your profile was saved." in editor_client.get(url).content.decode()
