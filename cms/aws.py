"""The one place that creates boto3 clients.

boto3 is imported on first use, not at import time: most requests never touch AWS, and
every import is paid on each Lambda cold start. Clients honour ``AWS_ENDPOINT_URL``
(boto3 reads it), which is how tests point them at a moto server on loopback.
"""

import functools


@functools.cache
def client(service: str):
    import boto3

    return boto3.session.Session().client(service)
