"""Migration 0015_audit: existing articles and pages without a revision get one of their
content as stored, applied, dated when they were last saved; others are left alone."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps
from django.utils import timezone

from sitecontent.models import Article, Revision
from sitecontent.publishing import revisions
from tests.factories import ArticleFactory, PageFactory, TagFactory, publisher

pytestmark = pytest.mark.django_db

migration = importlib.import_module("sitecontent.migrations.0015_audit")


def as_frozen(item):
    """What revisions.snapshot gives, over the fields the migration froze."""
    data = revisions.normalized(type(item), revisions.snapshot(item))
    return {name: data[name] for name in migration.REVISION_FIELDS[item._meta.model_name]}


def test_items_without_revisions_get_their_stored_content_as_the_first():
    tags = TagFactory.create_batch(2)
    article = ArticleFactory(title="Old story", tags=tags)
    page = PageFactory(title="Old page")
    kept = ArticleFactory(title="Has history")
    existing = revisions.revision_create(item=kept, user=None)
    last_saved = timezone.now() - timedelta(days=30)
    Article.objects.filter(pk=article.pk).update(updated_at=last_saved)

    migration.add_first_revisions(apps, None)

    (first,) = Revision.objects.for_item(article)
    assert first.data == as_frozen(article)
    assert first.data["tags"] == sorted(t.pk for t in tags)
    assert not first.is_draft
    assert first.created_by is None
    assert first.created_at == last_saved
    assert Revision.objects.for_item(page).get().data == as_frozen(page)
    assert list(Revision.objects.for_item(kept)) == [existing]
    # Run again: nothing more.
    migration.add_first_revisions(apps, None)
    assert Revision.objects.count() == 3


def test_the_migrated_original_can_be_restored():
    pat = publisher(username="pat")
    article = ArticleFactory(title="Before revisions")
    migration.add_first_revisions(apps, None)
    Article.objects.filter(pk=article.pk).update(title="Changed by a script")
    article.refresh_from_db()
    revisions.revision_restore(revision=Revision.objects.for_item(article).get(), user=pat)
    article.refresh_from_db()
    assert article.title == "Before revisions"
