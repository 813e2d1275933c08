"""The CDN purge cost ceiling, as properties.

The bound (cms.cdn.plan_purge, cms.purging): with ``room = max(1, min(cap, 3000,
budget - used))``, one invalidation sends at most ``room`` paths (a wildcard is one path,
as CloudFront bills it) and at most 15 wildcards. So N edits in a window, sent as I
invalidations, purge at most ``k = I x cap`` paths, and I is at most the number of purge
task runs that found something pending (never more than one per task run, usually far
fewer than N). Every edited path is covered by a purged path (nothing stays stale), and
a month's paths exceed the budget by at most one path (``/*``, the floor) per
invalidation sent once the budget is spent.
"""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cms import cdn, purge_queue
from cms.models import CdnPurge, PendingPurge
from sitecontent.caching.paths import paths_for_item

slugs = st.sampled_from(["a", "b", "news", "x-1", "long-read", "z"])
sections = st.sampled_from(["articles", "categories", "tags", "about", "feeds", "api", "media"])


@st.composite
def site_paths(draw):
    """Paths shaped like the site's: "/", pages, listings and their wildcards, files."""
    kind = draw(st.sampled_from(["root", "page", "wildcard", "nested", "file", "all"]))
    section, slug = draw(sections), draw(slugs)
    return {
        "root": "/",
        "page": f"/{section}/{slug}/",
        "wildcard": f"/{section}/{slug}/*",
        "nested": f"/{section}/{slug}/{draw(slugs)}/",
        "file": f"/{section}.xml" if slug == "z" else f"/{section}/{slug}.pdf",
        "all": "/*" if slug == "z" else f"/{section}/*",
    }[kind]


path_sets = st.sets(site_paths(), min_size=1, max_size=300)


def covered(path, purged) -> bool:
    return any(cdn.covers(p, path) for p in purged)


@settings(max_examples=150, deadline=None)
@given(
    paths=path_sets,
    cap=st.integers(1, 200),
    budget=st.integers(0, 1500),
    used=st.integers(0, 2000),
)
def test_one_invalidation_covers_every_path_within_its_room(paths, cap, budget, used):
    plan = cdn.plan_purge(paths, used=used, budget=budget, cap=cap)
    room = max(1, min(cap, cdn.MAX_PATHS_PER_INVALIDATION, budget - used))
    assert all(covered(path, plan.paths) for path in paths)
    assert 1 <= len(plan.paths) <= room
    assert sum(p.endswith("*") for p in plan.paths) <= cdn.MAX_WILDCARDS_PER_INVALIDATION
    assert all(p.startswith("/") and ("*" not in p or p.endswith("*")) for p in plan.paths)
    # Widened only when it had to be; otherwise exactly the collapsed paths.
    collapsed = cdn.collapse_paths(paths)
    fits = len(collapsed) <= room and sum(p.endswith("*") for p in collapsed) <= 15
    assert plan.widened is not fits
    if fits:
        assert plan.paths == collapsed
    # The same paths give the same plan: a redelivery asks the CDN for the same thing.
    assert cdn.plan_purge(sorted(paths), used=used, budget=budget, cap=cap) == plan


@settings(max_examples=40, deadline=None)
@given(
    windows=st.lists(path_sets, min_size=1, max_size=40),
    cap=st.integers(1, 150),
    budget=st.integers(0, 1000),
)
def test_a_month_of_purges_stays_within_the_budget_plus_the_floor(windows, cap, budget):
    used, after_budget_spent = 0, 0
    for paths in windows:
        if used >= budget:
            after_budget_spent += 1
        plan = cdn.plan_purge(paths, used=used, budget=budget, cap=cap)
        assert all(covered(path, plan.paths) for path in paths)
        assert len(plan.paths) <= cap
        used += len(plan.paths)
    assert used <= budget + after_budget_spent
    assert used <= len(windows) * cap


# -- through the database: real saves, the real receivers, the real claim -------------

EDITS = st.lists(
    st.tuples(
        st.sampled_from(["article", "page"]),
        st.integers(0, 3),
        st.sampled_from(["retitle", "unpublish", "publish", "reslug"]),
        st.booleans(),  # whether a purge task runs right after this edit
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.django_db
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(edits=EDITS, cap=st.integers(1, 60), budget=st.sampled_from([0, 15, 1000]))
def test_n_edits_purge_at_most_k_paths_and_leave_nothing_stale(edits, cap, budget, settings):
    from tests.factories import ArticleFactory, PageFactory

    settings.CDN_MAX_PATHS_PER_PURGE = cap
    settings.CDN_MONTHLY_PATH_BUDGET = budget
    with transaction.atomic():
        items = {
            "article": [ArticleFactory(slug=f"a{n}") for n in range(4)],
            "page": [PageFactory(slug=f"p{n}") for n in range(4)],
        }
        PendingPurge.objects.all().delete()
        runs, asked = 0, []

        def run_task():
            nonlocal runs
            runs += 1
            asked.extend(PendingPurge.objects.values_list("path", flat=True))
            purge_queue.purge_pending(reference=f"purge-prop-{runs}")

        stale_checks = []
        for kind, index, action, task_after in edits:
            item = type(items[kind][index]).objects.get(pk=items[kind][index].pk)
            before = paths_for_item(item) if item.is_live() else set()
            if action == "retitle":
                item.title = f"{item.title}!"
            elif action == "unpublish":
                item.is_published = False
            elif action == "publish":
                item.is_published = True
                item.publish_at = timezone.now() - timedelta(minutes=1)
            else:
                item.slug = f"{item.slug}-x"[:50]
            item.save()
            after = paths_for_item(item) if item.is_live() else set()
            stale_checks.append(before | after)
            if task_after:
                run_task()
        run_task()  # the last edit's task

        purges = list(CdnPurge.objects.filter(reference__startswith="purge-prop-"))
        purged = [p for purge in purges for p in purge.paths]
        assert not PendingPurge.objects.exists()
        assert all(purge.sent_at is not None for purge in purges)
        # Nothing stale: what the receivers asked for, and what showed each edited item
        # before and after its edit, is covered by what was sent.
        assert all(covered(path, purged) for path in asked)
        assert all(covered(path, purged) for paths in stale_checks for path in paths)
        # At most one invalidation per task run that found something, each within the cap.
        assert len(purges) <= runs
        assert all(len(purge.paths) <= cap for purge in purges)
        assert len(purged) <= len(purges) * cap
        assert len(purged) <= max(budget, 0) + len(purges)
        transaction.set_rollback(True)
