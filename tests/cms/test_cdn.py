import json
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from cms import aws as aws_adapter
from cms import cdn, purging
from cms.models import CdnPurge
from cms.tasks import purge_cdn_paths


def test_collapse_drops_duplicates_and_paths_under_a_wildcard():
    assert cdn.collapse_paths(
        ["/articles/a/", "/articles/*", "/", "/tags/x/*", "/tags/x/*", "/articles/b/"]
    ) == ["/", "/articles/*", "/tags/x/*"]
    assert cdn.collapse_paths(["/about/", "/*", "/articles/*"]) == ["/*"]


def test_cloudfront_backend_refuses_to_start_without_a_distribution():
    with pytest.raises(ImproperlyConfigured, match="variable CLOUDFRONT_DISTRIBUTION_ID"):
        cdn.CloudFrontBackend()


def create_distribution() -> str:
    return aws_client("cloudfront").create_distribution(
        DistributionConfig={
            "CallerReference": "test",
            "Origins": {
                "Quantity": 1,
                "Items": [
                    {
                        "Id": "o",
                        "DomainName": "example.com",
                        "CustomOriginConfig": {
                            "HTTPPort": 80,
                            "HTTPSPort": 443,
                            "OriginProtocolPolicy": "https-only",
                        },
                    }
                ],
            },
            "DefaultCacheBehavior": {
                "TargetOriginId": "o",
                "ViewerProtocolPolicy": "allow-all",
                "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",
            },
            "Comment": "",
            "Enabled": True,
        }
    )["Distribution"]["Id"]


@pytest.mark.django_db
def test_cloudfront_invalidation_reaches_the_api_once_per_task(aws, settings):
    cloudfront = aws_client("cloudfront")
    distribution = create_distribution()
    settings.CDN = {
        "BACKEND": "cms.cdn.CloudFrontBackend",
        "OPTIONS": {"DISTRIBUTION_ID": distribution},
    }
    cdn.get_backend.cache_clear()
    result = purge_cdn_paths.enqueue(paths=["/articles/*", "/articles/x/", "/"])
    # Lambda's two retries of the same task send nothing new.
    for _ in range(2):
        purge_cdn_paths.call(type("Ctx", (), {"task_result": result})(), paths=["/", "/articles/*"])
    invalidations = cloudfront.list_invalidations(DistributionId=distribution)
    assert invalidations["InvalidationList"]["Quantity"] == 1
    invalidation_id = invalidations["InvalidationList"]["Items"][0]["Id"]
    batch = cloudfront.get_invalidation(DistributionId=distribution, Id=invalidation_id)
    assert batch["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/", "/articles/*"]
    assert CdnPurge.objects.get().response_id == invalidation_id


def aws_client(name):
    return aws_adapter.client(name)


@pytest.mark.django_db
def test_one_transaction_sends_one_purge(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        purging.purge_after_commit({"/articles/a/", "/"})
        purging.purge_after_commit({"/tags/x/*"})
    assert list(CdnPurge.objects.values_list("paths", flat=True)) == [
        ["/", "/articles/a/", "/tags/x/*"]
    ]
    assert cdn.get_backend().purges == [["/", "/articles/a/", "/tags/x/*"]]


@pytest.mark.django_db
def test_a_rolled_back_transaction_purges_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                purging.purge_after_commit({"/never/"})
                raise RuntimeError
        except RuntimeError:
            pass
        purging.purge_after_commit({"/later/"})
    assert cdn.get_backend().purges == [["/later/"]]


# -- through the purge relay (the VPC function cannot reach CloudFront's API) -----------

RELAY = "lambda-cms-test-cdn-purge"


class Invokes(list):
    distribution = ""


def moto_lambda_uses_docker(endpoint: str, use: bool) -> None:
    """moto's switch between its Docker Lambda backend and its "simple" one (which a
    reset leaves as it is)."""
    import requests

    requests.post(
        f"{endpoint}/moto-api/config", json={"lambda": {"use_docker": use}}, timeout=5
    ).raise_for_status()


@pytest.fixture
def relay(aws, monkeypatch):
    """The stage's purge relay as moto can run it: moto has no Docker here, so its
    "simple" Lambda backend answers each invoke with a queued result; the queue is filled,
    just before each invoke reaches moto, with what the relay's own code (infra/template.py)
    answers for that invoke's payload, run against moto's CloudFront. Returns the
    invokes moto received (function, type, payload)."""
    import requests

    template = pytest.importorskip("infra.template")
    distribution = create_distribution()
    monkeypatch.setenv("DISTRIBUTION_ID", distribution)
    relay_module = {}
    exec(compile(template.PURGE_RELAY_CODE, "index.py", "exec"), relay_module)  # noqa: S102
    moto_lambda_uses_docker(aws, False)
    invokes = Invokes()

    def run_relay(params, **kwargs):
        payload = json.loads(params["Payload"])
        invokes.append((params["FunctionName"], params["InvocationType"], payload))
        answer = relay_module["handler"](payload, None)
        requests.post(
            f"{aws}/moto-api/static/lambda-simple/response",
            json={"results": [json.dumps(answer)], "region": "eu-west-1"},
            timeout=5,
        ).raise_for_status()

    aws_client("lambda").meta.events.register("provide-client-params.lambda.Invoke", run_relay)
    invokes.distribution = distribution
    yield invokes
    moto_lambda_uses_docker(aws, True)


@pytest.mark.django_db
def test_with_a_purge_function_the_task_invokes_it_and_records_its_invalidation(relay, settings):
    settings.CDN = {
        "BACKEND": "cms.cdn.CloudFrontBackend",
        "OPTIONS": {"DISTRIBUTION_ID": "E-UNUSED", "PURGE_FUNCTION": RELAY},
    }
    result = purge_cdn_paths.enqueue(paths=["/articles/*", "/articles/x/", "/"])
    [(function, kind, payload)] = relay
    assert (function, kind) == (RELAY, "RequestResponse")
    assert payload == {"paths": ["/", "/articles/*"], "reference": f"purge-{result.id}"}
    cloudfront = aws_client("cloudfront")
    [listed] = cloudfront.list_invalidations(DistributionId=relay.distribution)["InvalidationList"][
        "Items"
    ]
    assert CdnPurge.objects.get().response_id == listed["Id"]
    batch = cloudfront.get_invalidation(DistributionId=relay.distribution, Id=listed["Id"])
    assert batch["Invalidation"]["InvalidationBatch"]["CallerReference"] == payload["reference"]


@pytest.mark.django_db
def test_a_failing_purge_function_fails_the_task_for_a_retry(aws, settings):
    """moto's Lambda, without Docker, answers an invoke with a function error: as a relay
    that raised would."""
    from django.tasks import TaskResultStatus

    from cms.models import TaskRun
    from tests.aws_fixtures import lambda_function

    moto_lambda_uses_docker(aws, True)
    lambda_function(RELAY)
    settings.CDN = {
        "BACKEND": "cms.cdn.CloudFrontBackend",
        "OPTIONS": {"DISTRIBUTION_ID": "E0", "PURGE_FUNCTION": RELAY},
    }
    result = purge_cdn_paths.enqueue(paths=["/"])
    run = TaskRun.objects.get(pk=result.id)
    assert run.status == TaskResultStatus.FAILED
    assert f"PurgeError: The purge function {RELAY} failed (Handled)" in run.error
    # Claimed, not sent: the paths wait for the retry.
    [unsent] = CdnPurge.objects.all()
    assert (unsent.paths, unsent.sent_at, unsent.sending_since) == (["/"], None, None)


def test_a_relay_answer_without_an_invalidation_id_is_an_error(relay):
    backend = cdn.CloudFrontBackend(DISTRIBUTION_ID="E0", PURGE_FUNCTION=RELAY)
    # Not a path: the relay refuses it (ValueError), which moto's simple backend cannot
    # report as a function error; answered with an empty object instead.
    import requests

    aws_client("lambda").meta.events.unregister("provide-client-params.lambda.Invoke")
    requests.post(
        f"{os.environ['AWS_ENDPOINT_URL']}/moto-api/static/lambda-simple/response",
        json={"results": ["{}"], "region": "eu-west-1"},
        timeout=5,
    )
    with pytest.raises(cdn.PurgeError, match="answered without an invalidation_id"):
        backend.purge(["/"], reference="r1")


def test_production_settings_pass_the_purge_function_on():
    from tests.cms.test_settings import PRODUCTION_ENV, SETUP, run

    code = SETUP + "from cms import cdn; print(cdn.get_backend().options['PURGE_FUNCTION'])"
    result = run(code, "cms.settings.production", **PRODUCTION_ENV, CDN_PURGE_FUNCTION=RELAY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == RELAY
