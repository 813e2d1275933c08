"""/api/v1/ lists the endpoints; /api/v1/docs/ is Swagger UI over the OpenAPI document,
from the site's own static files (no CDN) and without inline script or style."""

import re

import pytest
from django.contrib.staticfiles import finders


@pytest.mark.django_db
def test_the_index_lists_every_endpoint_and_the_docs(client, settings):
    settings.SITE_URL = "http://127.0.0.1:8123"
    response = client.get("/api/v1/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    base = "http://127.0.0.1:8123/api/v1/"
    assert body["endpoints"] == {
        name: f"{base}{name}/" for name in ("articles", "pages", "categories", "tags", "images")
    }
    assert body["openapi"] == f"{base}openapi.json"
    assert body["docs"] == f"{base}docs/"
    for link in (*body["endpoints"].values(), body["openapi"], body["docs"]):
        assert client.get(link.removeprefix("http://127.0.0.1:8123")).status_code == 200


@pytest.mark.django_db
def test_the_docs_page_uses_local_files_and_no_inline_code(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-schema-url="/api/v1/openapi.json"' in html
    sources = re.findall(r'<(?:script|link)[^>]+(?:src|href)="([^"]+)"', html)
    assert sources, html
    for source in sources:
        assert source.startswith("/"), f"{source} is not served by the site"
        assert finders.find(source.removeprefix("/static/")), source
    # Every <script> has a src (the policy allows no inline script), and no inline style.
    assert len(re.findall(r"<script\b", html)) == len(re.findall(r"<script\b[^>]*\bsrc=", html))
    assert "<style" not in html
    assert "style=" not in html
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.django_db
def test_the_docs_are_not_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/docs/" not in paths
    assert "/api/v1/" not in paths
