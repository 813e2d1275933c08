"""The dashboard's reads (one query each): the review lists and the week's schedule
return what the per-list, per-model queries they replaced returned."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from sitecontent.models import Revision
from sitecontent.publishing import review, revisions, selectors
from tests.factories import ArticleFactory, PageFactory, editor, publisher

pytestmark = pytest.mark.django_db


def submit(author, title):
    item = ArticleFactory(title=title, author=author, is_published=False, publish_at=None)
    revisions.revision_create(item=item, user=author)
    return review.review_submit(item=item, user=author, message=title)


def test_review_lists_keep_their_order_limits_and_owners():
    eda, other, pat = editor(), editor(), publisher()
    mine = [submit(eda, f"Mine {n}") for n in range(4)]
    theirs = [submit(other, f"Theirs {n}") for n in range(3)]
    lists = review.dashboard_reviews(user=pat, awaiting=5, mine=2)
    assert lists["awaiting"] == (mine + theirs)[:5]  # oldest first, capped
    assert lists["mine"] == []  # the publisher submitted nothing
    lists = review.dashboard_reviews(user=eda, awaiting=5, mine=2)
    assert lists["awaiting"] == []  # an editor decides on nothing
    assert lists["mine"] == [mine[3], mine[2]]  # latest first, capped
    assert [str(r.item) for r in lists["mine"]] == ["Mine 3", "Mine 2"]
    # A publisher's own pending submission is in both lists.
    own = submit(pat, "Both")
    lists = review.dashboard_reviews(user=pat, awaiting=25, mine=10)
    assert own in lists["awaiting"]
    assert lists["mine"] == [own]


def test_review_lists_leave_out_deleted_items_and_cost_one_query():
    eda, pat = editor(), publisher()
    kept, gone = submit(eda, "Kept"), submit(eda, "Gone")
    type(gone.item).objects.filter(pk=gone.object_id).delete()
    review.dashboard_reviews(user=pat)  # content types cached, as in a warm process
    with CaptureQueriesContext(connection) as queries:
        lists = review.dashboard_reviews(user=pat)
    assert lists["awaiting"] == [kept]
    assert len([q for q in queries if "reviewrequest" in q["sql"]]) == 1


def test_the_schedule_is_soonest_first_titled_and_capped():
    now = timezone.now()
    at = [now + timedelta(hours=h) for h in range(1, 6)]
    a = ArticleFactory(title="Goes live", is_published=True, publish_at=at[2])
    b = ArticleFactory(title="Expires", unpublish_at=at[0])
    p = PageFactory(title="Page", is_published=True, publish_at=at[1])
    live = ArticleFactory(title="Changes")
    draft = revisions.revision_create(item=live, user=editor(), applied=False)
    Revision.objects.filter(pk=draft.pk).update(go_live_at=at[3])
    gone = ArticleFactory(title="Deleted")
    orphan = revisions.revision_create(item=gone, user=editor(), applied=False)
    Revision.objects.filter(pk=orphan.pk).update(go_live_at=at[4])
    gone.delete()
    ArticleFactory(title="Later", is_published=True, publish_at=now + timedelta(days=9))
    ArticleFactory(title="Unpublished", is_published=False, publish_at=at[0])
    events = selectors.upcoming_changes(days=7, now=now)
    assert [(e["what"], e["item"], str(e["item"]), e["at"]) for e in events] == [
        ("expires", b, "Expires", at[0]),
        ("goes live", p, "Page", at[1]),
        ("goes live", a, "Goes live", at[2]),
        ("changes go live", live, "Changes", at[3]),
    ]
    assert len(selectors.upcoming_changes(days=7, now=now, limit=2)) == 2
