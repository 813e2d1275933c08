"""The review workflow (model: models/review.py): an Editor submits an article or page
for review with a message; a Publisher approves it (publish now, or at a time) or asks
for changes with a comment; a resubmission opens a new round.

What is reviewed:
- an unpublished item (new, or taken off the site): the item as it is, which approving
  publishes (``content_publish`` / ``content_schedule``);
- a published item (live, scheduled or expired): its draft of changes waiting for a
  publisher (revisions.pending_draft), which approving puts live
  (``revision_publish`` / ``revision_schedule``).

Who may: submitting needs the right to change the item (roles.can_change: an Editor's
own, any for a Publisher); deciding needs the publish permission of its model. A
Publisher may approve their own submission: they could publish it directly anyway, so
forbidding it would protect nothing (a newsroom wanting four eyes needs a separate
permission, not this rule).

A submission stays open while its Editor keeps editing: the reviewer decides on what
the item holds when they look (the review screen shows that version; approving refuses
a version that changed since, ``seen_revision_id``).

Every step is recorded (AuditEvent SUBMIT, REQUEST_CHANGES, APPROVE) and, after commit,
sends email by a task (sitecontent.tasks.review_notify): to the Publishers on
submission, to the submitter on the outcome. A failed send is a failed task run,
retried from the operations panel; the editor's request never waits for it.
"""

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sitecontent import roles
from sitecontent.models import Article, AuditEvent, Page, Publishable, ReviewRequest, Revision
from sitecontent.publishing import revisions, selectors, services
from sitecontent.publishing.notifications import DECIDED, SUBMITTED

REVIEWABLE = (Article, Page)


def _stored(item: Publishable) -> Publishable:
    """The item as stored: a form may have changed the one in memory."""
    return type(item).objects.get(pk=item.pk)


def under_review(item: Publishable) -> Revision | None:
    """The version of ``item`` a review decides on now: its pending draft if it is
    published, else its newest revision (None when there is nothing to review)."""
    if item.is_published:
        return revisions.pending_draft(item)
    return revisions.latest(item)


def _notify(review: ReviewRequest, event: str) -> None:
    # The task framework loads when something is enqueued, not on each cold start.
    from sitecontent.tasks import review_notify

    transaction.on_commit(
        partial(review_notify.enqueue, review_id=review.pk, event=event), robust=True
    )


def _require_reviewer(user, review: ReviewRequest) -> None:
    if not roles.can_publish(user, review.content_type.model_class()):
        raise PermissionDenied(_("Only publishers can decide on a review."))


def _open(review: ReviewRequest) -> ReviewRequest:
    """The review locked for a decision, which must still be open."""
    review = ReviewRequest.objects.select_for_update().get(pk=review.pk)
    if not review.is_pending:
        raise ValidationError(_("This review was already decided."))
    return review


@transaction.atomic
def review_submit(*, item: Publishable, user, message: str = "") -> ReviewRequest:
    """Ask the Publishers to review ``item`` (a new round if it was reviewed before)."""
    if not isinstance(item, REVIEWABLE):
        raise ValidationError(_("Only articles and pages are reviewed."))
    item = type(item).objects.select_for_update().get(pk=item.pk)
    roles.require_change(user, item)
    if ReviewRequest.objects.for_item(item).pending().exists():
        raise ValidationError(_("This is already awaiting review."))
    revision = under_review(item)
    if item.is_published and revision is None:
        raise ValidationError(
            _("Nothing to review: this is published and has no unpublished changes.")
        )
    if revision is not None and revision.go_live_at is not None:
        raise ValidationError(_("These changes are already approved and scheduled."))
    if revision is None:
        # Content stored before revisions existed: keep what is submitted.
        revision = revisions.revision_create(item=item, user=user)
    rounds = ReviewRequest.objects.for_item(item).aggregate(last=Max("round"))["last"] or 0
    try:
        with transaction.atomic():
            review = ReviewRequest.objects.create(
                content_type=ContentType.objects.get_for_model(item),
                object_id=item.pk,
                round=rounds + 1,
                revision=revision,
                message=message.strip(),
                submitted_by=user,
            )
    except IntegrityError:
        # Another submission of the same item won the race (the constraint holds).
        raise ValidationError(_("This is already awaiting review.")) from None
    AuditEvent.objects.record(
        AuditEvent.Action.SUBMIT,
        user=user,
        item=item,
        message=review.message,
        review=review.pk,
        round=review.round,
        revision=revision.pk,
    )
    _notify(review, SUBMITTED)
    return review


@transaction.atomic
def review_request_changes(*, review: ReviewRequest, user, comment: str) -> ReviewRequest:
    """Send the submission back to its Editor, saying what to change."""
    _require_reviewer(user, review)
    review = _open(review)
    comment = comment.strip()
    if not comment:
        raise ValidationError(_("Say what should change."))
    review.state = ReviewRequest.State.CHANGES_REQUESTED
    review.decided_by, review.decided_at, review.comment = user, timezone.now(), comment
    review.save(update_fields=["state", "decided_by", "decided_at", "comment"])
    AuditEvent.objects.record(
        AuditEvent.Action.REQUEST_CHANGES,
        user=user,
        item=review.item,
        message=comment,
        review=review.pk,
        round=review.round,
    )
    _notify(review, DECIDED)
    return review


@transaction.atomic
def review_approve(
    *,
    review: ReviewRequest,
    user,
    at: datetime | None = None,
    comment: str = "",
    seen_revision_id: int | None = None,
) -> ReviewRequest:
    """Approve the submission: live now, or (``at``) at that time.

    ``seen_revision_id`` is the version the reviewer looked at; if the Editor has saved
    since, the approval is refused so nobody approves what they have not seen.
    """
    _require_reviewer(user, review)
    review = _open(review)
    item = type(review.item).objects.select_for_update().get(pk=review.object_id)
    revision = under_review(item)
    if seen_revision_id is not None and (revision is None or revision.pk != seen_revision_id):
        raise ValidationError(
            _("This was changed after you opened it. Look at the new version and decide again.")
        )
    if item.is_published:
        # Its draft of changes goes live (none left: a publisher put them live already).
        if revision is not None and at is None:
            revisions.revision_publish(revision=revision, user=user)
        elif revision is not None:
            revisions.revision_schedule(revision=revision, user=user, at=at)
    elif at is None:
        services.content_publish(item=item, user=user)
    else:
        services.content_schedule(item=item, user=user, publish_at=at)
    review.state = ReviewRequest.State.APPROVED
    review.decided_by, review.decided_at = user, timezone.now()
    review.comment, review.go_live_at = comment.strip(), at
    review.save(update_fields=["state", "decided_by", "decided_at", "comment", "go_live_at"])
    AuditEvent.objects.record(
        AuditEvent.Action.APPROVE,
        user=user,
        item=item,
        message=review.comment,
        review=review.pk,
        round=review.round,
        go_live_at=at.isoformat() if at else None,
    )
    _notify(review, DECIDED)
    return review


# -- reads ---------------------------------------------------------------------------


def _with_items(reviews, types: dict) -> list[ReviewRequest]:
    """Each review with ``item``: its model's instance with the pk and title the list
    shows (from the query's ``item_title``; not loaded, and not to be saved). Reviews
    whose item is gone (deleted since) are left out."""
    models = {ct.id: model for model, ct in types.items()}
    kept = []
    for review in reviews:
        if review.item_title is not None and review.content_type_id in models:
            review.item = models[review.content_type_id](
                pk=review.object_id, title=review.item_title
            )
            kept.append(review)
    return kept


def dashboard_reviews(*, user, awaiting: int = 25, mine: int = 10) -> dict:
    """The dashboard's two lists in one query: ``awaiting``, the submissions ``user`` may
    decide on, oldest first; ``mine``, their own latest submissions and their outcomes.
    (Both lists' rows come back together: each list's own LIMIT is a subquery.)"""
    types = ContentType.objects.get_for_models(*REVIEWABLE)
    deciding = [types[m].id for m in REVIEWABLE if roles.can_publish(user, m)]
    oldest_pending = ("submitted_at", "id")
    latest = ("-submitted_at", "-id")
    wanted = Q(
        pk__in=ReviewRequest.objects.filter(submitted_by=user).order_by(*latest).values("pk")[:mine]
    )
    if deciding:
        pending = ReviewRequest.objects.pending().filter(content_type_id__in=deciding)
        wanted |= Q(pk__in=pending.order_by(*oldest_pending).values("pk")[:awaiting])
    rows = _with_items(
        ReviewRequest.objects.filter(wanted)
        .select_related("submitted_by", "decided_by")
        .annotate(item_title=selectors.item_title(types))
        .order_by(*oldest_pending),
        types,
    )
    pending_state = ReviewRequest.State.PENDING
    return {
        "awaiting": [r for r in rows if r.state == pending_state and r.content_type_id in deciding][
            :awaiting
        ],
        "mine": sorted(
            (r for r in rows if r.submitted_by_id == user.pk),
            key=lambda r: (r.submitted_at, r.pk),
            reverse=True,
        )[:mine],
    }


def reviews_awaiting(*, user, limit: int = 25) -> list[ReviewRequest]:
    """The submissions ``user`` may decide on, oldest first."""
    return dashboard_reviews(user=user, awaiting=limit)["awaiting"]


def submissions_of(*, user, limit: int = 10) -> list[ReviewRequest]:
    """``user``'s own latest submissions and their outcomes."""
    return dashboard_reviews(user=user, mine=limit)["mine"]


def history(item: Publishable) -> list[ReviewRequest]:
    """Every round of ``item``'s review, newest first."""
    return list(ReviewRequest.objects.for_item(item).select_related("submitted_by", "decided_by"))


@dataclass(frozen=True)
class Comparison:
    live: bool  # whether anything of the item is live to compare with
    revision: Revision | None  # the version under review
    changes: list  # revisions.FieldChange, one per field that differs


def comparison(review: ReviewRequest) -> Comparison:
    """What approving ``review`` would change on the public site: the version under
    review against the item as stored (which is what is live, for a published item:
    drafts never go into the row). Against nothing for an unpublished item."""
    item = _stored(review.item)
    revision = under_review(item)
    if revision is None:
        return Comparison(live=item.is_live(), revision=None, changes=[])
    if item.is_published:
        shown = revisions.snapshot(item)
    else:
        # Nothing is public: every field of the submission is new to readers.
        fields = [item._meta.get_field(name) for name in item.REVISION_FIELDS]
        shown = {field.name: [] if field.many_to_many else None for field in fields}
    current = Revision(
        content_type=ContentType.objects.get_for_model(item), object_id=item.pk, data=shown
    )
    return Comparison(
        live=item.is_published, revision=revision, changes=revisions.compare(current, revision)
    )
