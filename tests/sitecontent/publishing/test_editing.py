"""No lost work, the services: versions, stale saves, presence, autosaves."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from sitecontent.models import Article, Autosave, EditingPresence, Image, Revision
from sitecontent.publishing import editing
from sitecontent.publishing.revisions import revision_create, snapshot
from tests.factories import ArticleFactory, ImageFactory, TagFactory, editor, publisher

pytestmark = pytest.mark.django_db

FIELDS = ["title", "slug", "summary", "body", "category", "tags", "is_published"]


def base_of(item, names=FIELDS):
    return editing.fingerprint(editing.editable_state(type(item), item.pk), names)


def submitted(item, **changes):
    """What a valid form's cleaned_data holds for ``item``, with ``changes``."""
    data = {
        "title": item.title,
        "slug": item.slug,
        "summary": item.summary,
        "body": item.body,
        "category": item.category,
        "tags": list(item.tags.all()),
        "is_published": item.is_published,
    }
    return {**data, **changes}


class TestStaleSave:
    def test_a_save_based_on_the_current_version_passes(self):
        article = ArticleFactory(is_published=False)
        editing.edit_check(
            model=Article, pk=article.pk, base=base_of(article), submitted=submitted(article)
        )

    def test_a_save_that_would_undo_someone_elses_change_is_refused_field_by_field(self):
        article = ArticleFactory(is_published=False, title="Original", body="<p>one two</p>")
        base = base_of(article)
        them = publisher()
        Article.objects.filter(pk=article.pk).update(title="Their title")
        revision_create(item=Article.objects.get(pk=article.pk), user=them)

        with pytest.raises(editing.StaleEdit) as refused:
            editing.edit_check(
                model=Article,
                pk=article.pk,
                base=base,
                submitted=submitted(article, title="My title"),
            )

        stale = refused.value
        assert [(c.name, c.theirs, c.yours) for c in stale.conflicts] == [
            ("title", "Their title", "My title")
        ]
        assert "<del>Their</del>" in stale.conflicts[0].diff
        assert "<ins>My</ins>" in stale.conflicts[0].diff
        assert stale.by == (them.display_name or them.username)
        assert stale.code == "stale"
        # The new base it offers for "Save anyway" is the version now stored.
        editing.edit_check(
            model=Article,
            pk=article.pk,
            base=stale.base,
            submitted=submitted(article, title="My title"),
        )

    def test_leaving_their_changed_field_as_it_was_would_undo_it_so_is_refused(self):
        article = ArticleFactory(is_published=False, summary="Old summary")
        base = base_of(article)
        Article.objects.filter(pk=article.pk).update(summary="Their summary")
        with pytest.raises(editing.StaleEdit) as refused:
            editing.edit_check(
                model=Article, pk=article.pk, base=base, submitted=submitted(article)
            )
        assert [c.name for c in refused.value.conflicts] == ["summary"]

    def test_changes_to_different_fields_or_agreeing_with_them_pass(self):
        article = ArticleFactory(is_published=False, summary="Old", body="<p>Old</p>")
        base = base_of(article)
        Article.objects.filter(pk=article.pk).update(summary="Theirs")
        editing.edit_check(
            model=Article,
            pk=article.pk,
            base=base,
            # The editor changed the body and, having seen it, kept their summary.
            submitted=submitted(article, summary="Theirs", body="<p>Mine</p>"),
        )

    def test_changed_tags_and_rich_text_markup_are_compared_as_stored(self):
        article = ArticleFactory(is_published=False, body="<p>Text</p>")
        tag = TagFactory(name="Harbour")
        base = base_of(article)
        article.tags.add(tag)
        with pytest.raises(editing.StaleEdit) as refused:
            # Same body with markup the sanitizer drops: not a conflict; the tag is.
            editing.edit_check(
                model=Article,
                pk=article.pk,
                base=base,
                submitted=submitted(article, body='<p onclick="x()">Text</p>', tags=[]),
            )
        assert [(c.name, c.theirs, c.yours) for c in refused.value.conflicts] == [
            ("tags", "Harbour", "—")
        ]

    def test_an_editors_draft_based_on_an_outdated_draft_is_refused(self):
        owner = editor()
        article = ArticleFactory(author=owner, title="Live title")  # live: drafts
        revision_create(
            item=article,
            user=publisher(),
            data={**snapshot(article), "title": "Draft 1"},
            applied=False,
        )
        base = base_of(article)  # the form shows draft 1
        revision_create(
            item=article,
            user=publisher(),
            data={**snapshot(article), "title": "Draft 2"},
            applied=False,
        )
        with pytest.raises(editing.StaleEdit) as refused:
            editing.edit_check(
                model=Article,
                pk=article.pk,
                base=base,
                submitted=submitted(article, title="Draft 1, edited"),
            )
        assert refused.value.conflicts[0].theirs == "Draft 2"
        assert Article.objects.get(pk=article.pk).title == "Live title"

    def test_a_time_the_form_shows_to_the_second_is_the_same_time(self):
        article = ArticleFactory(is_published=True)
        names = ["publish_at"]
        base = base_of(article, names)
        moved = article.publish_at + timedelta(hours=1, microseconds=1234)
        Article.objects.filter(pk=article.pk).update(publish_at=moved)
        # They moved the go-live time; the editor's form (seconds only) agrees with them.
        editing.edit_check(
            model=Article,
            pk=article.pk,
            base=base,
            submitted={"publish_at": moved.replace(microsecond=0)},
        )
        with pytest.raises(editing.StaleEdit):
            editing.edit_check(
                model=Article,
                pk=article.pk,
                base=base,
                submitted={"publish_at": article.publish_at},
            )

    def test_images_are_versioned_by_their_fields_too(self):
        image = ImageFactory(alt_text="Boats")
        names = ["title", "alt_text", "caption", "credit", "file"]
        base = base_of(image, names)
        Image.objects.filter(pk=image.pk).update(alt_text="Boats at dawn")
        data = {n: getattr(image, n) for n in names}
        with pytest.raises(editing.StaleEdit) as refused:
            editing.edit_check(
                model=Image, pk=image.pk, base=base, submitted={**data, "alt_text": "Ships"}
            )
        assert [(c.name, c.theirs, c.yours) for c in refused.value.conflicts] == [
            ("alt_text", "Boats at dawn", "Ships")
        ]

    def test_an_unreadable_base_is_a_validation_error_and_none_is_not_checked(self):
        article = ArticleFactory(is_published=False)
        with pytest.raises(ValidationError) as bad:
            editing.edit_check(
                model=Article, pk=article.pk, base="password=zz", submitted=submitted(article)
            )
        assert bad.value.code == "bad_base"
        Article.objects.filter(pk=article.pk).update(title="Changed")
        editing.edit_check(model=Article, pk=article.pk, base="", submitted=submitted(article))


class TestPresence:
    def test_each_sees_the_others_seen_lately_and_writes_stay_one_row(
        self, django_assert_num_queries
    ):
        alice, bob, carol = publisher(), publisher(), publisher()
        article = ArticleFactory()
        editing.presence_touch(user=bob, item=article)
        editing.presence_touch(user=carol, item=article)
        EditingPresence.objects.filter(user=carol).update(
            last_seen=timezone.now() - editing.PRESENCE_WINDOW - timedelta(seconds=1)
        )
        editing.presence_touch(user=alice, item=article)
        with django_assert_num_queries(2):  # one upsert, one read
            others = editing.presence_touch(user=alice, item=article)
        assert [o["id"] for o in others] == [bob.pk]
        assert EditingPresence.objects.filter(user=alice).count() == 1

    def test_leaving_removes_the_row(self):
        alice, bob = publisher(), publisher()
        article = ArticleFactory()
        editing.presence_touch(user=alice, item=article)
        editing.presence_leave(user=alice, item=article)
        assert editing.presence_touch(user=bob, item=article) == []

    def test_someone_who_may_not_change_the_item_is_refused(self):
        article = ArticleFactory(author=editor())
        with pytest.raises(PermissionDenied):
            editing.presence_touch(user=editor(), item=article)
        assert not EditingPresence.objects.exists()


class TestAutosave:
    def test_an_autosave_touches_nothing_of_the_item_and_stays_one_row(self):
        owner = editor()
        article = ArticleFactory(author=owner, is_published=False, title="Stored")
        before = Article.objects.get(pk=article.pk).updated_at
        for title in ("First", "Second"):
            editing.autosave_store(
                user=owner, model=Article, item=article, data={"title": [title]}, base="x"
            )
        stored = Article.objects.get(pk=article.pk)
        assert (stored.title, stored.updated_at) == ("Stored", before)
        assert Revision.objects.for_item(article).count() == 0
        assert Autosave.objects.get().data == {"title": ["Second"]}

    def test_new_items_are_autosaved_per_person_and_model(self):
        alice, bob = editor(), editor()
        editing.autosave_store(user=alice, model=Article, data={"title": ["A"]})
        editing.autosave_store(user=bob, model=Article, data={"title": ["B"]})
        editing.autosave_store(user=alice, model=Article, data={"title": ["A2"]})
        assert editing.autosave_find(user=alice, model=Article).data == {"title": ["A2"]}
        assert Autosave.objects.count() == 2

    def test_only_those_who_may_change_or_add_may_autosave(self):
        article = ArticleFactory(author=editor())
        with pytest.raises(PermissionDenied):
            editing.autosave_store(user=editor(), model=Article, item=article, data={})
        nobody = editor()
        nobody.groups.clear()
        with pytest.raises(PermissionDenied):
            editing.autosave_store(user=nobody, model=Article, data={})
        assert not Autosave.objects.exists()

    def test_buttons_and_the_token_are_not_kept(self):
        owner = editor()
        editing.autosave_store(
            user=owner,
            model=Article,
            data={"title": ["T"], "csrfmiddlewaretoken": ["s"], "_save": ["Save"]},
        )
        assert Autosave.objects.get().data == {"title": ["T"]}

    def test_restoring_gives_sanitized_text_and_labels_for_related_ids(self):
        owner = editor()
        article = ArticleFactory(author=owner, is_published=False)
        tag = TagFactory(name="Harbour")
        editing.autosave_store(
            user=owner,
            model=Article,
            item=article,
            data={
                "body": ['<p onclick="steal()">Hi<script>alert(1)</script></p>'],
                "title": ["Tab\x0bbed"],
                "tags": [str(tag.pk)],
            },
            base="title=abcdefabcdef",
        )
        restored = editing.autosave_restorable(user=owner, model=Article, item=article)
        assert restored["fields"]["body"] == ["<p>Hi</p>"]
        assert restored["fields"]["title"] == ["Tabbed"]
        assert restored["labels"]["tags"] == {str(tag.pk): "Harbour"}
        assert restored["base"] == "title=abcdefabcdef"

    def test_clearing_removes_only_that_persons_autosave(self):
        alice, bob = publisher(), publisher()
        article = ArticleFactory()
        for user in (alice, bob):
            editing.autosave_store(user=user, model=Article, item=article, data={})
        editing.autosave_clear(user=alice, model=Article, item=article)
        assert list(Autosave.objects.values_list("user", flat=True)) == [bob.pk]


class TestPruning:
    def test_the_tick_prunes_presence_and_autosaves_nobody_will_come_back_for(self):
        from sitecontent.publishing.tick import scheduled_publishing_tick

        alice, bob = publisher(), publisher()
        article, other = ArticleFactory(), ArticleFactory()
        editing.presence_touch(user=alice, item=article)
        editing.presence_touch(user=bob, item=article)
        editing.autosave_store(user=alice, model=Article, item=article, data={"title": ["A"]})
        editing.autosave_store(user=bob, model=Article, item=other, data={"title": ["B"]})
        now = timezone.now()
        EditingPresence.objects.filter(user=alice).update(
            last_seen=now - editing.PRESENCE_KEPT - timedelta(minutes=1)
        )
        Autosave.objects.filter(user=alice).update(
            saved_at=now - editing.AUTOSAVES_KEPT - timedelta(minutes=1)
        )

        outcome = scheduled_publishing_tick(now=now)

        assert outcome.editing_rows_pruned == 2
        assert list(EditingPresence.objects.values_list("user", flat=True)) == [bob.pk]
        assert list(Autosave.objects.values_list("user", flat=True)) == [bob.pk]
        assert scheduled_publishing_tick(now=now + timedelta(minutes=1)).editing_rows_pruned == 0
