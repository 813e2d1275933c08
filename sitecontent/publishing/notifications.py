"""The review workflow's email (sitecontent.publishing.review says when): composed here
and sent through Django's email framework, whose backend the settings choose (the
console locally, Amazon SES on AWS stages). Only the task sitecontent.tasks.review_notify
calls this, so a failure raises there and becomes a failed task run to retry.

Each review sends at most one message per event: the review row keeps when it was
sent, so a retry after a failure or a second delivery of the task sends nothing twice.
The message goes to all its recipients at once (one send either reaches SES or not).
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from sitecontent import roles
from sitecontent.models import ReviewRequest

SUBMITTED = "submitted"
DECIDED = "decided"


def _review_url(review: ReviewRequest) -> str:
    opts = review.content_type.model_class()._meta
    path = reverse(
        f"admin:{opts.app_label}_{opts.model_name}_review", args=[review.object_id, review.pk]
    )
    return f"{settings.SITE_URL}{path}"


def _change_url(review: ReviewRequest) -> str:
    opts = review.content_type.model_class()._meta
    path = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[review.object_id])
    return f"{settings.SITE_URL}{path}"


def reviewers_for(review: ReviewRequest) -> list[str]:
    """The addresses of everyone who may decide on ``review``, except its submitter."""
    model = review.content_type.model_class()
    perm = f"{model._meta.app_label}.publish_{model._meta.model_name}"
    users = (
        get_user_model()
        .objects.with_perm(
            perm, is_active=True, backend="django.contrib.auth.backends.ModelBackend"
        )
        .filter(is_staff=True)
    )
    addresses = {
        user.email
        for user in users.exclude(email="").exclude(pk=review.submitted_by_id)
        if roles.can_publish(user, model)
    }
    return sorted(addresses)


def _message(review: ReviewRequest, event: str) -> EmailMessage | None:
    item = review.item
    if item is None:
        return None  # deleted since: nothing to review or to tell
    context = {
        "review": review,
        "item": item,
        "kind": item._meta.verbose_name,
        "review_url": _review_url(review),
        "change_url": _change_url(review),
        "site_name": settings.SITE_NAME,
        "submitter": review.submitted_by,
    }
    if event == SUBMITTED:
        recipients = reviewers_for(review)
        template = "review_submitted"
    else:
        submitter = review.submitted_by
        recipients = [submitter.email] if submitter is not None and submitter.email else []
        template = "review_decided"
    if not recipients:
        return None
    subject = render_to_string(f"sitecontent/email/{template}_subject.txt", context)
    body = render_to_string(f"sitecontent/email/{template}.txt", context)
    return EmailMessage(
        subject=" ".join(subject.split()),
        body=body,
        to=recipients,
        from_email=settings.DEFAULT_FROM_EMAIL,
    )


def review_notify(*, review_id: int, event: str) -> int:
    """Send ``event``'s email for the review ``review_id`` once; how many it was sent to
    (0: sent before, or nobody to tell)."""
    if event not in (SUBMITTED, DECIDED):
        raise ValueError(f"Unknown review event {event!r}")
    if not settings.DEFAULT_FROM_EMAIL:
        raise ImproperlyConfigured("DEFAULT_FROM_EMAIL is not set: no sender for review email")
    mark = "reviewers_notified_at" if event == SUBMITTED else "submitter_notified_at"
    with transaction.atomic():
        review = (
            # Only the review's row: PostgreSQL locks no nullable side of a join.
            ReviewRequest.objects.select_for_update(of=("self",))
            .select_related("submitted_by", "decided_by", "content_type")
            .filter(pk=review_id)
            .first()
        )
        if review is None or getattr(review, mark) is not None:
            return 0
        message = _message(review, event)
        if message is not None:
            message.send()
        # Marked only once sent: a failed send raises above and leaves it unmarked.
        setattr(review, mark, timezone.now())
        review.save(update_fields=[mark])
    return len(message.to) if message is not None else 0
