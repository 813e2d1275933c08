"""The site's CloudWatch metrics, written as Embedded Metric Format (EMF) log lines.

Lambda ships stderr (as it does stdout) to CloudWatch Logs, which turns each EMF line
into metric data: no PutMetricData call, no client, no network on the request path.
Every metric is in the ``METRICS_NAMESPACE`` namespace (settings; default "LambdaCMS")
with one dimension, ``Stage``; infra/template.py builds the dashboard and alarms on these names.

Call ``put(name, value, unit)`` wherever the event happens; the names are the constants
below, so the dashboard, the alarms and the callers cannot drift apart. Lines are written
only where ``METRICS_ENABLED`` is on (production settings; off on laptops and in tests,
whose terminals and captures they would fill); the name and unit are checked either way,
so a wrong call fails its tests. A line goes straight to stderr, beside the log lines of
cms.logs but not through logging, so LOG_LEVEL never drops a metric; it carries the
invocation's ids as properties, which Logs Insights reads beside the log lines.

Written here rather than with a library, measured (Python 3.13, on top of Django set up;
zip sizes with the bytecode the build adds; docs/observability.md):

- aws-lambda-powertools (Metrics): 50 modules, 14 ms to import, 1.9 MiB zipped;
- aws-embedded-metrics: 120 modules, 159 ms (it brings aiohttp), 3.5 MiB zipped.

The Lambda zip has about 200 KiB left of its 20 MiB budget, and the EMF document is one
small JSON object: this module imports only what Django has loaded already.
"""

import json
import logging
import math
import os
import sys
import time

# One constant per metric; infra/template.py reads the same constants.
COLD_START = "ColdStart"  # Count: a container's first request or event
REQUEST_LATENCY = "RequestLatency"  # Milliseconds: one HTTP request, middleware to response
PUBLISH_LAG = "PublishLag"  # Seconds: scheduled go-live (or expiry) to its purge being sent
CDN_PATHS_PURGED = "CdnPathsPurged"  # Count: paths in invalidations sent (a wildcard is one)
CDN_WILDCARD_FALLBACKS = "CdnWildcardFallbacks"  # Count: purges widened to wildcards
TASK_FAILURES = "TaskFailures"  # Count: a task run that raised
DEAD_LETTERS = "DeadLetters"  # Count: an event Lambda gave up on, recorded from the DLQ
DATABASE_UNAVAILABLE = "DatabaseUnavailable"  # Count: a request answered 503, no database

UNITS = frozenset({"Count", "Milliseconds", "Seconds"})
NAMES = frozenset(
    {
        COLD_START,
        REQUEST_LATENCY,
        PUBLISH_LAG,
        CDN_PATHS_PURGED,
        CDN_WILDCARD_FALLBACKS,
        TASK_FAILURES,
        DEAD_LETTERS,
        DATABASE_UNAVAILABLE,
    }
)
# The unit each metric is recorded in (the dashboard's axis labels and the alarms'
# thresholds assume it).
UNIT_OF = {
    COLD_START: "Count",
    REQUEST_LATENCY: "Milliseconds",
    PUBLISH_LAG: "Seconds",
    CDN_PATHS_PURGED: "Count",
    CDN_WILDCARD_FALLBACKS: "Count",
    TASK_FAILURES: "Count",
    DEAD_LETTERS: "Count",
    DATABASE_UNAVAILABLE: "Count",
}
NAMESPACE = "LambdaCMS"  # the METRICS_NAMESPACE default; infra/template.py uses it too
DIMENSION = "Stage"

logger = logging.getLogger(__name__)


def enabled() -> bool:
    from django.conf import settings

    try:
        return bool(settings.configured and getattr(settings, "METRICS_ENABLED", False))
    except Exception:  # settings that failed to load: that error is reported elsewhere
        return False


def document(name: str, value: float, unit: str) -> dict:
    """The EMF document of one data point (https://docs.aws.amazon.com/AmazonCloudWatch/
    latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)."""
    from django.conf import settings

    from cms import logs

    namespace = getattr(settings, "METRICS_NAMESPACE", NAMESPACE)
    return {
        "_aws": {
            "Timestamp": int(time.time() * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [[DIMENSION]],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }
            ],
        },
        DIMENSION: logs.stage(),
        name: value,
        **logs.current(),
        **({"function_version": v} if (v := os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")) else {}),
    }


def _problem(name, value, unit) -> str | None:
    if name not in NAMES:
        return f"{name!r} is not one of cms.metrics' names"
    if unit != UNIT_OF[name]:
        return f"{name} is recorded in {UNIT_OF[name]}, not {unit!r}"
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        return f"{name}: {value!r} is not a finite number"
    return None


def put(name: str, value: float, unit: str = "Count") -> None:
    """Record one data point of metric ``name`` (one of the constants above).

    A wrong call raises ValueError where metrics are off (tests, laptops: where it is
    found), and is logged and dropped where they are on: a metric never fails a request.
    """
    on = enabled()
    if problem := _problem(name, value, unit):
        if not on:
            raise ValueError(problem)
        logger.error("Metric dropped: %s", problem)
        return
    if not on:
        return
    # One write of one line: Lambda makes each line one log event.
    sys.stderr.write(json.dumps(document(name, value, unit), separators=(",", ":")) + "\n")
    sys.stderr.flush()
