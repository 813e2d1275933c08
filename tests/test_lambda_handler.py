"""Every Lambda event path, through Zappa's own handler and the real zappa_settings.json."""

import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms.models import CdnPurge
from sitecontent.models import Article, ContentTransition, SchedulerState
from tests import events
from tests.factories import ArticleFactory, UserFactory
from tests.lambda_fixtures import admin_sign_in, body_of, rule_name, set_cookies, stage_config

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[1]


def event_function(prefix: str) -> str:
    """The function zappa_settings.json names for the event whose function starts so."""
    functions = [e["function"] for e in stage_config()["events"]]
    return next(f for f in functions if f.startswith(prefix))


class TestHttp:
    @pytest.mark.parametrize(
        "make_event", [events.rest_api, events.http_api, events.alb], ids=["v1", "v2", "alb"]
    )
    def test_article_page_renders_through_each_front_door(self, lambda_handler, make_event):
        article = ArticleFactory(title="Served by Lambda")
        response = lambda_handler(make_event("GET", article.get_absolute_url()))
        assert response["statusCode"] == 200
        html = body_of(response).decode()
        assert "<h1>Served by Lambda</h1>" in html
        headers = response.get("headers") or {}
        assert headers["Content-Type"].startswith("text/html")

    def test_rest_api_on_its_amazonaws_host_links_under_the_stage(self, lambda_handler):
        ArticleFactory(title="Linked")
        html = body_of(lambda_handler(events.rest_api("GET", "/articles/"))).decode()
        # Zappa sets SCRIPT_NAME to /<stage> for the execute-api host.
        assert 'href="/dev/articles/' in html

    def test_unknown_path_is_the_site_404(self, lambda_handler):
        response = lambda_handler(events.http_api("GET", "/no/such/page/"))
        assert response["statusCode"] == 404
        assert "Page not found" in body_of(response).decode()

    @pytest.mark.parametrize(
        "make_event", [events.rest_api, events.http_api, events.alb], ids=["v1", "v2", "alb"]
    )
    def test_binary_response_is_base64_encoded_and_byte_exact(self, lambda_handler, make_event):
        response = lambda_handler(make_event("GET", "/static/img/icon-192.png"))
        assert response["statusCode"] == 200
        assert response["isBase64Encoded"] is True
        assert body_of(response) == (ROOT / "static/img/icon-192.png").read_bytes()

    def test_login_post_with_csrf_token_and_cookie(self, lambda_handler):
        UserFactory(username="ed", password="correct horse", is_staff=True)
        response = admin_sign_in(
            lambda_handler, events.rest_api, username="ed", password="correct horse"
        )
        assert response["statusCode"] == 302
        assert response["headers"]["Location"] == "/dev/admin/"
        assert any(c.startswith("sessionid=") for c in response["multiValueHeaders"]["Set-Cookie"])

    @pytest.mark.parametrize("make_event", [events.http_api, events.alb], ids=["v2", "alb"])
    def test_login_post_with_csrf_token_through_the_other_front_doors(
        self, lambda_handler, make_event
    ):
        """Each front door hands cookies back its own way (v2: a "cookies" list; ALB:
        headers); the CSRF round trip must work through all of them."""
        UserFactory(username="ed", password="correct horse", is_staff=True)
        response = admin_sign_in(
            lambda_handler, make_event, username="ed", password="correct horse"
        )
        assert response["statusCode"] == 302, body_of(response)[:300]
        assert response["headers"]["Location"] == "/admin/"  # no stage prefix on these
        assert any(c.startswith("sessionid=") for c in set_cookies(response))

    def test_post_without_csrf_token_is_refused(self, lambda_handler):
        response = lambda_handler(
            events.http_api(
                "POST",
                "/admin/login/",
                headers={"content-type": "application/x-www-form-urlencoded"},
                body="username=ed&password=x",
            )
        )
        assert response["statusCode"] == 403

    def test_http_api_cookies_reach_django_and_come_back(self, lambda_handler):
        response = lambda_handler(events.http_api("GET", "/admin/login/", cookies=["a=b"]))
        assert response["statusCode"] == 200
        assert any(cookie.startswith("csrftoken=") for cookie in response["cookies"])


class TestScheduledTick:
    def test_cron_rule_from_zappa_settings_runs_the_tick(
        self, lambda_handler, django_capture_on_commit_callbacks
    ):
        article = ArticleFactory(publish_at=timezone.now() + timedelta(minutes=5))
        Article.objects.filter(pk=article.pk).update(
            publish_at=timezone.now() - timedelta(seconds=30),
            updated_at=timezone.now() - timedelta(minutes=10),
        )
        event = events.scheduled(rule_name(event_function("sitecontent.events.publishing")))
        with django_capture_on_commit_callbacks(execute=True):
            result = lambda_handler(event)
        assert result["ran"] is True
        assert result["transitions"] == 1
        assert SchedulerState.objects.get().runs == 1
        assert ContentTransition.objects.get().object_id == article.pk
        assert CdnPurge.objects.get().paths == result["paths"]

    def test_keep_warm_does_no_database_work(self, lambda_handler):
        event = events.scheduled(rule_name("handler.keep_warm_callback", name="zappa-keep-warm"))
        with CaptureQueriesContext(connection) as queries:
            assert lambda_handler(event) is None
        assert len(queries) == 0


class TestManage:
    def test_manage_event_runs_a_management_command(self, lambda_handler):
        assert lambda_handler({"manage": "migrate --noinput"}) == {}
        lambda_handler({"manage": "publishing_tick"})
        assert SchedulerState.objects.get().runs == 1


class TestS3Uploads:
    def put(self, bucket, key, body=b"data"):
        from cms import aws

        aws.client("s3").put_object(Bucket=bucket, Key=key, Body=body)

    def exists(self, bucket, key):
        from cms import aws

        listed = aws.client("s3").list_objects_v2(Bucket=bucket, Prefix=key)
        return any(obj["Key"] == key for obj in listed.get("Contents", []))

    def test_moto_event_for_an_unissued_upload_deletes_it(self, lambda_handler, media_bucket):
        key = "uploads/stray/My Photo é.jpg"
        self.put(media_bucket.bucket, key)
        [event] = media_bucket.events()
        assert event["Records"][0]["s3"]["object"]["key"] != key  # S3 URL-encodes keys
        assert lambda_handler(event) == {"outcomes": ["deleted"]}
        assert not self.exists(media_bucket.bucket, key)

    def test_objects_outside_the_upload_prefix_are_left_alone(self, lambda_handler, media_bucket):
        self.put(media_bucket.bucket, "images/keep/me.jpg")
        self.put(media_bucket.bucket, "uploads/x/y.jpg")
        [event] = media_bucket.events()
        event["Records"][0]["s3"]["object"]["key"] = "images/keep/me.jpg"
        assert lambda_handler(event) == {"outcomes": ["ignored"]}
        assert self.exists(media_bucket.bucket, "images/keep/me.jpg")

    def test_a_malformed_record_does_not_sink_the_batch(self, lambda_handler, media_bucket):
        self.put(media_bucket.bucket, "uploads/a/b.jpg")
        [event] = media_bucket.events()
        # Zappa routes a batch by its first record; a later one lacks its object.
        broken = json.loads(json.dumps(event["Records"][0]))
        del broken["s3"]["object"]
        event["Records"].append(broken)
        assert lambda_handler(event) == {"outcomes": ["deleted", "malformed"]}

    def test_the_same_delivery_three_times_is_harmless(self, lambda_handler, media_bucket):
        self.put(media_bucket.bucket, "images/keep/me.jpg")
        self.put(media_bucket.bucket, "uploads/stray/x.jpg")
        [event] = media_bucket.events()
        for _ in range(3):
            assert lambda_handler(event) == {"outcomes": ["deleted"]}
        assert self.exists(media_bucket.bucket, "images/keep/me.jpg")
        assert not self.exists(media_bucket.bucket, "uploads/stray/x.jpg")
