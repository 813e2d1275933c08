from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from sitecontent.models import Article, Category, Image, Page, Status, Tag, User

pytestmark = pytest.mark.django_db


def seed(settings, **kwargs):
    settings.DEBUG = True
    out = StringIO()
    call_command("seed_demo", stdout=out, **kwargs)
    return out.getvalue()


def counts():
    return [m.objects.count() for m in (Article, Page, Image, Category, Tag, User)]


def test_seeds_every_publication_state_and_a_live_site(settings, client):
    seed(settings)
    states = {a.status for a in Article.objects.all()}
    assert states == {Status.DRAFT, Status.SCHEDULED, Status.PUBLISHED, Status.EXPIRED}
    assert Article.objects.live().count() >= 4
    assert all(image.width and image.height for image in Image.objects.all())
    for url in ("/", "/articles/", "/articles/welcome/", "/categories/news/", "/about/team/"):
        assert client.get(url).status_code == 200, url


def test_running_twice_adds_nothing_and_keeps_edits(settings):
    first = seed(settings)
    Article.objects.filter(slug="welcome").update(title="Edited by an editor")
    before = counts()
    second = seed(settings)
    assert counts() == before
    assert Article.objects.get(slug="welcome").title == "Edited by an editor"
    assert "0 rows created" in second
    assert "password" in first
    assert "already exists" in second


def test_prints_random_passwords_that_work_and_differ_per_run(settings, client):
    out = seed(settings)
    passwords = dict(line.split()[0:3:2] for line in out.splitlines() if " password " in line)
    assert set(passwords) == {"admin", "editor", "publisher"}
    assert len(set(passwords.values())) == 3
    response = client.post("/admin/login/", {"username": "editor", "password": passwords["editor"]})
    assert response.status_code == 302  # signed in
    assert User.objects.get(username="editor").groups.filter(name="Editors").exists()


def test_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("seed_demo", stdout=StringIO())
    assert counts() == [0, 0, 0, 0, 0, 0]


def test_content_only_makes_the_site_without_any_sign_in_or_password(settings, client):
    settings.DEBUG = False  # as on a branch stage: make deploy runs it with --force
    out = StringIO()
    call_command("seed_demo", "--force", "--content-only", stdout=out)
    printed = out.getvalue()
    assert "password" not in printed.lower()
    assert "No sign-in was created" in printed
    # One user, the system author, who cannot sign in by any way.
    [author] = User.objects.all()
    assert (author.username, author.is_active, author.is_staff, author.is_superuser) == (
        "demo-content",
        False,
        False,
        False,
    )
    assert not author.has_usable_password()
    assert set(Article.objects.values_list("author", flat=True)) == {author.pk}
    assert set(Image.objects.values_list("uploaded_by", flat=True)) == {None}
    states = {a.status for a in Article.objects.all()}
    assert states == {Status.DRAFT, Status.SCHEDULED, Status.PUBLISHED, Status.EXPIRED}
    for url in ("/", "/articles/", "/articles/welcome/", "/categories/news/", "/about/team/"):
        assert client.get(url).status_code == 200, url
    assert "Demo author" in client.get("/articles/welcome/").content.decode()
    for username in ("demo-content", "admin", "editor"):
        response = client.post("/admin/login/", {"username": username, "password": ""})
        assert response.status_code == 200  # the form again: not signed in
    # Idempotent like the full seed.
    before = counts()
    again = StringIO()
    call_command("seed_demo", "--force", "--content-only", stdout=again)
    assert counts() == before
    assert "0 rows created" in again.getvalue()


def test_content_only_still_needs_debug_or_force(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", "--content-only", stdout=StringIO())
    assert counts() == [0, 0, 0, 0, 0, 0]
