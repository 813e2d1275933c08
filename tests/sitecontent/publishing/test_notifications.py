"""Review email through the production backend (django-ses) against a moto server over
HTTP: a submission reaches SES; a send SES refuses is a failed task run, visible in the
operations panel, that a retry from the panel (cms.task_runs.task_retry) sends; the
editor's request never fails for it."""

import email

import pytest
from django.test import Client

from cms.models import TaskRun
from sitecontent.models import ReviewRequest
from sitecontent.publishing import review, revisions
from tests.factories import ArticleFactory, editor, publisher

pytestmark = pytest.mark.django_db

SENDER = "newsroom@example.com"
TASK = "sitecontent.tasks.review_notify"


@pytest.fixture
def ses(aws, settings):
    """Django's mail through django-ses, to moto's SES (production's settings but the
    endpoint)."""
    from cms import aws as aws_module

    settings.MAILERS = {"default": {"BACKEND": "django_ses.SESBackend"}}
    settings.DEFAULT_FROM_EMAIL = SENDER
    settings.AWS_SES_REGION_NAME = "eu-west-1"
    settings.AWS_SES_REGION_ENDPOINT_URL = aws
    settings.AWS_SES_AUTO_THROTTLE = None
    return aws_module.client("ses")  # AWS_DEFAULT_REGION is eu-west-1 in the suite


def sent_messages():
    """What moto's SES accepted (its backend, which the threaded server shares)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    return [
        email.message_from_string(m.raw_data)
        for m in ses_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"].sent_messages
    ]


@pytest.fixture
def submission_setup():
    eda = editor(username="eda", email="eda@example.com")
    pat = publisher(username="pat", email="pat@example.com")
    article = ArticleFactory(title="Quay notes", author=eda, is_published=False, publish_at=None)
    revisions.revision_create(item=article, user=eda)
    return eda, pat, article


def test_a_submission_is_emailed_to_the_publishers_through_ses(
    ses, submission_setup, django_capture_on_commit_callbacks
):
    eda, _pat, article = submission_setup
    ses.verify_email_identity(EmailAddress=SENDER)
    with django_capture_on_commit_callbacks(execute=True):
        review.review_submit(item=article, user=eda, message="Check the caption")
    run = TaskRun.objects.get(task_path=TASK)
    assert run.status == "SUCCESSFUL", run.error
    [message] = sent_messages()
    assert message["From"] == SENDER
    assert message["To"] == "pat@example.com"
    assert message["Subject"] == "[Lambda CMS] Awaiting review: Quay notes"
    assert "Check the caption" in message.get_payload(decode=True).decode()


def test_a_refused_send_is_a_failed_run_that_a_retry_sends(
    ses, submission_setup, django_capture_on_commit_callbacks
):
    eda, pat, article = submission_setup
    browser = Client()
    browser.force_login(eda)
    # The sender is not verified yet: SES refuses the message.
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            f"/admin/sitecontent/article/{article.pk}/review/submit/", {"message": "Ready"}
        )
    assert response.status_code == 302  # the editor's request is not held up
    submitted = ReviewRequest.objects.get()
    assert submitted.is_pending
    assert submitted.reviewers_notified_at is None
    failed = TaskRun.objects.get(task_path=TASK)
    assert failed.status == "FAILED"
    assert "MessageRejected" in failed.error
    assert sent_messages() == []

    # The operations panel lists it; once the sender is verified a retry sends it once.
    operator = Client()
    operator.force_login(pat)
    assert f'data-run="{failed.pk}"' in operator.get("/admin/operations/").content.decode()
    ses.verify_email_identity(EmailAddress=SENDER)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(f"/admin/operations/tasks/{failed.pk}/retry/")
    assert response.status_code == 302
    failed.refresh_from_db()
    retried = TaskRun.objects.get(pk=failed.retried_as)
    assert retried.status == "SUCCESSFUL", retried.error
    assert [m["To"] for m in sent_messages()] == ["pat@example.com"]
    submitted.refresh_from_db()
    assert submitted.reviewers_notified_at is not None


def test_the_outcome_is_emailed_to_the_submitter_through_ses(
    ses, submission_setup, django_capture_on_commit_callbacks
):
    eda, pat, article = submission_setup
    ses.verify_email_identity(EmailAddress=SENDER)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = review.review_submit(item=article, user=eda)
    with django_capture_on_commit_callbacks(execute=True):
        review.review_request_changes(review=submitted, user=pat, comment="Add a byline.")
    outcome = sent_messages()[-1]
    assert outcome["To"] == "eda@example.com"
    assert outcome["Subject"] == "[Lambda CMS] Changes requested: Quay notes"
    assert "Add a byline." in outcome.get_payload(decode=True).decode()
