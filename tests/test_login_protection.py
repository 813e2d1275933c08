"""Brute-force protection on the admin sign-in, behind API Gateway (and CloudFront):
the client address comes from the proxies' X-Forwarded-For entries, not the forgeable
left part. Requests go through Zappa's handler as API Gateway events."""

import re
from urllib.parse import urlencode

import pytest

from tests import events
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def sign_in(lambda_handler, settings):
    settings.TRUSTED_PROXY_COUNT = 2  # CloudFront, then API Gateway
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="ed", password="right-password")

    def attempt(password, forwarded_for):
        form = lambda_handler(events.rest_api("GET", "/admin/login/"))
        cookie = next(
            c for c in form["multiValueHeaders"]["Set-Cookie"] if c.startswith("csrftoken")
        )
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form["body"])[1]
        response = lambda_handler(
            events.rest_api(
                "POST",
                "/admin/login/",
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Cookie": cookie.split(";")[0],
                    "Origin": f"https://{events.API_HOST}",
                    "X-Forwarded-For": forwarded_for,
                },
                body=urlencode(
                    {"csrfmiddlewaretoken": token, "username": "ed", "password": password}
                ),
            )
        )
        return response["statusCode"]

    return attempt


# What Lambda sees: the client's own (forgeable) entries, then the address CloudFront
# received the request from, then the CloudFront edge as API Gateway saw it.
ATTACKER = "198.51.100.9, 130.176.0.10"
SPOOFING_ATTACKER = "203.0.113.50, 198.51.100.9, 130.176.0.11"
COLLEAGUE = "192.0.2.77, 130.176.0.10"


def test_repeated_wrong_passwords_lock_out_the_address_for_that_user(sign_in):
    assert [sign_in("wrong", ATTACKER) for _ in range(3)] == [200, 200, 429]
    assert sign_in("right-password", ATTACKER) == 429  # even the right one, for now


def test_forged_forwarded_for_entries_do_not_escape_the_lockout(sign_in):
    for _ in range(3):
        sign_in("wrong", ATTACKER)
    assert sign_in("right-password", SPOOFING_ATTACKER) == 429


def test_someone_else_behind_the_same_edge_can_still_sign_in(sign_in):
    for _ in range(3):
        sign_in("wrong", ATTACKER)
    assert sign_in("right-password", COLLEAGUE) == 302
