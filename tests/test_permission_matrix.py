"""Every admin address, for each role: who gets the page, who is refused, who must sign in.

Rows are (address, expected status for anonymous, Editor, Publisher, superuser). 302 for
anonymous is the sign-in redirect; 200 for an Editor on someone else's article is the
read-only view.
"""

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.redirects.models import Redirect
from django.contrib.sites.models import Site
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from cms.models import CdnPurge, TaskRun
from sitecontent.models import AuditEvent, Collection, ReviewRequest, Upload
from sitecontent.publishing import revisions
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
    first, second = (revisions.revision_create(item=article, user=someone) for _ in range(2))
    page_revisions = tuple(revisions.revision_create(item=page, user=someone) for _ in range(2))
    users = {
        "editor": editor(username="role-editor"),
        "publisher": publisher(username="role-publisher"),
        "superuser": UserFactory(username="role-admin", is_superuser=True),
    }
    return {
        "article": article,
        "page": page,
        "revisions": (first, second),
        "page_revisions": page_revisions,
        "article_type": ContentType.objects.get_for_model(article),
        "audit_event": AuditEvent.objects.record(AuditEvent.Action.EDIT, item=article),
        "attempt": AccessAttempt.objects.create(
            username="x", ip_address="192.0.2.1", failures_since_start=1
        ),
        "access_log": AccessLog.objects.create(username="x", ip_address="192.0.2.1"),
        "failure_log": AccessFailureLog.objects.create(username="x", ip_address="192.0.2.1"),
        "category": CategoryFactory(),
        "tag": TagFactory(),
        "image": ImageFactory(),
        "document": DocumentFactory(),
        "collection": Collection.objects.create(name="Sport"),
        "someone": someone,
        "group": Group.objects.first(),
        "upload": Upload.objects.create(
            kind="image",
            filename="x.jpg",
            content_type="image/jpeg",
            size=1,
            key="uploads/x/x.jpg",
            expires_at="2030-01-01T00:00Z",
            uploaded_by=someone,
        ),
        "taskrun": TaskRun.objects.create(
            id="t1", task_path="cms.tasks.purge_cdn_paths", backend="x"
        ),
        "purge": CdnPurge.objects.create(paths=["/"], backend="x", reference="r"),
        "redirect": Redirect.objects.create(site_id=1, old_path="/a/", new_path="/b/"),
        "offsite_redirect": Redirect.objects.create(
            site_id=1, old_path="/partner/", new_path="https://partner.example/"
        ),
        "site": Site.objects.get(pk=1),
        "users": users,
        # Someone's submissions awaiting review (sitecontent.publishing.review).
        "article_review": ReviewRequest.objects.create(
            content_type=ContentType.objects.get_for_model(article),
            object_id=article.pk,
            revision=second,
            submitted_by=someone,
        ),
        "page_review": ReviewRequest.objects.create(
            content_type=ContentType.objects.get_for_model(page),
            object_id=page.pk,
            revision=page_revisions[1],
            submitted_by=someone,
        ),
    }


EVERYONE = (302, 200, 200, 200)
SUPERUSER_ONLY = (302, 403, 403, 200)
NOBODY = (302, 403, 403, 403)  # records the system writes; the admin only shows them


def _model_rows(model, key, *, delete=(302, 403, 200, 200), extra=(), app="sitecontent", **kw):
    """The five addresses every registered model has, with the statuses for each."""
    base = f"/admin/{app}/{model}/"
    expected = {
        "list": EVERYONE,
        "add": EVERYONE,
        "change": EVERYONE,
        "delete": delete,
        "history": EVERYONE,
        **kw,
    }
    return [
        (f"{model} list", lambda w: base, expected["list"]),
        (f"{model} add", lambda w: f"{base}add/", expected["add"]),
        (f"{model} change", lambda w: f"{base}{w[key].pk}/change/", expected["change"]),
        (f"{model} delete", lambda w: f"{base}{w[key].pk}/delete/", expected["delete"]),
        (f"{model} history", lambda w: f"{base}{w[key].pk}/history/", expected["history"]),
        *extra,
    ]


def _superuser_only_rows(app, model, key, *, add=SUPERUSER_ONLY):
    return _model_rows(
        model,
        key,
        app=app,
        list=SUPERUSER_ONLY,
        add=add,
        change=SUPERUSER_ONLY,
        delete=SUPERUSER_ONLY,
        history=SUPERUSER_ONLY,
    )


def _operations_record_rows(model, key):
    """Task runs and purges: staff read them, nobody adds one, superusers delete."""
    staff = (302, 403, 200, 200)
    return _model_rows(
        model,
        key,
        app="cms",
        list=staff,
        add=NOBODY,
        change=staff,
        delete=SUPERUSER_ONLY,
        history=staff,
    )


def _revision_rows(model, key):
    base = f"/admin/sitecontent/{model}/"
    return [
        (f"{model} revisions", lambda w: f"{base}{w[key].pk}/revisions/", (302, 200, 200, 200)),
        (f"{model} preview link", lambda w: f"{base}{w[key].pk}/preview/", (302, 200, 200, 200)),
        # Anyone who may see the item sees its review; deciding is a POST (forgeries below).
        (
            f"{model} review",
            lambda w: f"{base}{w[key].pk}/review/{w[f'{key}_review'].pk}/",
            (302, 200, 200, 200),
        ),
        (
            f"{model} submit for review (GET)",
            lambda w: f"{base}{w[key].pk}/review/submit/",
            (302, 405, 405, 405),
        ),
    ]


def _live_preview_rows(model, key):
    """The live preview: its endpoint takes POSTs only (JSON errors, even signed out); its
    framed rendering is for whoever may change the item (Editors: their own)."""
    base = f"/admin/sitecontent/{model}/"
    return [
        (f"{model} live preview (GET)", lambda w: f"{base}live-preview/", (403, 405, 405, 405)),
        (
            f"{model} live preview of someone's (GET)",
            lambda w: f"{base}{w[key].pk}/live-preview/",
            (403, 405, 405, 405),
        ),
        (f"{model} live preview frame", lambda w: f"{base}live-preview/frame/", EVERYONE),
        (
            f"{model} live preview frame of someone's",
            lambda w: f"{base}{w[key].pk}/live-preview/frame/",
            (302, 403, 200, 200),
        ),
    ]


def _editing_rows(model, key, *, add=True):
    """The editing session's JSON endpoints (sitecontent.admin.editing): signed out is a
    JSON 401, not the sign-in redirect; the heartbeat takes POST only; an autosave GET
    is 404 while there is none, 403 to who may not change the item (Editors: not theirs)."""
    base = f"/admin/sitecontent/{model}/"
    rows = [
        (
            f"{model} heartbeat (GET)",
            lambda w: f"{base}{w[key].pk}/editing/heartbeat/",
            (401, 405, 405, 405),
        ),
        (
            f"{model} autosave",
            lambda w: f"{base}{w[key].pk}/editing/autosave/",
            (401, 403, 404, 404),
        ),
    ]
    if add:
        rows.append(
            (
                f"{model} add autosave",
                lambda w: f"{base}add/editing/autosave/",
                (401, 404, 404, 404),
            )
        )
    return rows


ROWS = [
    ("admin home", lambda w: "/admin/", (302, 200, 200, 200)),
    *_model_rows(
        "article",
        "article",
        extra=[
            *_revision_rows("article", "article"),
            *_live_preview_rows("article", "article"),
            *_editing_rows("article", "article"),
            (
                "article compare",
                lambda w: "/admin/sitecontent/article/{}/revisions/compare/?a={}&b={}".format(
                    w["article"].pk, *(r.pk for r in w["revisions"])
                ),
                (302, 200, 200, 200),
            ),
        ],
    ),
    *_model_rows(
        "page",
        "page",
        extra=[
            *_revision_rows("page", "page"),
            *_live_preview_rows("page", "page"),
            *_editing_rows("page", "page"),
        ],
    ),
    # The page tree: everyone reads it; moving and reordering are POSTs (forged below).
    ("page tree", lambda w: "/admin/sitecontent/page/tree/", EVERYONE),
    (
        "page tree move chooser",
        lambda w: f"/admin/sitecontent/page/tree/{w['page'].pk}/move/",
        EVERYONE,
    ),
    ("page tree move (GET)", lambda w: "/admin/sitecontent/page/tree/move/", (302, 405, 405, 405)),
    (
        "page tree reorder (GET)",
        lambda w: "/admin/sitecontent/page/tree/reorder/",
        (302, 405, 405, 405),
    ),
    *_model_rows(
        "image",
        "image",
        extra=[
            ("image chooser", lambda w: "/admin/sitecontent/image/chooser/", (302, 200, 200, 200)),
            ("image upload many", lambda w: "/admin/sitecontent/image/upload-many/", EVERYONE),
            *_editing_rows("image", "image", add=False),
        ],
    ),
    *_model_rows(
        "document",
        "document",
        extra=[
            (
                "document download (staff)",
                lambda w: f"/admin/sitecontent/document/{w['document'].pk}/download/",
                EVERYONE,
            ),
            *_editing_rows("document", "document", add=False),
            (
                "document upload many",
                lambda w: "/admin/sitecontent/document/upload-many/",
                EVERYONE,
            ),
        ],
    ),
    *_model_rows("category", "category"),
    # Collections of the media library: Publishers manage them.
    *_model_rows(
        "collection",
        "collection",
        list=(302, 403, 200, 200),
        add=(302, 403, 200, 200),
        change=(302, 403, 200, 200),
        history=(302, 403, 200, 200),
    ),
    *_model_rows("tag", "tag"),
    (
        "page compare",
        lambda w: "/admin/sitecontent/page/{}/revisions/compare/?a={}&b={}".format(
            w["page"].pk, *(r.pk for r in w["page_revisions"])
        ),
        EVERYONE,
    ),
    # Revision actions and retries change things: POST only (forged POSTs are below).
    # A restore's GET is the question asked first, for those who may change the item.
    (
        "revision restore (GET)",
        lambda w: (
            f"/admin/sitecontent/article/{w['article'].pk}/revisions/"
            f"{w['revisions'][0].pk}/restore/"
        ),
        (302, 403, 200, 200),
    ),
    (
        "page revision restore (GET)",
        lambda w: (
            f"/admin/sitecontent/page/{w['page'].pk}/revisions/{w['page_revisions'][0].pk}/restore/"
        ),
        (302, 403, 200, 200),
    ),
    (
        "revision publish (GET)",
        lambda w: (
            f"/admin/sitecontent/article/{w['article'].pk}/revisions/"
            f"{w['revisions'][0].pk}/publish/"
        ),
        (302, 405, 405, 405),
    ),
    # The audit log: Publishers read it; nobody writes it through the admin.
    *_model_rows(
        "auditevent",
        "audit_event",
        list=(302, 403, 200, 200),
        add=NOBODY,
        change=(302, 403, 200, 200),
        delete=NOBODY,
        history=(302, 403, 200, 200),
        extra=[
            (
                "audit log CSV",
                lambda w: "/admin/sitecontent/auditevent/export.csv",
                (302, 403, 200, 200),
            )
        ],
    ),
    ("upload list", lambda w: "/admin/sitecontent/upload/", EVERYONE),
    ("upload add", lambda w: "/admin/sitecontent/upload/add/", NOBODY),
    ("upload sign (GET)", lambda w: "/admin/sitecontent/upload/sign/", (302, 405, 405, 405)),
    (
        "upload receive (GET)",
        lambda w: f"/admin/sitecontent/upload/{w['upload'].pk}/receive/",
        (302, 405, 405, 405),
    ),
    (
        "someone's upload status",
        lambda w: f"/admin/sitecontent/upload/{w['upload'].pk}/status/",
        (302, 404, 404, 200),
    ),
    # Someone else's upload does not exist for an Editor or Publisher: the admin says
    # so and sends them to its home page.
    (
        "someone's upload",
        lambda w: f"/admin/sitecontent/upload/{w['upload'].pk}/change/",
        (302, 302, 302, 200),
    ),
    (
        "someone's upload history",
        lambda w: f"/admin/sitecontent/upload/{w['upload'].pk}/history/",
        (302, 302, 302, 200),
    ),
    (
        "someone's upload delete",
        lambda w: f"/admin/sitecontent/upload/{w['upload'].pk}/delete/",
        SUPERUSER_ONLY,
    ),
    ("user list", lambda w: "/admin/sitecontent/user/", SUPERUSER_ONLY),
    ("user add", lambda w: "/admin/sitecontent/user/add/", SUPERUSER_ONLY),
    (
        "someone else's account",
        lambda w: f"/admin/sitecontent/user/{w['someone'].pk}/change/",
        SUPERUSER_ONLY,
    ),
    (
        "someone else's password",
        lambda w: f"/admin/sitecontent/user/{w['someone'].pk}/password/",
        SUPERUSER_ONLY,
    ),
    (
        "someone else's account delete",
        lambda w: f"/admin/sitecontent/user/{w['someone'].pk}/delete/",
        SUPERUSER_ONLY,
    ),
    (
        "someone else's account history",
        lambda w: f"/admin/sitecontent/user/{w['someone'].pk}/history/",
        SUPERUSER_ONLY,
    ),
    *_superuser_only_rows("auth", "group", "group"),
    *_superuser_only_rows("sites", "site", "site"),
    *_superuser_only_rows("axes", "accessattempt", "attempt", add=NOBODY),
    *_superuser_only_rows("axes", "accesslog", "access_log", add=NOBODY),
    *_superuser_only_rows("axes", "accessfailurelog", "failure_log", add=NOBODY),
    *_operations_record_rows("taskrun", "taskrun"),
    *_operations_record_rows("cdnpurge", "purge"),
    # Editors manage redirects within the site; one to another site is a publisher's,
    # read-only to Editors.
    *_model_rows("redirect", "redirect", app="redirects", delete=EVERYONE),
    (
        "off-site redirect delete",
        lambda w: f"/admin/redirects/redirect/{w['offsite_redirect'].pk}/delete/",
        (302, 403, 200, 200),
    ),
    ("operations panel", lambda w: "/admin/operations/", (302, 403, 200, 200)),
    (
        "operations retry (GET)",
        lambda w: f"/admin/operations/tasks/{w['taskrun'].pk}/retry/",
        (302, 405, 405, 405),
    ),
    # An app's index lists what the role may see, and is missing when that is nothing.
    ("content app index", lambda w: "/admin/sitecontent/", EVERYONE),
    ("redirects app index", lambda w: "/admin/redirects/", EVERYONE),
    ("operations app index", lambda w: "/admin/cms/", (302, 404, 200, 200)),
    ("accounts app index", lambda w: "/admin/auth/", (302, 404, 404, 200)),
    ("sites app index", lambda w: "/admin/sites/", (302, 404, 404, 200)),
    ("login records app index", lambda w: "/admin/axes/", (302, 404, 404, 200)),
    ("own password change", lambda w: "/admin/password_change/", EVERYONE),
    ("own password changed", lambda w: "/admin/password_change/done/", EVERYONE),
    ("admin translations", lambda w: "/admin/jsi18n/", EVERYONE),
    # Without the parameters a select widget sends, autocomplete answers nobody.
    ("autocomplete", lambda w: "/admin/autocomplete/", NOBODY),
    (
        "view on site",
        lambda w: f"/admin/r/{w['article_type'].pk}/{w['article'].pk}/",
        (302, 302, 302, 302),
    ),
    # Signed-in staff are sent on from the sign-in page; signing out is a POST.
    ("sign in", lambda w: "/admin/login/", (200, 302, 302, 302)),
    ("sign out (GET)", lambda w: "/admin/logout/", (302, 405, 405, 405), "/admin/"),
]

SIGN_IN = "/admin/login/"
CASES = [
    (label, build, role, expected[i], anonymous_to[0] if anonymous_to else SIGN_IN)
    for label, build, expected, *anonymous_to in ROWS
    for i, role in enumerate(ROLES)
]


@pytest.mark.parametrize(
    ("label", "build", "role", "expected", "anonymous_to"),
    CASES,
    ids=[f"{label}|{role}" for label, _, role, _, _ in CASES],
)
def test_admin_address_answers_each_role_as_expected(
    world, label, build, role, expected, anonymous_to
):
    browser = Client()
    if role != "anonymous":
        browser.force_login(world["users"][role])
    response = browser.get(build(world))
    assert response.status_code == expected, f"{label} as {role}"
    if role == "anonymous" and expected == 302:
        assert response["Location"].startswith(anonymous_to)


def _admin_addresses(patterns=None, prefix=""):
    """Every named address under /admin/, from the URLconf itself."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _admin_addresses(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and pattern.name and route.startswith("admin/"):
            yield route, pattern.name


def test_the_matrix_covers_every_admin_address(world):
    """A new admin page (a model registered, a custom view) must get its row above."""
    covered = {resolve(build(world).split("?")[0]).url_name for _, build, *_ in ROWS}
    every = dict(_admin_addresses())
    missing = {route for route, name in every.items() if name not in covered}
    assert missing == set()
    assert len(every) > 100  # the walk did find the admin


def _state():
    """What a forged request might try to change."""
    from sitecontent.models import Article, Document, Image, Page, User

    article = Article.objects.get()
    return (
        article.title,
        sorted(Image.objects.values_list("title", "alt_text", "file")),
        sorted(Document.objects.values_list("title", "file")),
        sorted(Redirect.objects.values_list("old_path", "new_path")),
        article.is_published,
        Page.objects.values_list("title", "parent_id", "menu_order").get(),
        Image.objects.count(),
        Group.objects.count(),
        sorted(
            Group.objects.values_list("permissions__codename", flat=True).exclude(permissions=None)
        ),
        sorted(User.objects.filter(is_superuser=True).values_list("username", flat=True)),
        sorted(User.objects.values_list("password", flat=True)),
        sorted(User.groups.through.objects.values_list("user_id", "group_id")),
        TaskRun.objects.count(),
        CdnPurge.objects.count(),
        AccessAttempt.objects.count(),
        Site.objects.values_list("domain", flat=True).get(),
        Redirect.objects.count(),
        len(list(revisions.Revision.objects.all())),
        sorted(ReviewRequest.objects.values_list("state", flat=True)),
    )


# What each role might try with a forged POST (the admin hides every one of them).
EDITOR_FORGERIES = [
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
        "change someone's image",
        lambda w: (
            f"/admin/sitecontent/image/{w['image'].pk}/change/",
            {"title": "x", "alt_text": "x", "caption": "", "credit": ""},
        ),
    ),
    (
        "change someone's document",
        lambda w: (f"/admin/sitecontent/document/{w['document'].pk}/change/", {"title": "x"}),
    ),
    (
        "change an off-site redirect",
        lambda w: (
            f"/admin/redirects/redirect/{w['offsite_redirect'].pk}/change/",
            {"site": 1, "old_path": "/partner/", "new_path": "https://evil.example/"},
        ),
    ),
    (
        "delete an off-site redirect",
        lambda w: (
            f"/admin/redirects/redirect/{w['offsite_redirect'].pk}/delete/",
            {"post": "yes"},
        ),
    ),
    (
        "move someone's live page to the top of the menu",
        lambda w: (
            "/admin/sitecontent/page/tree/move/",
            {"page": w["page"].pk, "parent": "", "position": "0"},
        ),
    ),
    (
        "live-preview someone's article",
        lambda w: (f"/admin/sitecontent/article/{w['article'].pk}/live-preview/", {"title": "x"}),
    ),
    (
        "restore a revision of someone's article",
        lambda w: (
            f"/admin/sitecontent/article/{w['article'].pk}/revisions/{w['revisions'][0].pk}/restore/",
            {},
        ),
    ),
]
EDITOR_FORGERIES += [
    (
        "approve a review",
        lambda w: (
            f"/admin/sitecontent/article/{w['article'].pk}/review/{w['article_review'].pk}/",
            {"decision": "approve"},
        ),
    ),
    (
        "request changes in a review",
        lambda w: (
            f"/admin/sitecontent/page/{w['page'].pk}/review/{w['page_review'].pk}/",
            {"decision": "request_changes", "comment": "x"},
        ),
    ),
]
PUBLISHER_FORGERIES = [
    (
        "promote someone",
        lambda w: (
            f"/admin/sitecontent/user/{w['someone'].pk}/change/",
            {"username": "someone", "is_staff": "on", "is_superuser": "on"},
        ),
    ),
    (
        "set someone's password",
        lambda w: (
            f"/admin/sitecontent/user/{w['someone'].pk}/password/",
            {"password1": "Sw0rdfish-long-enough", "password2": "Sw0rdfish-long-enough"},
        ),
    ),
    ("create a group", lambda w: ("/admin/auth/group/add/", {"name": "Mine"})),
    (
        "rename the site",
        lambda w: ("/admin/sites/site/1/change/", {"domain": "evil.example", "name": "x"}),
    ),
    (
        "clear a lockout",
        lambda w: (f"/admin/axes/accessattempt/{w['attempt'].pk}/delete/", {"post": "yes"}),
    ),
    (
        "delete a task run",
        lambda w: (f"/admin/cms/taskrun/{w['taskrun'].pk}/delete/", {"post": "yes"}),
    ),
    (
        "forge a CDN purge record",
        lambda w: ("/admin/cms/cdnpurge/add/", {"paths": '["/"]', "backend": "x"}),
    ),
    (
        "delete someone's upload",
        lambda w: (f"/admin/sitecontent/upload/{w['upload'].pk}/delete/", {"post": "yes"}),
    ),
]
FORGERIES = [("editor", *case) for case in EDITOR_FORGERIES] + [
    ("publisher", *case) for case in PUBLISHER_FORGERIES
]


@pytest.mark.parametrize(
    ("role", "label", "post"),
    FORGERIES,
    ids=[f"{role}|{label}" for role, label, _ in FORGERIES],
)
def test_forged_posts_are_refused_and_change_nothing(world, role, label, post):
    before = _state()
    browser = Client()
    browser.force_login(world["users"][role])
    url, data = post(world)
    response = browser.post(url, data)
    assert response.status_code == 403, label
    assert _state() == before


def test_own_profile_form_ignores_privileges_posted_into_it(world):
    """Staff edit their own byline; the fields that grant power are not in that form."""
    me = world["users"]["publisher"]
    before = _state()
    browser = Client()
    browser.force_login(me)
    response = browser.post(
        f"/admin/sitecontent/user/{me.pk}/change/",
        {
            "display_name": "Pat P.",
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [g.pk for g in Group.objects.all()],
            "user_permissions": [],
        },
    )
    assert response.status_code == 302
    me.refresh_from_db()
    assert me.display_name == "Pat P."
    assert _state() == before


@pytest.mark.parametrize(
    ("label", "post"),
    [
        (
            "publish an article",
            lambda w: (
                "/admin/sitecontent/article/",
                {"action": "publish_now", "_selected_action": [w["article"].pk]},
            ),
        ),
        (
            "change an article",
            lambda w: (f"/admin/sitecontent/article/{w['article'].pk}/change/", {"title": "x"}),
        ),
        (
            "delete an article",
            lambda w: (f"/admin/sitecontent/article/{w['article'].pk}/delete/", {"post": "yes"}),
        ),
        ("create a group", lambda w: ("/admin/auth/group/add/", {"name": "Mine"})),
        ("add a redirect", lambda w: ("/admin/redirects/redirect/add/", {"old_path": "/x/"})),
        ("retry a task", lambda w: (f"/admin/operations/tasks/{w['taskrun'].pk}/retry/", {})),
        ("ask for an upload URL", lambda w: ("/admin/sitecontent/upload/sign/", {})),
    ],
)
def test_anonymous_posts_go_to_sign_in_and_change_nothing(world, label, post):
    before = _state()
    url, data = post(world)
    response = Client().post(url, data)
    assert response.status_code == 302, label
    assert response["Location"].startswith(SIGN_IN)
    assert _state() == before


@pytest.mark.parametrize("role", ["editor", "publisher", "superuser"])
def test_changing_ones_own_password_asks_for_the_current_one(world, role):
    me = world["users"][role]
    browser = Client()
    browser.force_login(me)
    response = browser.get(f"/admin/sitecontent/user/{me.pk}/password/")
    assert (response.status_code, response["Location"]) == (302, "/admin/password_change/")
    password_before = type(me).objects.get(pk=me.pk).password
    new = {"new_password1": "An0ther-long-passphrase", "new_password2": "An0ther-long-passphrase"}
    refused = browser.post("/admin/password_change/", {**new, "old_password": "not-it"})
    assert refused.status_code == 200
    assert refused.context["form"].errors["old_password"]
    forged = browser.post(
        f"/admin/sitecontent/user/{me.pk}/password/",
        {"password1": new["new_password1"], "password2": new["new_password2"]},
    )
    assert forged.status_code == 302
    assert type(me).objects.get(pk=me.pk).password == password_before
    accepted = browser.post("/admin/password_change/", {**new, "old_password": "pw"})
    assert accepted.status_code == 302
    assert type(me).objects.get(pk=me.pk).password != password_before
