"""Content tasks. They take ids, run after commit, and are safe to run twice."""

from django.core.files.storage import default_storage
from django.tasks import task


@task
def image_create_renditions(image_id: int) -> str:
    # Pillow and the rendition code load in the worker that makes them, not in every
    # process that only enqueues.
    from sitecontent.media.rendering import image_renditions_create

    return image_renditions_create(image_id=image_id)


@task
def media_files_delete(names: list[str]) -> int:
    """Delete stored files that no record points at any more (deleting twice is harmless)."""
    for name in names:
        default_storage.delete(name)
    return len(names)


@task
def review_notify(review_id: int, event: str) -> int:
    """Email the Publishers about a submission, or its submitter about the outcome
    (``event``: "submitted" or "decided"); sends once however often it runs."""
    # The email backend (boto3, for SES) loads in the worker that sends.
    from sitecontent.publishing.notifications import review_notify as send

    return send(review_id=review_id, event=event)
