import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from cms import aws as aws_adapter
from cms import cdn
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


@pytest.mark.django_db
def test_cloudfront_invalidation_reaches_the_api_once_per_task(aws, settings):
    cloudfront = aws_client("cloudfront")
    distribution = cloudfront.create_distribution(
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
    settings.CDN = {
        "BACKEND": "cms.cdn.CloudFrontBackend",
        "OPTIONS": {"DISTRIBUTION_ID": distribution},
    }
    cdn.get_backend.cache_clear()
    result = purge_cdn_paths.enqueue(paths=["/articles/*", "/articles/x/", "/"])
    # A second delivery of the same task (a Lambda retry) sends nothing new.
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
        cdn.purge_after_commit({"/articles/a/", "/"})
        cdn.purge_after_commit({"/tags/x/*"})
    assert list(CdnPurge.objects.values_list("paths", flat=True)) == [
        ["/", "/articles/a/", "/tags/x/*"]
    ]
    assert cdn.get_backend().purges == [["/", "/articles/a/", "/tags/x/*"]]


@pytest.mark.django_db
def test_a_rolled_back_transaction_purges_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                cdn.purge_after_commit({"/never/"})
                raise RuntimeError
        except RuntimeError:
            pass
        cdn.purge_after_commit({"/later/"})
    assert cdn.get_backend().purges == [["/later/"]]
