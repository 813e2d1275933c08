"""Media services: a document's stored type and size come from one rule, and images
still without renditions are asked for them again by the minute tick (pages only read)."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from cms.models import TaskRun
from sitecontent.media import services
from sitecontent.models import Document, Image
from tests.factories import DocumentFactory, ImageFactory
from tests.media_corpus import valid_pdf

pytestmark = pytest.mark.django_db

RENDITION_TASK = "sitecontent.tasks.image_create_renditions"


def rendition_requests(callbacks) -> list[int]:
    """The image ids of the rendition tasks among on-commit callbacks."""
    return [c.keywords["image_id"] for c in callbacks if "image_id" in getattr(c, "keywords", {})]


class TestDocumentDescribe:
    @pytest.mark.parametrize(
        ("name", "content_type"),
        [
            ("documents/x/Report.PDF", "application/pdf"),
            ("documents/x/notes.txt", "text/plain"),
            ("documents/x/sheet.ods", "application/vnd.oasis.opendocument.spreadsheet"),
            ("documents/x/archive.zip", ""),  # not a kind documents may be
        ],
    )  # fmt: skip
    def test_type_comes_from_the_checked_extension_and_size_from_the_bytes(
        self, name, content_type
    ):
        document = Document(title="T", file=name)
        services.document_describe(document, size=1234)
        assert (document.content_type, document.size) == (content_type, 1234)

    def test_the_admin_form_stores_what_the_rule_says(self, publisher_client):
        document = DocumentFactory(content_type="wrong", size=1)
        data = valid_pdf()
        response = publisher_client.post(
            f"/admin/sitecontent/document/{document.pk}/change/",
            {"title": "New", "file": ContentFile(data, name="new.pdf")},
        )
        assert response.status_code == 302
        document.refresh_from_db()
        assert (document.content_type, document.size) == ("application/pdf", len(data))


class TestRetryStale:
    def test_a_new_image_is_asked_for_at_once_and_again_if_that_was_lost(
        self, django_capture_on_commit_callbacks
    ):
        now = timezone.now()
        with django_capture_on_commit_callbacks() as enqueued:
            image = ImageFactory(with_renditions=False)
        assert rendition_requests(enqueued) == [image.pk]  # asked at upload; the task is lost
        assert Image.objects.get(pk=image.pk).renditions_requested_at >= now
        assert services.image_renditions_retry_stale(now=now + timedelta(minutes=1)) == []
        late = now + services.REQUEST_AGAIN_AFTER + timedelta(minutes=1)
        with django_capture_on_commit_callbacks(execute=True):
            assert services.image_renditions_retry_stale(now=late) == [image.pk]
        assert TaskRun.objects.filter(task_path=RENDITION_TASK).count() == 1
        image.refresh_from_db()
        assert image.renditions
        assert image.renditions_requested_at is None  # made: nothing left to ask for

    def test_only_images_without_renditions_asked_long_ago_or_never_are_asked(
        self, django_capture_on_commit_callbacks
    ):
        now = timezone.now()
        made = ImageFactory()  # renditions made
        never = ImageFactory(with_renditions=False)
        old = ImageFactory(with_renditions=False)
        recent = ImageFactory(with_renditions=False)
        Image.objects.filter(pk=never.pk).update(renditions_requested_at=None)
        Image.objects.filter(pk=old.pk).update(renditions_requested_at=now - timedelta(hours=1))
        Image.objects.filter(pk=recent.pk).update(renditions_requested_at=now)
        Image.objects.filter(pk=made.pk).update(renditions_requested_at=now - timedelta(hours=1))
        with django_capture_on_commit_callbacks() as enqueued:
            asked = services.image_renditions_retry_stale(now=now)
        assert sorted(asked) == sorted([never.pk, old.pk])
        assert sorted(rendition_requests(enqueued)) == sorted(asked)  # after commit, one each
        stamped = dict(Image.objects.values_list("pk", "renditions_requested_at"))
        assert stamped[never.pk] == stamped[old.pk] == now
        # Run twice in the same minute: nothing is asked twice.
        assert services.image_renditions_retry_stale(now=now) == []

    def test_a_tick_asks_for_a_bounded_batch(self, monkeypatch):
        monkeypatch.setattr(services, "RETRY_BATCH", 2)
        for _ in range(3):
            ImageFactory(with_renditions=False)
        Image.objects.update(renditions_requested_at=None)
        now = timezone.now()
        assert len(services.image_renditions_retry_stale(now=now)) == 2
        assert len(services.image_renditions_retry_stale(now=now)) == 1


class TestMediaDelete:
    """Deleting media meets roles.can_delete in the service, so a forged admin POST, a
    command or a task cannot remove an image that live pages show."""

    def test_a_delete_permission_without_publishing_cannot_delete_an_image_live_pages_show(
        self, django_capture_on_commit_callbacks
    ):
        from django.contrib.auth.models import Permission
        from django.core.exceptions import PermissionDenied

        from tests.factories import ArticleFactory, UserFactory

        deleter = UserFactory()
        deleter.user_permissions.add(Permission.objects.get(codename="delete_image"))
        deleter = type(deleter).objects.get(pk=deleter.pk)  # fresh permission cache
        shown, unused = ImageFactory(), ImageFactory()
        ArticleFactory(hero_image=shown)
        with pytest.raises(PermissionDenied):
            services.media_delete(item=shown, user=deleter)
        with django_capture_on_commit_callbacks(execute=True):
            services.media_delete(item=unused, user=deleter)
        assert list(Image.objects.all()) == [shown]

    def test_a_publisher_deletes_a_shown_document_and_an_editor_none(self):
        from django.core.exceptions import PermissionDenied

        from tests.factories import ArticleFactory, editor, publisher

        document = DocumentFactory(uploaded_by=editor())
        ArticleFactory().attachments.add(document)
        with pytest.raises(PermissionDenied):
            services.media_delete(item=document, user=document.uploaded_by)
        services.media_delete(item=document, user=publisher())
        assert not Document.objects.exists()

    def test_the_admins_bulk_delete_of_images_goes_through_the_rule(self, client):
        from django.contrib.auth.models import Permission

        from tests.factories import ArticleFactory, UserFactory

        staff = UserFactory(is_staff=True)
        staff.user_permissions.add(
            *Permission.objects.filter(codename__in=["view_image", "delete_image"])
        )
        shown, unused = ImageFactory(), ImageFactory()
        ArticleFactory(hero_image=shown)
        client.force_login(staff)
        client.post(
            "/admin/sitecontent/image/",
            {"action": "delete_selected", "_selected_action": [shown.pk, unused.pk], "post": "yes"},
        )
        # The admin asks the same rule per row (has_delete_permission delegates to
        # roles.can_delete) and the delete itself goes through media_delete: the shown
        # image stays whichever check meets it first.
        assert Image.objects.filter(pk=shown.pk).exists()
