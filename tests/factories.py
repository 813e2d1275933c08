"""Test data, in one place. Articles and pages default to live since a day ago."""

import io
from datetime import timedelta

import factory
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image as PILImage

from sitecontent import roles
from sitecontent.models import Article, Category, Document, Image, Page, Tag, User
from tests.media_corpus import valid_pdf


def png_bytes(size=(64, 48), color="#0b5cad") -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", size, color).save(out, "PNG")
    return out.getvalue()


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.django.Password("pw")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))


def editor(**kwargs):
    return UserFactory(role=roles.EDITORS, **kwargs)


def publisher(**kwargs):
    return UserFactory(role=roles.PUBLISHERS, **kwargs)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag

    name = factory.Sequence(lambda n: f"Tag {n}")
    slug = factory.Sequence(lambda n: f"tag-{n}")


class ImageFactory(factory.django.DjangoModelFactory):
    """An image whose renditions exist, as they do once the upload task has run
    (``with_renditions=False`` for one still waiting)."""

    class Meta:
        model = Image
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Image {n}")
    alt_text = "A blue rectangle"
    file = factory.LazyFunction(lambda: ContentFile(png_bytes(), name="picture.png"))

    @factory.post_generation
    def with_renditions(self, create, extracted, **kwargs):
        if create and extracted is not False:
            from sitecontent.media.rendering import image_renditions_create

            image_renditions_create(image_id=self.pk)
            self.refresh_from_db()


def _live_since_yesterday():
    return timezone.now() - timedelta(days=1)


class ArticleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Article
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Article {n}")
    slug = factory.Sequence(lambda n: f"article-{n}")
    summary = "A short summary."
    body = "<p>Body text.</p>"
    author = factory.SubFactory(UserFactory)
    category = factory.SubFactory(CategoryFactory)
    is_published = True
    publish_at = factory.LazyFunction(_live_since_yesterday)

    @factory.post_generation
    def tags(self, create, extracted, **kwargs):
        if create and extracted:
            self.tags.set(extracted)


class PageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Page

    title = factory.Sequence(lambda n: f"Page {n}")
    slug = factory.Sequence(lambda n: f"page-{n}")
    body = "<p>Page text.</p>"
    is_published = True
    publish_at = factory.LazyFunction(_live_since_yesterday)


class DocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Document

    title = factory.Sequence(lambda n: f"Document {n}")
    file = factory.LazyFunction(lambda: ContentFile(valid_pdf(), name="report.pdf"))
    content_type = "application/pdf"
    size = factory.LazyAttribute(lambda d: d.file.size)
