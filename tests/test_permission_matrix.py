"""Every admin address, for each role: who gets the page, who is refused, who must sign in.

Rows are (address, expected status for anonymous, Editor, Publisher, superuser). 302 for
anonymous is the sign-in redirect; 200 for an Editor on someone else's article is the
read-only view.
"""

import pytest
from django.contrib.auth.models import Group
from django.contrib.redirects.models import Redirect
from django.test import Client

from cms.models import CdnPurge, TaskRun
from sitecontent import revisions
from sitecontent.models import Upload
from tests.factories import (
    ArticleFactory,
    CategoryFactory,
    DocumentFactory,
    ImageFactory,
    PageFactory,
    TagFactory,
    UserFactory,
    editor,
    publisher,
)

ROLES = ("anonymous", "editor", "publisher", "superuser")


@pytest.fixture
def world(db):
    someone = UserFactory(username="someone")
    article = ArticleFactory(author=someone)
    page = PageFactory(owner=someone)
    first, second = (revisions.record(item=article, user=someone) for _ in range(2))
    users = {
        "editor": editor(username="role-editor"),
        "publisher": publisher(username="role-publisher"),
        "superuser": UserFactory(username="role-admin", is_superuser=True),
    }
    return {
        "article": article,
        "page": page,
        "revisions": (first, second),
        "category": CategoryFactory(),
        "tag": TagFactory(),
        "image": ImageFactory(),
        "document": DocumentFactory(),
        "someone": someone,
        "group": Group.objects.first(),
        "upload": Upload.objects.create(
            kind="image",
            filename="x.jpg",
            content_type="image/jpeg",
            max_size=1,
            key="uploads/x/x.jpg",
            expires_at="2030-01-01T00:00Z",
            uploaded_by=someone,
        ),
        "taskrun": TaskRun.objects.create(
            id="t1", task_path="cms.tasks.purge_cdn_paths", backend="x"
        ),
        "purge": CdnPurge.objects.create(paths=["/"], backend="x", reference="r"),
        "redirect": Redirect.objects.create(site_id=1, old_path="/a/", new_path="/b/"),
        "users": users,
    }


def _model_rows(model, key, *, delete=(302, 403, 200, 200), extra=()):
    base = f"/admin/sitecontent/{model}/"
    return [
        (f"{model} list", lambda w: base, (302, 200, 200, 200)),
        (f"{model} add", lambda w: f"{base}add/", (302, 200, 200, 200)),
        (f"{model} change", lambda w: f"{base}{w[key].pk}/change/", (302, 200, 200, 200)),
        (f"{model} delete", lambda w: f"{base}{w[key].pk}/delete/", delete),
        (f"{model} history", lambda w: f"{base}{w[key].pk}/history/", (302, 200, 200, 200)),
        *extra,
    ]


def _revision_rows(model, key):
    base = f"/admin/sitecontent/{model}/"
    return [
        (f"{model} revisions", lambda w: f"{base}{w[key].pk}/revisions/", (302, 200, 200, 200)),
        (f"{model} preview link", lambda w: f"{base}{w[key].pk}/preview/", (302, 200, 200, 200)),
    ]


ROWS = [
    ("admin home", lambda w: "/admin/", (302, 200, 200, 200)),
    *_model_rows(
        "article",
        "article",
        extra=[
            *_revision_rows("article", "article"),
            (
                "article compare",
                lambda w: "/admin/sitecontent/article/{}/revisions/compare/?a={}&b={}".format(
                    w["article"].pk, *(r.pk for r in w["revisions"])
                ),
                (302, 200, 200, 200),
            ),
        ],
    ),
    *_model_rows("page", "page", extra=_revision_rows("page", "page")),
    *_model_rows(
        "image",
        "image",
        extra=[
            ("image picker", lambda w: "/admin/sitecontent/image/picker/", (302, 200, 200, 200)),
        ],
    ),
    *_model_rows("document", "document"),
    *_model_rows("category", "category"),
    *_model_rows("tag", "tag"),
    ("upload list", lambda w: "/admin/sitecontent/upload/", (302, 200, 200, 200)),
    ("upload add", lambda w: "/admin/sitecontent/upload/add/", (302, 403, 403, 403)),
    ("upload sign (GET)", lambda w: "/admin/sitecontent/upload/sign/", (302, 405, 405, 405)),
    (
        "someone's upload status",
        lambda w: f"/admin/sitecontent/upload/{w['upload'].pk}/status/",
        (302, 404, 404, 200),
    ),
    ("user list", lambda w: "/admin/sitecontent/user/", (302, 403, 403, 200)),
    ("user add", lambda w: "/admin/sitecontent/user/add/", (302, 403, 403, 200)),
    (
        "someone else's account",
        lambda w: f"/admin/sitecontent/user/{w['someone'].pk}/change/",
        (302, 403, 403, 200),
    ),
    ("group list", lambda w: "/admin/auth/group/", (302, 403, 403, 200)),
    ("group change", lambda w: f"/admin/auth/group/{w['group'].pk}/change/", (302, 403, 403, 200)),
    ("task runs", lambda w: "/admin/cms/taskrun/", (302, 403, 200, 200)),
    ("task run", lambda w: f"/admin/cms/taskrun/{w['taskrun'].pk}/change/", (302, 403, 200, 200)),
    ("task run add", lambda w: "/admin/cms/taskrun/add/", (302, 403, 403, 403)),
    ("CDN purges", lambda w: "/admin/cms/cdnpurge/", (302, 403, 200, 200)),
    ("redirects", lambda w: "/admin/redirects/redirect/", (302, 200, 200, 200)),
    (
        "redirect change",
        lambda w: f"/admin/redirects/redirect/{w['redirect'].pk}/change/",
        (302, 200, 200, 200),
    ),
    ("operations panel", lambda w: "/admin/operations/", (302, 403, 200, 200)),
]

CASES = [
    (label, build, role, expected[i])
    for label, build, expected in ROWS
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(
    ("label", "build", "role", "expected"),
    CASES,
    ids=[f"{label}|{role}" for label, _, role, _ in CASES],
)
def test_admin_address_answers_each_role_as_expected(world, label, build, role, expected):
    browser = Client()
    if role != "anonymous":
        browser.force_login(world["users"][role])
    response = browser.get(build(world))
    assert response.status_code == expected, f"{label} as {role}"
    if role == "anonymous":
        assert response["Location"].startswith("/admin/login/")


@pytest.mark.parametrize(
    ("label", "post"),
    [
        (
            "delete someone's article",
            lambda w: (f"/admin/sitecontent/article/{w['article'].pk}/delete/", {"post": "yes"}),
        ),
        (
            "delete an image",
            lambda w: (f"/admin/sitecontent/image/{w['image'].pk}/delete/", {"post": "yes"}),
        ),
        (
            "change someone's article",
            lambda w: (f"/admin/sitecontent/article/{w['article'].pk}/change/", {"title": "x"}),
        ),
        (
            "change someone's page",
            lambda w: (f"/admin/sitecontent/page/{w['page'].pk}/change/", {"title": "x"}),
        ),
        (
            "promote themselves",
            lambda w: (
                f"/admin/sitecontent/user/{w['someone'].pk}/change/",
                {"is_superuser": "on"},
            ),
        ),
        ("create a group", lambda w: ("/admin/auth/group/add/", {"name": "Mine"})),
        ("retry a task", lambda w: (f"/admin/operations/tasks/{w['taskrun'].pk}/retry/", {})),
        (
            "restore a revision of someone's article",
            lambda w: (
                f"/admin/sitecontent/article/{w['article'].pk}/revisions/{w['revisions'][0].pk}/restore/",
                {},
            ),
        ),
    ],
)
def test_forged_editor_posts_are_refused_and_change_nothing(world, label, post):
    from sitecontent.models import Article, Image, Page, User

    before = (
        Article.objects.get().title,
        Page.objects.get().title,
        Image.objects.count(),
        Group.objects.count(),
        User.objects.filter(is_superuser=True).count(),
        TaskRun.objects.count(),
        len(list(revisions.Revision.objects.all())),
    )
    browser = Client()
    browser.force_login(world["users"]["editor"])
    url, data = post(world)
    response = browser.post(url, data)
    assert response.status_code == 403, label
    after = (
        Article.objects.get().title,
        Page.objects.get().title,
        Image.objects.count(),
        Group.objects.count(),
        User.objects.filter(is_superuser=True).count(),
        TaskRun.objects.count(),
        len(list(revisions.Revision.objects.all())),
    )
    assert after == before
