"""Brute-force protection on the admin sign-in, through every front door Lambda has,
with the headers each really sends, through Zappa's handler.

Production and staging (CloudFront, then API Gateway): only requests carrying
CloudFront's origin secret are served, so the client address is the entry CloudFront
appended to X-Forwarded-For (TRUSTED_PROXY_COUNT=2) and the host the one its function
set. Calling API Gateway, a function URL or a load balancer directly gets a 403 before
the host or address is read, whatever X-Forwarded-Host and X-Forwarded-For say. Dev
(API Gateway alone): one proxy, and the Host as API Gateway received it.

The attacker makes up a CSRF token pair (Django accepts any one cookie and form field
that match), so even the form's GET is not needed.
"""

from urllib.parse import urlencode

import pytest
from axes.models import AccessAttempt

from sitecontent.models import AuditEvent
from tests import events
from tests.factories import UserFactory
from tests.lambda_fixtures import FORM_CONTENT_TYPE, LOGIN, signed_in, stage_config

pytestmark = pytest.mark.django_db

SECRET = "cloudfront-origin-secret-for-tests-0123456789"
OLD_SECRET = "the-previous-origin-secret-still-accepted-9876"
SITE = events.SITE_HOST
TOKEN = "a" * 16 + "B" * 16  # a made-up CSRF secret, sent as cookie and form field


def login_body(username, password):
    return urlencode({"csrfmiddlewaretoken": TOKEN, "username": username, "password": password})


FORM = {"Content-Type": FORM_CONTENT_TYPE, "Cookie": f"csrftoken={TOKEN}"}


def via_cloudfront(body, *, client, forged_for=None, secret=SECRET):
    return events.cloudfront_rest_api(
        "POST",
        LOGIN,
        viewer=client,
        viewer_forwarded_for=forged_for,
        origin_secret=secret,
        headers={**FORM, "Origin": f"https://{SITE}"},
        body=body,
    )


def _direct_headers(client, forged_for, forged_host, origin):
    """What reaches the function when the caller skips CloudFront: the front door
    appends the caller's address to whatever X-Forwarded-For the caller sent."""
    return {
        **FORM,
        "X-Forwarded-For": ", ".join([*([forged_for] if forged_for else []), client]),
        **({"X-Forwarded-Host": forged_host} if forged_host else {}),
        # CSRF's origin check passes when Origin names the host Django believes in.
        "Origin": f"https://{origin or forged_host or events.API_HOST}",
    }


def api_gateway(body, *, client, forged_for=None, forged_host=SITE, origin=None):
    """API Gateway called by its own URL."""
    headers = _direct_headers(client, forged_for, forged_host, origin)
    event = events.rest_api("POST", LOGIN, headers=headers, body=body)
    event["requestContext"]["identity"]["sourceIp"] = client
    return event


def function_url(body, *, client, forged_for=None, forged_host=SITE, origin=None):
    headers = _direct_headers(client, forged_for, forged_host, origin)
    event = events.function_url(
        "POST", LOGIN, headers=headers, cookies=[f"csrftoken={TOKEN}"], body=body
    )
    event["requestContext"]["http"]["sourceIp"] = client
    return event


def load_balancer(body, *, client, forged_for=None, forged_host=SITE, origin=None):
    headers = _direct_headers(client, forged_for, forged_host, origin)
    return events.alb("POST", LOGIN, headers=headers, body=body)


DIRECT = {"api-gateway": api_gateway, "function-url": function_url, "alb": load_balancer}


@pytest.fixture
def users():
    UserFactory(username="ed", password="right-password", is_staff=True)
    UserFactory(username="colleague", password="their-password", is_staff=True)


@pytest.fixture
def production_shape(lambda_handler, settings, users):
    """Staging and production as their settings have them (production.py defaults)."""
    settings.ORIGIN_VERIFY_REQUIRED = True
    settings.ORIGIN_VERIFY_SECRETS = [SECRET, OLD_SECRET]
    settings.TRUSTED_PROXY_COUNT = 2
    settings.USE_X_FORWARDED_HOST = True
    settings.ALLOWED_HOSTS = [SITE]
    settings.CSRF_TRUSTED_ORIGINS = [f"https://{SITE}"]
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_USERNAME_FAILURE_LIMIT = 20
    # The static files storage takes its base URL from the request that first builds it:
    # after an earlier test's request under the dev stage's /dev prefix, every static link
    # would keep it. (Production builds it behind CloudFront, where no prefix is left.)
    # Setting STATIC_URL builds it afresh.
    settings.STATIC_URL = "static/"
    return lambda_handler


@pytest.fixture
def dev_shape(lambda_handler, settings, users):
    """A stage served by a regional API Gateway alone, as production settings allow
    (ORIGIN_VERIFY_REQUIRED, USE_X_FORWARDED_HOST off, TRUSTED_PROXY_COUNT 1). Every stage
    of ours now has its own distribution (infra/), dev too; a fork without one has this."""
    for name in ("ORIGIN_VERIFY_REQUIRED", "TRUSTED_PROXY_COUNT", "USE_X_FORWARDED_HOST"):
        # Not in the committed settings: the stages keep production's CloudFront defaults.
        assert name not in stage_config("dev")["aws_environment_variables"]
    settings.ORIGIN_VERIFY_REQUIRED = False
    settings.TRUSTED_PROXY_COUNT = 1
    settings.USE_X_FORWARDED_HOST = False
    settings.ALLOWED_HOSTS = [".execute-api.eu-west-1.amazonaws.com"]
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_USERNAME_FAILURE_LIMIT = 20
    return lambda_handler


def review_attack(handler, door):
    """Finding 3: a forged host and a new forged address on every try, 12 wrong
    passwords, then the right one."""
    responses = [
        handler(door(login_body("ed", "wrong"), client="198.51.100.9", forged_for=f"10.0.0.{n}"))
        for n in range(12)
    ]
    right = handler(
        door(login_body("ed", "right-password"), client="198.51.100.9", forged_for="10.0.1.1")
    )
    return responses, right


@pytest.mark.parametrize("door", DIRECT.values(), ids=DIRECT.keys())
def test_the_reviewed_attack_is_refused_at_every_door_but_cloudfront(production_shape, door):
    responses, right = review_attack(production_shape, door)
    assert {r["statusCode"] for r in responses} == {403}
    assert right["statusCode"] == 403
    assert not signed_in(right)
    assert not AccessAttempt.objects.exists()  # nothing got as far as a sign-in


@pytest.mark.parametrize("door", DIRECT.values(), ids=DIRECT.keys())
def test_without_the_origin_check_that_attack_would_sign_in(production_shape, settings, door):
    """The check above is what stops it: turned off, the forged headers get through."""
    settings.ORIGIN_VERIFY_REQUIRED = False
    _, right = review_attack(production_shape, door)
    assert signed_in(right)


def test_a_wrong_secret_is_refused_and_the_previous_one_still_accepted(production_shape):
    wrong = via_cloudfront(
        login_body("ed", "right-password"), client="198.51.100.9", secret="x" * 45
    )
    assert production_shape(wrong)["statusCode"] == 403
    rotated = via_cloudfront(
        login_body("ed", "right-password"), client="198.51.100.9", secret=OLD_SECRET
    )
    assert signed_in(production_shape(rotated))


def test_through_cloudfront_forged_entries_do_not_escape_the_address_lockout(production_shape):
    statuses = [
        production_shape(
            via_cloudfront(
                login_body("ed", "wrong"),
                client="198.51.100.9",
                forged_for=f"10.0.0.{n}, 192.0.2.{n}",
            )
        )["statusCode"]
        for n in range(12)
    ]
    assert statuses == [200] * 4 + [429] * 8
    right = production_shape(
        via_cloudfront(
            login_body("ed", "right-password"), client="198.51.100.9", forged_for="203.0.113.99"
        )
    )
    assert right["statusCode"] == 429
    assert not signed_in(right)


def test_a_lockout_through_cloudfront_is_in_the_audit_log_with_the_real_address(
    production_shape,
):
    for n in range(12):
        production_shape(
            via_cloudfront(
                login_body("ed", "wrong-guess-1234"),
                client="198.51.100.9",
                forged_for=f"10.0.0.{n}",
            )
        )
    (lockout,) = AuditEvent.objects.filter(action=AuditEvent.Action.LOCKOUT)
    assert lockout.details["username"] == "ed"
    assert lockout.details["ip_address"] == "198.51.100.9"  # not a forged entry
    assert "wrong-guess-1234" not in str(lockout.details) + lockout.message


def test_through_cloudfront_the_user_elsewhere_still_signs_in(production_shape):
    for _ in range(6):
        production_shape(via_cloudfront(login_body("ed", "wrong"), client="198.51.100.9"))
    elsewhere = production_shape(
        via_cloudfront(login_body("ed", "right-password"), client="192.0.2.77")
    )
    assert signed_in(elsewhere)


def spread_attack(handler, tries):
    """Two wrong passwords for ed from each of many addresses: under the address limit."""
    for n in range(tries):
        client = f"198.51.{100 + n // 2}.{n % 2 + 1}"
        assert handler(via_cloudfront(login_body("ed", "wrong"), client=client))["statusCode"] in (
            200,
            429,
        )


def test_one_username_tried_from_many_addresses_is_locked_out(production_shape):
    spread_attack(production_shape, 20)
    owner = production_shape(
        via_cloudfront(login_body("ed", "right-password"), client="192.0.2.77")
    )
    assert owner["statusCode"] == 429  # the owner too, until the cool-off: the trade
    colleague = production_shape(
        via_cloudfront(login_body("colleague", "their-password"), client="198.51.100.1")
    )
    assert signed_in(colleague)  # another user, even from an attacking address


def test_below_the_username_limit_its_owner_still_signs_in(production_shape):
    spread_attack(production_shape, 19)
    owner = production_shape(
        via_cloudfront(login_body("ed", "right-password"), client="192.0.2.77")
    )
    assert signed_in(owner)


def test_dev_locks_out_the_address_api_gateway_saw(dev_shape):
    statuses = [
        dev_shape(
            api_gateway(
                login_body("ed", "wrong"),
                client="198.51.100.9",
                forged_for=f"10.0.0.{n}",
                forged_host=SITE,
                origin=events.API_HOST,
            )
        )["statusCode"]
        for n in range(12)
    ]
    assert statuses == [200] * 4 + [429] * 8
    right = dev_shape(
        api_gateway(
            login_body("ed", "right-password"),
            client="198.51.100.9",
            forged_for="10.0.1.1",
            forged_host=None,
        )
    )
    assert right["statusCode"] == 429
    elsewhere = dev_shape(
        api_gateway(login_body("ed", "right-password"), client="192.0.2.77", forged_host=None)
    )
    assert signed_in(elsewhere)


def test_dev_ignores_a_forged_forwarded_host(dev_shape):
    """The Host API Gateway received decides (a forged one would be refused, 400)."""
    event = events.rest_api("GET", LOGIN, headers={"X-Forwarded-Host": "evil.example"})
    assert dev_shape(event)["statusCode"] == 200


def test_the_refusal_comes_before_the_host_is_read(production_shape):
    event = events.rest_api("GET", "/", headers={"Host": "not-allowed.example"})
    response = production_shape(event)
    assert response["statusCode"] == 403  # not the 400 of a disallowed host
    assert response["body"] == "Forbidden\n"
    assert response["headers"]["Cache-Control"] == "no-store"


def test_through_cloudfront_links_name_the_site_not_the_api_stage(production_shape):
    """CloudFront calls API Gateway by its own host, which makes Zappa prefix the stage
    (SCRIPT_NAME=/<stage>); the visitor is at the site's root, so links must be too."""
    from tests.factories import ArticleFactory

    ArticleFactory(slug="hello")
    page = production_shape(
        events.cloudfront_rest_api("GET", "/", origin_secret=SECRET, stage="production")
    )
    assert page["statusCode"] == 200
    html = page["body"]
    assert 'href="/articles/hello/"' in html
    # Zappa's prefix is the stage it was deployed as (dev, in this suite's settings).
    assert 'href="/dev/' not in html
    signed = production_shape(via_cloudfront(login_body("ed", "right-password"), client="1.2.3.4"))
    assert signed["statusCode"] == 302
    location = (signed.get("headers") or {}).get("Location") or signed["multiValueHeaders"][
        "Location"
    ][0]
    assert location == "/admin/"
