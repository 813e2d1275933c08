"""cms.middleware.CloudFrontOriginMiddleware: what it lets through, and what the rest of
the stack (views, error reports, logs) is left able to see of its secret."""

import pytest
from django.test import RequestFactory

from cms.middleware import CloudFrontOriginMiddleware

CURRENT = "current-origin-secret-0123456789abcdefghij"
PREVIOUS = "previous-origin-secret-9876543210zyxwvuts"


@pytest.fixture
def required(settings):
    settings.ORIGIN_VERIFY_REQUIRED = True
    settings.ORIGIN_VERIFY_SECRETS = [CURRENT, PREVIOUS]


def through(request):
    """Run the middleware; returns its response and the request the next layer got."""
    seen = {}

    def downstream(request):
        from django.http import HttpResponse

        seen["meta"] = dict(request.META)
        return HttpResponse("ok")

    return CloudFrontOriginMiddleware(downstream)(request), seen.get("meta")


def lambda_request(secret):
    """A request as Zappa builds it: the header in META, and the raw event beside it."""
    event = {
        "headers": {"Host": "www.example.com", "X-Origin-Verify": secret},
        "multiValueHeaders": {"Host": ["www.example.com"], "x-origin-verify": [secret]},
    }
    return RequestFactory().get("/", HTTP_X_ORIGIN_VERIFY=secret, **{"lambda.event": event})


@pytest.mark.parametrize("secret", [CURRENT, PREVIOUS], ids=["current", "previous"])
def test_either_secret_of_a_rotation_is_accepted(required, secret):
    response, _ = through(lambda_request(secret))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "secret",
    ["", CURRENT[:-1], CURRENT + "x", f"{CURRENT}, {PREVIOUS}", CURRENT.upper(), "é" * 40],
    ids=["empty", "prefix", "longer", "both-joined", "case", "non-ascii"],
)
def test_anything_else_is_a_bare_403(required, secret):
    response, seen = through(lambda_request(secret))
    assert (response.status_code, response.content) == (403, b"Forbidden\n")
    assert response["Cache-Control"] == "no-store"
    assert seen is None


def test_a_request_without_the_header_is_refused_and_logged_without_values(required, caplog):
    response, _ = through(RequestFactory().get("/admin/login/"))
    assert response.status_code == 403
    assert "missing origin header" in caplog.text


def test_the_secret_never_reaches_the_next_layer(required, caplog):
    request = lambda_request(CURRENT)
    response, seen = through(request)
    assert response.status_code == 200
    assert "HTTP_X_ORIGIN_VERIFY" not in seen
    event = seen["lambda.event"]
    assert CURRENT not in repr(event)
    assert event["headers"] == {"Host": "www.example.com"}  # the rest is untouched
    assert CURRENT not in caplog.text


def test_off_it_refuses_nothing_and_still_drops_the_header(settings):
    settings.ORIGIN_VERIFY_REQUIRED = False
    response, seen = through(lambda_request("anything"))
    assert response.status_code == 200
    assert "HTTP_X_ORIGIN_VERIFY" not in seen


def test_it_is_the_first_middleware(settings):
    # Only the access log (cms.logs) is outside it, and that reads no header, host or
    # client address: the method and path alone.
    assert settings.MIDDLEWARE[:2] == [
        "cms.middleware.RequestLogMiddleware",
        "cms.middleware.CloudFrontOriginMiddleware",
    ]


def test_the_callers_event_is_left_alone_so_a_replayed_one_is_still_served(required):
    request = lambda_request(CURRENT)
    original = request.META["lambda.event"]
    response, seen = through(request)
    assert response.status_code == 200
    assert CURRENT not in repr(seen["lambda.event"])
    assert original["headers"]["X-Origin-Verify"] == CURRENT
