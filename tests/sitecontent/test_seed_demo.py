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
