"""CDN purge backends: a small interface, CloudFront and recording implementations.

Pick one with the ``CDN`` setting::

    CDN = {"BACKEND": "cms.cdn.CloudFrontBackend", "OPTIONS": {"DISTRIBUTION_ID": "E2…"}}

On Lambda the function runs in a VPC without a NAT gateway, and CloudFront's API has no
VPC endpoint: there ``PURGE_FUNCTION`` names the stage's purge relay, a small function
outside the VPC (infra/template.py) that sends the invalidation for it.

This module is a leaf: it sends purges and plans their shape (``plan_purge``: collapse,
then widen to wildcards past a cap or the month's budget), nothing more. Gathering paths
into pending rows and sending them as few invalidations is cms.purging; the task that
does it is cms.tasks.purge_cdn_paths.
"""

import functools
import json
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class BaseCDNBackend:
    """Purges paths from a CDN. ``reference`` makes a repeated purge a no-op upstream."""

    required_options: tuple[str, ...] = ()
    # The environment variable production settings read each option from: what an
    # operator has to set when one is missing.
    option_variables: dict[str, str] = {}

    def __init__(self, **options):
        missing = [name for name in self.required_options if not options.get(name)]
        if missing:
            named = ", ".join(
                f"{name} (environment variable {self.option_variables[name]})"
                if name in self.option_variables
                else name
                for name in missing
            )
            raise ImproperlyConfigured(f"{type(self).__name__} needs CDN OPTIONS: {named}")
        self.options = options

    def purge(self, paths: list[str], *, reference: str) -> str:
        """Ask the CDN to drop ``paths``; return the CDN's id for the request."""
        raise NotImplementedError


class RecordingBackend(BaseCDNBackend):
    """For laptops and tests: remembers purges (and logs them) instead of calling a CDN."""

    def __init__(self, **options):
        super().__init__(**options)
        self.purges: list[list[str]] = []

    def purge(self, paths, *, reference):
        self.purges.append(list(paths))
        logger.info("CDN purge %s: %s", reference, " ".join(paths))
        return f"recorded-{len(self.purges)}"


class PurgeError(Exception):
    """The CDN, or the relay in front of it, did not take a purge."""


class CloudFrontBackend(BaseCDNBackend):
    """One CloudFront invalidation per purge. CloudFront treats a repeated
    CallerReference with the same paths as the same invalidation, so retries are safe.

    OPTIONS: ``DISTRIBUTION_ID``; ``PURGE_FUNCTION`` (optional), the name or ARN of the
    relay function to invoke instead of calling CloudFront directly. It takes
    ``{"paths": [...], "reference": "..."}`` and answers ``{"invalidation_id": "...",
    "status": "..."}``; it is invoked synchronously, so its failure (raised here as
    PurgeError) fails the task, which is retried and recorded like any other failure.
    """

    required_options = ("DISTRIBUTION_ID",)
    option_variables = {
        "DISTRIBUTION_ID": "CLOUDFRONT_DISTRIBUTION_ID",
        "PURGE_FUNCTION": "CDN_PURGE_FUNCTION",
    }

    def purge(self, paths, *, reference):
        if self.options.get("PURGE_FUNCTION"):
            return self._purge_through_relay(list(paths), reference)
        from . import aws

        response = aws.client("cloudfront").create_invalidation(
            DistributionId=self.options["DISTRIBUTION_ID"],
            InvalidationBatch={
                "Paths": {"Quantity": len(paths), "Items": list(paths)},
                "CallerReference": reference,
            },
        )
        return response["Invalidation"]["Id"]

    @staticmethod
    def relay_payload(paths: list[str], reference: str) -> bytes:
        return json.dumps({"paths": paths, "reference": reference}).encode()

    def _purge_through_relay(self, paths: list[str], reference: str) -> str:
        from . import aws

        function = self.options["PURGE_FUNCTION"]
        response = aws.client("lambda").invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            Payload=self.relay_payload(paths, reference),
        )
        body = response["Payload"].read()
        if response.get("FunctionError"):
            raise PurgeError(
                f"The purge function {function} failed ({response['FunctionError']}): "
                + self._error_summary(body)
            )
        try:
            invalidation_id = json.loads(body)["invalidation_id"]
        except (ValueError, KeyError, TypeError):
            invalidation_id = None
        if not isinstance(invalidation_id, str) or not invalidation_id:
            raise PurgeError(
                f"The purge function {function} answered without an invalidation_id: {body[:200]!r}"
            )
        logger.info("CDN purge %s sent through %s: %s", reference, function, invalidation_id)
        return invalidation_id

    @staticmethod
    def _error_summary(body: bytes) -> str:
        """Lambda's error document ({"errorType", "errorMessage", ...}) in one line."""
        try:
            error = json.loads(body)
            return f"{error['errorType']}: {str(error['errorMessage'])[:300]}"
        except (ValueError, KeyError, TypeError):
            return repr(body[:300])


@functools.cache
def get_backend() -> BaseCDNBackend:
    config = settings.CDN
    return import_string(config["BACKEND"])(**config.get("OPTIONS", {}))


def collapse_paths(paths) -> list[str]:
    """Sorted, without duplicates, and without paths a ``/prefix*`` wildcard already covers."""
    unique = set(paths)
    wildcards = [p[:-1] for p in unique if p.endswith("*")]
    return sorted(p for p in unique if not any(p != w + "*" and p.startswith(w) for w in wildcards))


# CloudFront's limits on invalidations in progress: 3,000 paths, of which 15 wildcards.
# One invalidation is planned to stay within both on its own.
MAX_PATHS_PER_INVALIDATION = 3000
MAX_WILDCARDS_PER_INVALIDATION = 15


@dataclass(frozen=True)
class PurgePlan:
    """What one invalidation sends: ``paths`` (each billed as one path, a wildcard too),
    and whether they were widened to wildcards to fit the cap or the month's budget."""

    paths: list[str]
    widened: bool
    requested: int  # distinct paths asked for, before collapsing and widening


def covers(purged: str, path: str) -> bool:
    """Whether purging ``purged`` (a path or a ``prefix*`` wildcard) drops ``path``."""
    if purged.endswith("*"):
        stem = purged[:-1]
        return path.startswith(stem) or (path.endswith("*") and path[:-1].startswith(stem))
    return purged == path


def _fits(paths, limit: int, wildcard_limit: int) -> bool:
    return len(paths) <= limit and sum(p.endswith("*") for p in paths) <= wildcard_limit


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0].rstrip("*")


def _group_wildcard(segment: str, paths) -> str:
    # "/articles/*" covers "/articles/" and all below; a member without the slash
    # ("/articles", "/articles.xml") needs the wider "/articles*".
    if all(p.startswith(f"/{segment}/") for p in paths):
        return f"/{segment}/*"
    return f"/{segment}*"


def widen(paths, *, limit: int, wildcard_limit: int = MAX_WILDCARDS_PER_INVALIDATION) -> list[str]:
    """At most ``limit`` paths (and ``wildcard_limit`` wildcards) covering every one of
    ``paths``: the biggest groups by first segment become ``/segment/*`` first, and when
    that is not enough, ``/*``. Returns the collapsed paths unchanged when they fit."""
    collapsed = collapse_paths(paths)
    limit = max(limit, 1)
    if _fits(collapsed, limit, wildcard_limit):
        return collapsed
    groups: dict[str, set[str]] = defaultdict(set)
    for path in collapsed:
        groups[_first_segment(path)].add(path)
    widened = {segment: set(members) for segment, members in groups.items()}
    # Biggest groups first: each saves the most paths. Ties by name, so the plan is the
    # same on every delivery of a task.
    for segment in sorted(groups, key=lambda s: (-len(groups[s]), s)):
        current = [p for members in widened.values() for p in members]
        if _fits(current, limit, wildcard_limit):
            break
        members = groups[segment]
        if not segment or (len(members) < 2 and not next(iter(members)).endswith("*")):
            continue  # "/" alone, or one plain path: a wildcard would save nothing
        widened[segment] = {_group_wildcard(segment, members)}
    result = collapse_paths(p for members in widened.values() for p in members)
    return result if _fits(result, limit, wildcard_limit) else ["/*"]


def plan_purge(
    paths,
    *,
    used: int,
    budget: int,
    cap: int = MAX_PATHS_PER_INVALIDATION,
) -> PurgePlan:
    """One invalidation for ``paths``, given ``used`` paths already sent this month.

    It sends at most ``min(cap, 3000, budget - used)`` paths, but never fewer than one:
    once the budget is spent every purge is the single wildcard ``/*`` (the floor), since
    a stale page is worse than a billed path.
    """
    requested = set(paths)
    room = max(min(cap, MAX_PATHS_PER_INVALIDATION, budget - used), 1)
    collapsed = collapse_paths(requested)
    planned = widen(collapsed, limit=room)
    return PurgePlan(paths=planned, widened=planned != collapsed, requested=len(requested))
