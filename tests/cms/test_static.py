import json

import pytest
from django.core.management import call_command
from django.test import Client


@pytest.fixture
def collected(tmp_path, settings):
    """Collect static files the way a production build does."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", interactive=False, verbosity=0)
    return tmp_path, json.loads((tmp_path / "staticfiles.json").read_text())["paths"]


def test_stylesheet_is_collected_with_a_hashed_compressed_name(collected):
    root, paths = collected
    hashed = paths["css/site.css"]
    assert hashed != "css/site.css"
    assert hashed.startswith("css/site.")
    assert (root / hashed).exists()
    assert (root / f"{hashed}.gz").exists()


@pytest.mark.django_db
def test_pages_link_hashed_names_which_whitenoise_serves_for_a_year(collected):
    _, paths = collected
    client = Client()  # a fresh client builds its middleware with the new STATIC_ROOT
    html = client.get("/").content.decode()
    assert f'href="/static/{paths["css/site.css"]}"' in html
    response = client.get(f"/static/{paths['css/site.css']}", HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200
    assert response["Content-Encoding"] == "gzip"
    assert "immutable" in response["Cache-Control"]


@pytest.mark.django_db
def test_public_pages_may_load_assets_only_from_this_site(client):
    response = client.get("/")
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert policy["style-src"].split()[0] == "'self'"
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert all(src.startswith("'sha256-") for src in policy["style-src"].split()[1:])
    assert policy["frame-ancestors"] == "'none'"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
def test_pages_are_served_without_scanning_the_static_files(collected, monkeypatch):
    from whitenoise.middleware import WhiteNoiseMiddleware

    scans = []
    real_add_files = WhiteNoiseMiddleware.add_files

    def counting_add_files(self, *args, **kwargs):
        scans.append(args)
        return real_add_files(self, *args, **kwargs)

    monkeypatch.setattr(WhiteNoiseMiddleware, "add_files", counting_add_files)
    client = Client()
    assert client.get("/").status_code == 200
    assert client.get("/articles/").status_code == 200
    assert scans == []
    _, paths = collected
    assert client.get(f"/static/{paths['css/site.css']}").status_code == 200
    assert client.get(f"/static/{paths['css/site.css']}").status_code == 200
    assert len(scans) == 1  # once, on the first static request
