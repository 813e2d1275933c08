"""The site's CloudWatch metrics, written as Embedded Metric Format (EMF) log lines.

Lambda ships stdout to CloudWatch Logs, which turns each EMF line into metric data: no
PutMetricData call, no client, no network on the request path. Every metric is in the
``METRICS_NAMESPACE`` namespace (settings; default "LambdaCMS") with one dimension,
``Stage``; infra/template.py builds the dashboard and alarms on these names.

Call ``put(name, value, unit)`` wherever the event happens; the names are the constants
below, so the dashboard, the alarms and the callers cannot drift apart.
"""

# One constant per metric; infra/template.py reads the same constants.
COLD_START = "ColdStart"  # Count: a container's first request or event
REQUEST_LATENCY = "RequestLatency"  # Milliseconds: one HTTP request, middleware to response
PUBLISH_LAG = "PublishLag"  # Seconds: scheduled go-live (or expiry) to its purge being sent
CDN_PATHS_PURGED = "CdnPathsPurged"  # Count: paths in invalidations sent (a wildcard is one)
CDN_WILDCARD_FALLBACKS = "CdnWildcardFallbacks"  # Count: purges widened to wildcards
TASK_FAILURES = "TaskFailures"  # Count: a task run that raised
DEAD_LETTERS = "DeadLetters"  # Count: an event Lambda gave up on, recorded from the DLQ

UNITS = frozenset({"Count", "Milliseconds", "Seconds"})


def put(name: str, value: float, unit: str = "Count") -> None:
    """Record one data point of metric ``name`` (one of the constants above)."""
    # Placeholder: issue 15's observability slice writes the EMF line here.
    return None
