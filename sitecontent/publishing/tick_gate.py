"""The publishing tick's "next due" marker, so an idle site lets its database sleep.

The minute tick (sitecontent.events.publishing_tick) only has work when a go-live,
expiry or scheduled edit time has passed. Aurora Serverless v2 at MinCapacity 0 pauses
only after minutes without connections, so a tick that queried every minute would keep
it awake (and billed) for ever. The marker says, outside the database, when the tick
next can have work:

- ``next_due``: no go-live, expiry or scheduled edit before this time (None: nothing
  scheduled). A full tick sets it (one query, selectors.next_scheduled_change); every
  save of an article, page or revision moves it earlier, once the save commits, to the
  earliest time that save scheduled (a rollback moves nothing).
- ``full_run_at``: the last full tick. However quiet the marker says the site is, the
  tick runs in full when this is PUBLISHING_TICK_FULL_RUN_HOURS old: a safety net for
  changes no save signal announces (``QuerySet.update()``, a restored database).
- ``checked_at``: the last tick, full or skipped. The operations panel reads it
  (``last_checked_at``) so a healthy skipping tick is not reported overdue.

A tick that finds the marker saying "nothing due yet" returns without touching the
database. A missing or unreadable marker means "run in full" (and the full run writes
a new one): the marker can only make the tick do less when it is known to be right.

Where it lives (PUBLISHING_TICK_MARKER): "s3" = the object PUBLISHING_TICK_MARKER_KEY
(``state/publishing-tick.json``) in the stage's media bucket, reached through the VPC's
S3 gateway endpoint, outside media/ and uploads/ so it is never served or processed as a
file; "file" = PUBLISHING_TICK_MARKER_FILE (a single machine); "" (local, tests) = no
marker: every tick runs in full, as before.

Concurrency: a save and a tick may update the marker at once. Every write is a
compare-and-swap (S3 conditional writes: If-Match on the ETag read, If-None-Match when
there was none; a lock and a generation number for the file) and bumps ``generation`` so
no two writes have the same content (and ETag). A tick writes the ``next_due`` it
computed only if nobody wrote since it read the marker, before its query: a save that
committed after that query has written since (or will write after the tick's write, and
move it earlier again). When a tick loses, the save's value stays, which is never later
than the truth, so the next tick runs in full and settles it.
"""

import contextlib
import json
import logging
import os
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from sitecontent.models import Publishable, Revision

logger = logging.getLogger(__name__)

# Retries of a save's compare-and-swap when other writers keep winning.
WRITE_ATTEMPTS = 5


class MarkerError(Exception):
    """The marker store could not be reached (not: someone else wrote first)."""


@dataclass(frozen=True)
class Marker:
    next_due: datetime | None = None
    full_run_at: datetime | None = None
    checked_at: datetime | None = None
    generation: int = 0

    def to_bytes(self) -> bytes:
        def iso(at):
            return at.isoformat() if at else None

        return json.dumps(
            {
                "next_due": iso(self.next_due),
                "full_run_at": iso(self.full_run_at),
                "checked_at": iso(self.checked_at),
                "generation": self.generation,
            },
            sort_keys=True,
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Marker":
        """Raises ValueError (or KeyError/TypeError) for anything but a marker."""
        raw = json.loads(data)

        def at(name):
            value = raw[name]
            if value is None:
                return None
            parsed = datetime.fromisoformat(value)
            if timezone.is_naive(parsed):
                raise ValueError(f"{name} has no time zone")
            return parsed

        return cls(
            next_due=at("next_due"),
            full_run_at=at("full_run_at"),
            checked_at=at("checked_at"),
            generation=int(raw["generation"]),
        )

    def allows_skip(self, now: datetime, full_run_every: timedelta) -> bool:
        """Nothing can be due at ``now`` and the last full run is recent enough."""
        if self.full_run_at is None or not (
            timedelta(0) <= now - self.full_run_at < full_run_every
        ):
            return False
        return self.next_due is None or now < self.next_due

    def earlier(self, at: datetime) -> "Marker":
        next_due = at if self.next_due is None else min(self.next_due, at)
        return replace(self, next_due=next_due, generation=self.generation + 1)


# -- stores: read() -> (marker or None, token); write(marker, token) -> bool -----------
#
# ``token`` identifies what was read (None: nothing there); write() stores ``marker``
# only if the store still holds exactly that, and returns False otherwise. A marker
# that is there but unreadable comes back as (None, token), so a full tick replaces it.


# boto3 and botocore are imported inside S3Store's methods: this module loads on every
# cold start, the S3 client only on a tick with an S3 marker.


class S3Store:
    def __init__(self, bucket: str, key: str):
        self.bucket, self.key = bucket, key

    def _client(self):
        from cms import aws

        return aws.client("s3")

    def read(self):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = self._client().get_object(Bucket=self.bucket, Key=self.key)
            etag, body = response["ETag"], response["Body"].read()
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            # Without s3:ListBucket a missing key answers AccessDenied, not NoSuchKey.
            if code not in {"NoSuchKey", "404", "AccessDenied"}:
                logger.warning("Tick marker s3://%s/%s unreadable: %s", self.bucket, self.key, code)
            return None, None
        except BotoCoreError as exc:
            logger.warning("Tick marker s3://%s/%s unreachable: %s", self.bucket, self.key, exc)
            return None, None
        try:
            return Marker.from_bytes(body), etag
        except (ValueError, KeyError, TypeError):
            logger.warning("Tick marker s3://%s/%s is not a marker; ignored", self.bucket, self.key)
            return None, etag

    def write(self, marker: Marker, token) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        condition = {"IfMatch": token} if token else {"IfNoneMatch": "*"}
        try:
            self._client().put_object(
                Bucket=self.bucket,
                Key=self.key,
                Body=marker.to_bytes(),
                ContentType="application/json",
                CacheControl="no-store",
                **condition,
            )
        except ClientError as exc:
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            code = exc.response.get("Error", {}).get("Code")
            # 412: changed since read; 409: another conditional write in flight.
            if status in {409, 412} or code in {
                "PreconditionFailed",
                "ConditionalRequestConflict",
            }:
                return False
            raise MarkerError(f"s3://{self.bucket}/{self.key}: {code}") from exc
        except BotoCoreError as exc:
            raise MarkerError(f"s3://{self.bucket}/{self.key}: {exc}") from exc
        return True


class FileStore:
    """One JSON file; the generation number is the token, checked under a lock."""

    def __init__(self, path):
        self.path = os.fspath(path)

    @contextlib.contextmanager
    def _locked(self):
        import fcntl  # POSIX only, and used only where the marker is a local file

        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        with open(f"{self.path}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self):
        try:
            with open(self.path, "rb") as file:
                data = file.read()
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            logger.warning("Tick marker %s unreadable: %s", self.path, exc)
            return None, None
        try:
            marker = Marker.from_bytes(data)
        except (ValueError, KeyError, TypeError):
            logger.warning("Tick marker %s is not a marker; ignored", self.path)
            return None, "unreadable"
        return marker, marker.generation

    def read(self):
        return self._read()

    def write(self, marker: Marker, token) -> bool:
        try:
            with self._locked():
                if self._read()[1] != token:
                    return False
                temporary = f"{self.path}.tmp"
                with open(temporary, "wb") as file:
                    file.write(marker.to_bytes())
                os.replace(temporary, self.path)
        except OSError as exc:
            raise MarkerError(f"{self.path}: {exc}") from exc
        return True


def get_store():
    """The configured store, or None when there is no marker (every tick runs in full)."""
    kind = settings.PUBLISHING_TICK_MARKER
    if not kind:
        return None
    if kind == "s3":
        if not settings.MEDIA_BUCKET:
            raise MarkerError("PUBLISHING_TICK_MARKER=s3 needs MEDIA_BUCKET")
        return S3Store(settings.MEDIA_BUCKET, settings.PUBLISHING_TICK_MARKER_KEY)
    if kind == "file":
        return FileStore(settings.PUBLISHING_TICK_MARKER_FILE)
    raise MarkerError(f"PUBLISHING_TICK_MARKER={kind!r}: expected '', 's3' or 'file'")


def full_run_every() -> timedelta:
    return timedelta(hours=settings.PUBLISHING_TICK_FULL_RUN_HOURS)


# -- the tick ------------------------------------------------------------------------


@dataclass(frozen=True)
class TickSkipped:
    """The tick looked at the marker only: nothing can be due yet."""

    next_due: datetime | None
    ran: bool = False

    def as_dict(self) -> dict:
        until = self.next_due.isoformat() if self.next_due else None
        return {
            "ran": False,
            "skipped": f"nothing due until {until}" if until else "nothing scheduled",
            "next_due": until,
        }


def publishing_tick(*, now: datetime | None = None):
    """The minute tick behind its marker: a TickSkipped without opening a database
    connection when nothing can be due, else tick.scheduled_publishing_tick's
    outcome, after which the marker is rewritten (once the tick's work commits)."""
    # Imported when a tick runs: this module loads on every cold start (publishing's
    # receivers use it), the tick's revisions and paths only once a minute.
    from sitecontent.publishing import selectors, tick

    now = now or timezone.now()
    try:
        store = get_store()
    except MarkerError as exc:  # misconfigured: tick as if there were no marker
        logger.error("Tick marker unusable, ticking in full: %s", exc)
        store = None
    if store is None:
        return tick.scheduled_publishing_tick(now=now)
    marker, token = store.read()
    if marker is not None and marker.allows_skip(now, full_run_every()):
        checked = replace(marker, checked_at=now, generation=marker.generation + 1)
        try:
            store.write(checked, token)  # lost to a save meanwhile: its marker stands
        except MarkerError as exc:
            logger.warning("Tick marker not updated after a skip: %s", exc)
        return TickSkipped(next_due=marker.next_due)

    outcome = tick.scheduled_publishing_tick(now=now)
    if outcome.ran:  # else another tick holds the lock, and will write the marker
        written = Marker(
            next_due=selectors.next_scheduled_change(now=now),
            full_run_at=now,
            checked_at=now,
            generation=(marker.generation if marker else 0) + 1,
        )
        transaction.on_commit(partial(_write_after_full_run, store, written, token), robust=True)
    return outcome


def _write_after_full_run(store, marker: Marker, token) -> None:
    try:
        if not store.write(marker, token):
            logger.info("Tick marker changed during the tick; the next tick runs in full")
    except MarkerError as exc:
        logger.warning("Tick marker not written (the next tick runs in full): %s", exc)


def last_checked_at() -> datetime | None:
    """When the tick last ran or skipped, per the marker (no database query); None
    without a marker or when it cannot be read. For the operations panel: a tick is
    overdue when neither this nor SchedulerState.last_finished_at is recent."""
    try:
        store = get_store()
        marker = store.read()[0] if store is not None else None
    except MarkerError as exc:
        logger.warning("Tick marker unreadable: %s", exc)
        return None
    return marker.checked_at if marker else None


# -- saves move the marker earlier ---------------------------------------------------


def scheduled_time(instance) -> datetime | None:
    """The earliest time at which ``instance`` (just saved) gives the tick work."""
    if isinstance(instance, Revision):
        return instance.go_live_at if instance.applied_at is None else None
    if isinstance(instance, Publishable) and instance.is_published:
        # A time at or before the save is the save's doing, never the tick's.
        saved = instance.updated_at
        times = [
            at
            for at in (instance.publish_at, instance.unpublish_at)
            if at is not None and (saved is None or at > saved)
        ]
        return min(times, default=None)
    return None


def move_earlier(at: datetime) -> None:
    """Make the marker's next_due no later than ``at`` (after a save committed)."""
    try:
        store = get_store()
        if store is None:
            return
        for _ in range(WRITE_ATTEMPTS):
            marker, token = store.read()
            # Written even when next_due is already earlier: the new generation makes a
            # tick that read the marker before this save committed lose its write.
            updated = (marker or Marker()).earlier(at)
            if store.write(updated, token):
                return
        logger.error("Tick marker not moved to %s: other writers kept winning", at)
    except MarkerError as exc:
        # The save is committed; the tick's safety-net full run will still find it.
        logger.error("Tick marker not moved to %s: %s", at, exc)
