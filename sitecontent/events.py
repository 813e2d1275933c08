"""Lambda entry points for non-HTTP events, named in zappa_settings.json.

Thin by design: unpack the event, call a service, return a summary for the logs.
"""

import logging
from urllib.parse import unquote_plus

from cms.lambda_events import lambda_event
from sitecontent.media import uploads
from sitecontent.publishing import tick_gate

logger = logging.getLogger(__name__)


@lambda_event
def publishing_tick(event, context=None):
    """The every-minute cron rule: side effects of go-live and expiry times. While the
    marker says nothing can be due, it returns without opening a database connection
    (sitecontent.publishing.tick_gate), so an idle stage's database can pause."""
    outcome = tick_gate.publishing_tick()
    logger.info("publishing tick: %s", outcome.as_dict())
    return outcome.as_dict()


@lambda_event
def media_uploaded(event, context=None):
    """S3 ObjectCreated under the upload prefix of the media bucket.

    Each record is handled on its own: a malformed one is logged and skipped. A record
    that failed for another reason (S3 or the database briefly unreachable) is logged, the
    others still processed, and the invocation then fails so Lambda retries it; records
    already handled turn the retry into no-ops.
    """
    outcomes = []
    for index, record in enumerate(event.get("Records") or []):
        try:
            s3 = record["s3"]
            bucket, key = s3["bucket"]["name"], unquote_plus(s3["object"]["key"])
            size = int(s3["object"].get("size") or 0)
        except (KeyError, TypeError, ValueError) as exc:
            logger.error("S3 record %d refused, missing %s: %.300s", index, exc, record)
            outcomes.append("malformed")
            continue
        try:
            outcomes.append(uploads.upload_object_created(bucket=bucket, key=key, size=size))
        except Exception:
            logger.exception("S3 record %d (%s/%s) failed", index, bucket, key)
            outcomes.append("failed")
    if "failed" in outcomes:
        raise RuntimeError(f"S3 records failed ({outcomes}); Lambda will retry the event")
    return {"outcomes": outcomes}
