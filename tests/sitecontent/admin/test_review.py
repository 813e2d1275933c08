"""The review workflow in the admin: the change form's panel, submitting, the review
screen's comparison, deciding, and the dashboard's lists."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sitecontent.models import ReviewRequest, Status
from sitecontent.publishing import review, revisions
from tests.factories import ArticleFactory, editor

pytestmark = pytest.mark.django_db

ARTICLES = "/admin/sitecontent/article/"


@pytest.fixture
def eda(editor_client):
    return editor_client


@pytest.fixture
def pat(publisher_client):
    return publisher_client


@pytest.fixture
def article(eda):
    item = ArticleFactory(title="Harbour", author=eda.user, is_published=False, publish_at=None)
    revisions.revision_create(item=item, user=eda.user)
    return item


def review_url(item, submitted):
    return f"{ARTICLES}{item.pk}/review/{submitted.pk}/"


def test_the_change_form_offers_submit_for_review(eda, article):
    html = eda.get(f"{ARTICLES}{article.pk}/change/").content.decode()
    assert 'id="review-panel"' in html
    assert 'value="Submit for review"' in html


def test_submitting_from_the_form_opens_a_review(eda, article):
    response = eda.post(f"{ARTICLES}{article.pk}/review/submit/", {"message": "Ready <b>now</b>"})
    assert response.status_code == 302
    submitted = ReviewRequest.objects.get()
    assert submitted.message == "Ready <b>now</b>"
    html = eda.get(f"{ARTICLES}{article.pk}/change/").content.decode()
    assert "Awaiting review" in html
    assert "Ready &lt;b&gt;now&lt;/b&gt;" in html  # escaped, never markup
    assert 'value="Submit for review"' not in html
    assert "Review and decide" not in html  # editors do not decide


def test_submitting_needs_a_post(eda, article):
    assert eda.get(f"{ARTICLES}{article.pk}/review/submit/").status_code == 405


def test_someone_elses_article_cannot_be_submitted(article):
    from django.test import Client

    other = Client()
    other.force_login(editor(username="sam"))
    other.post(f"{ARTICLES}{article.pk}/review/submit/", {"message": ""})
    assert not ReviewRequest.objects.exists()


def test_the_review_screen_sets_the_draft_beside_what_is_live(eda, pat):
    live = ArticleFactory(title="Live title", author=eda.user)
    data = {**revisions.snapshot(live), "title": "Draft title"}
    draft = revisions.revision_create(item=live, user=eda.user, data=data, applied=False)
    submitted = review.review_submit(item=live, user=eda.user, message="New headline")
    html = pat.get(review_url(live, submitted)).content.decode()
    assert "The submission beside what is published" in html
    assert '<tr data-field="title">' in html
    assert "<del>Live</del>" in html
    assert "<ins>Draft</ins>" in html
    assert f'name="seen_revision" value="{draft.pk}"' in html
    assert 'value="Request changes"' in html


def test_requesting_changes_from_the_review_screen(eda, pat, article):
    submitted = review.review_submit(item=article, user=eda.user)
    response = pat.post(
        review_url(article, submitted), {"decision": "request_changes", "comment": "Cite it."}
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == ReviewRequest.State.CHANGES_REQUESTED
    html = eda.get(f"{ARTICLES}{article.pk}/change/").content.decode()
    assert "Changes requested" in html
    assert "Cite it." in html
    assert 'value="Submit again for review"' in html


def test_request_changes_without_a_comment_shows_the_error(eda, pat, article):
    submitted = review.review_submit(item=article, user=eda.user)
    response = pat.post(review_url(article, submitted), {"decision": "request_changes"})
    assert response.status_code == 200
    assert "Say what should change." in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.is_pending


def test_approving_at_a_time_from_the_review_screen(eda, pat, article):
    submitted = review.review_submit(item=article, user=eda.user)
    at = (timezone.localtime() + timedelta(hours=3)).replace(second=0, microsecond=0)
    response = pat.post(
        review_url(article, submitted),
        {
            "decision": "approve",
            "go_live_at": at.strftime("%Y-%m-%dT%H:%M"),
            "seen_revision": revisions.latest(article).pk,
        },
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.status, article.publish_at) == (Status.SCHEDULED, at)


def test_an_editor_cannot_decide_by_posting(eda, article):
    submitted = review.review_submit(item=article, user=eda.user)
    response = eda.post(review_url(article, submitted), {"decision": "approve"})
    assert response.status_code == 403
    article.refresh_from_db()
    assert article.status == Status.DRAFT


def test_the_dashboard_shows_publishers_what_awaits_and_editors_their_submissions(
    eda, pat, article
):
    review.review_submit(item=article, user=eda.user, message="Quote checked")
    html = pat.get("/admin/").content.decode()
    assert 'id="awaiting-review"' in html
    assert "Harbour" in html
    assert "Quote checked" in html
    assert str(eda.user) in html
    mine = eda.get("/admin/").content.decode()
    assert 'id="awaiting-review"' not in mine
    assert 'id="your-submissions"' in mine
    assert "Awaiting review" in mine


def test_the_dashboards_queries_do_not_grow_with_the_submissions(eda, pat):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def submit():
        item = ArticleFactory(author=eda.user, is_published=False, publish_at=None)
        revisions.revision_create(item=item, user=eda.user)
        review.review_submit(item=item, user=eda.user)

    def dashboard_queries():
        with CaptureQueriesContext(connection) as queries:
            assert pat.get("/admin/").status_code == 200
        return len(queries)

    submit()
    pat.get("/admin/")  # content types and permissions cached, as on a warm container
    one = dashboard_queries()
    for _ in range(4):
        submit()
    assert dashboard_queries() == one


def test_changes_published_meanwhile_leave_nothing_to_review_and_approving_closes_it(eda, pat):
    live = ArticleFactory(title="Live title", author=eda.user)
    data = {**revisions.snapshot(live), "title": "Draft title"}
    draft = revisions.revision_create(item=live, user=eda.user, data=data, applied=False)
    submitted = review.review_submit(item=live, user=eda.user)
    revisions.revision_publish(revision=draft, user=pat.user)  # the draft banner's button
    html = pat.get(review_url(live, submitted)).content.decode()
    assert "nothing is left to review" in html
    pat.post(review_url(live, submitted), {"decision": "approve"})
    submitted.refresh_from_db()
    assert submitted.state == ReviewRequest.State.APPROVED
