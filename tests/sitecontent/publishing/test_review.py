"""The review workflow's services: submit, request changes, resubmit, approve (now or at a
time); who may; what is recorded; who is emailed (after commit, by a task)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cms.models import TaskRun
from sitecontent.models import Article, AuditEvent, ReviewRequest, Status
from sitecontent.publishing import review, revisions, tick
from tests.factories import ArticleFactory, PageFactory, editor, publisher

pytestmark = pytest.mark.django_db


@pytest.fixture
def eda():
    return editor(username="eda")


@pytest.fixture
def pat():
    return publisher(username="pat")


@pytest.fixture
def draft_article(eda):
    """An Editor's new, unpublished article with its first revision."""
    article = ArticleFactory(title="Harbour", author=eda, is_published=False, publish_at=None)
    revisions.revision_create(item=article, user=eda)
    return article


def live_with_draft(author, title="Edited title"):
    article = ArticleFactory(title="Live title", author=author)
    data = {**revisions.snapshot(article), "title": title}
    draft = revisions.revision_create(item=article, user=author, data=data, applied=False)
    return article, draft


def test_submitting_opens_round_one_and_records_it(eda, pat, draft_article):
    submitted = review.review_submit(item=draft_article, user=eda, message="Ready, I think")
    assert submitted.state == ReviewRequest.State.PENDING
    assert (submitted.round, submitted.message, submitted.submitted_by) == (
        1,
        "Ready, I think",
        eda,
    )
    assert submitted.revision == revisions.latest(draft_article)
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.SUBMIT)
    assert (event.actor, event.message, event.details["round"]) == (eda, "Ready, I think", 1)


def test_submission_emails_the_publishers_after_commit_not_the_submitter(
    eda, pat, draft_article, django_capture_on_commit_callbacks
):
    other = publisher(username="pia")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        review.review_submit(item=draft_article, user=eda, message="Please check the quote")
        assert mail.outbox == []  # nothing is sent inside the editor's transaction
    for callback in callbacks:
        callback()
    [message] = mail.outbox
    assert sorted(message.to) == sorted([pat.email, other.email])
    assert "Awaiting review: Harbour" in message.subject
    assert "Please check the quote" in message.body
    assert f"/admin/sitecontent/article/{draft_article.pk}/review/" in message.body
    run = TaskRun.objects.get(task_path="sitecontent.tasks.review_notify")
    assert run.status == "SUCCESSFUL"


def test_a_second_run_of_the_notification_sends_nothing_twice(
    eda, pat, draft_article, django_capture_on_commit_callbacks
):
    from sitecontent.publishing.notifications import review_notify

    with django_capture_on_commit_callbacks(execute=True):
        submitted = review.review_submit(item=draft_article, user=eda)
    assert len(mail.outbox) == 1
    assert review_notify(review_id=submitted.pk, event="submitted") == 0
    assert len(mail.outbox) == 1


def test_only_someone_who_may_change_it_submits(draft_article):
    stranger = editor(username="sam")
    with pytest.raises(PermissionDenied):
        review.review_submit(item=draft_article, user=stranger)
    assert not ReviewRequest.objects.exists()


def test_a_live_item_without_changes_has_nothing_to_review(eda):
    article = ArticleFactory(author=eda)
    with pytest.raises(ValidationError, match="Nothing to review"):
        review.review_submit(item=article, user=eda)


def test_one_open_review_per_item(eda, draft_article):
    review.review_submit(item=draft_article, user=eda)
    with pytest.raises(ValidationError, match="already awaiting review"):
        review.review_submit(item=draft_article, user=eda)
    assert ReviewRequest.objects.count() == 1


def test_editors_cannot_decide(eda, draft_article):
    submitted = review.review_submit(item=draft_article, user=eda)
    with pytest.raises(PermissionDenied):
        review.review_approve(review=submitted, user=eda)
    with pytest.raises(PermissionDenied):
        review.review_request_changes(review=submitted, user=eda, comment="no")
    draft_article.refresh_from_db()
    assert draft_article.status == Status.DRAFT


def test_request_changes_needs_a_comment_and_tells_the_author(
    eda, pat, draft_article, django_capture_on_commit_callbacks
):
    submitted = review.review_submit(item=draft_article, user=eda)
    with pytest.raises(ValidationError):
        review.review_request_changes(review=submitted, user=pat, comment="  ")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        decided = review.review_request_changes(
            review=submitted, user=pat, comment="Name the source."
        )
    assert decided.state == ReviewRequest.State.CHANGES_REQUESTED
    assert (decided.decided_by, decided.comment) == (pat, "Name the source.")
    [message] = mail.outbox
    assert message.to == [eda.email]
    assert "Changes requested: Harbour" in message.subject
    assert "Name the source." in message.body
    [event] = AuditEvent.objects.filter(action=AuditEvent.Action.REQUEST_CHANGES)
    assert (event.actor, event.message) == (pat, "Name the source.")


def test_resubmitting_opens_a_new_round_and_keeps_the_old_one(eda, pat, draft_article):
    first = review.review_submit(item=draft_article, user=eda)
    review.review_request_changes(review=first, user=pat, comment="Shorter title")
    draft_article.title = "Harbour, shorter"
    draft_article.save()
    revisions.revision_create(item=draft_article, user=eda)
    second = review.review_submit(item=draft_article, user=eda, message="Done")
    assert second.round == 2
    assert [r.round for r in review.history(draft_article)] == [2, 1]
    assert review.history(draft_article)[1].comment == "Shorter title"


def test_approving_a_new_item_publishes_it_now(eda, pat, draft_article):
    submitted = review.review_submit(item=draft_article, user=eda)
    decided = review.review_approve(review=submitted, user=pat)
    draft_article.refresh_from_db()
    assert draft_article.status == Status.PUBLISHED
    assert decided.state == ReviewRequest.State.APPROVED
    assert AuditEvent.objects.filter(action=AuditEvent.Action.APPROVE, actor=pat).count() == 1


def test_approving_a_new_item_at_a_time_schedules_it(eda, pat, draft_article):
    at = timezone.now() + timedelta(hours=2)
    submitted = review.review_submit(item=draft_article, user=eda)
    decided = review.review_approve(review=submitted, user=pat, at=at)
    draft_article.refresh_from_db()
    assert (draft_article.status, draft_article.publish_at) == (Status.SCHEDULED, at)
    assert decided.go_live_at == at
    event = AuditEvent.objects.get(action=AuditEvent.Action.APPROVE)
    assert event.details["go_live_at"] == at.isoformat()


def test_approving_changes_to_a_live_item_puts_the_draft_live(eda, pat):
    article, _draft = live_with_draft(eda)
    submitted = review.review_submit(item=article, user=eda)
    review.review_approve(review=submitted, user=pat)
    article.refresh_from_db()
    assert article.title == "Edited title"
    assert revisions.pending_draft(article) is None


def test_changes_approved_for_a_time_go_live_with_the_tick(eda, pat):
    article, _draft = live_with_draft(eda)
    at = timezone.now() + timedelta(minutes=30)
    submitted = review.review_submit(item=article, user=eda)
    review.review_approve(review=submitted, user=pat, at=at)
    article.refresh_from_db()
    assert article.title == "Live title"
    tick.scheduled_publishing_tick(now=at + timedelta(minutes=1))
    article.refresh_from_db()
    assert article.title == "Edited title"


def test_approval_of_a_version_changed_since_it_was_seen_is_refused(eda, pat, draft_article):
    submitted = review.review_submit(item=draft_article, user=eda)
    seen = revisions.latest(draft_article).pk
    draft_article.title = "Changed meanwhile"
    draft_article.save()
    revisions.revision_create(item=draft_article, user=eda)
    with pytest.raises(ValidationError, match="changed after you opened it"):
        review.review_approve(review=submitted, user=pat, seen_revision_id=seen)
    assert Article.objects.get().status == Status.DRAFT


def test_a_decided_review_cannot_be_decided_again(eda, pat, draft_article):
    submitted = review.review_submit(item=draft_article, user=eda)
    review.review_request_changes(review=submitted, user=pat, comment="No")
    with pytest.raises(ValidationError, match="already decided"):
        review.review_approve(review=submitted, user=pat)


def test_a_publisher_may_approve_their_own_submission(pat):
    page = PageFactory(is_published=False, publish_at=None, owner=pat)
    submitted = review.review_submit(item=page, user=pat)
    review.review_approve(review=submitted, user=pat)
    page.refresh_from_db()
    assert page.status == Status.PUBLISHED


def test_the_comparison_sets_the_draft_beside_what_is_live(eda):
    article, draft = live_with_draft(eda, title="Brand new title")
    submitted = review.review_submit(item=article, user=eda)
    compared = review.comparison(submitted)
    assert compared.live
    assert compared.revision == draft
    [change] = compared.changes
    assert (change.name, change.before, change.after) == ("title", "Live title", "Brand new title")


def test_the_dashboard_lists(eda, pat, draft_article):
    submitted = review.review_submit(item=draft_article, user=eda)
    assert review.reviews_awaiting(user=pat) == [submitted]
    assert review.reviews_awaiting(user=eda) == []
    assert review.submissions_of(user=eda) == [submitted]
