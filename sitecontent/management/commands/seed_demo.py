"""Seed demo content so a fresh site looks alive: ``manage.py seed_demo``.

Idempotent: rows are looked up by slug (or username, or image title) and left alone if
they exist, so running it again adds nothing and overwrites no editor's change. Images
are drawn with Pillow and written through ``default_storage``.

Creates three sign-ins for the admin (``admin``, ``editor``, ``publisher``) with random
passwords, printed once when each user is created. Needs DEBUG on unless ``--force``.
Settings used: DEBUG, the default storage, the database.

``--content-only`` (branch stages: docs/branch-stages.md) creates no sign-in and prints
no password: the content is credited to one system user, ``demo-content``, who cannot
sign in (unusable password, inactive, not staff). Whoever reviews the stage makes their
own sign-in (``zappa manage STAGE createsuperuser`` is interactive; see the docs).
"""

import io
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from sitecontent import roles
from sitecontent.models import Article, Category, Image, Page, Tag, User

USERS = [
    # username, display name, bio, role group (None = superuser)
    ("admin", "Site Admin", "", None),
    ("editor", "Eda Writer", "Eda writes guides and keeps the style guide honest.", roles.EDITORS),
    (
        "publisher",
        "Pat Publisher",
        "Pat edits the site and decides what goes live.",
        roles.PUBLISHERS,
    ),
]

CATEGORIES = [
    ("News", "news", "What is new on the site and in the team."),
    ("Guides", "guides", "How to get things done, step by step."),
    ("Engineering", "engineering", "How the site is built and run."),
]

# --content-only: the author of every row it creates; nobody can sign in as it.
CONTENT_USER = ("demo-content", "Demo author", "Demo content for a preview of the site.")

TAGS = ["Serverless", "Django", "AWS", "Editorial", "Performance"]

IMAGES = [
    # title, alt text, two gradient colours
    ("Harbour at dawn", "Abstract gradient from deep blue to warm orange", "#0b5cad", "#f59e0b"),
    ("Forest canopy", "Abstract gradient in greens", "#065f46", "#a3e635"),
    ("Evening sky", "Abstract gradient from purple to pink", "#4c1d95", "#f472b6"),
]

BODY = (
    "<p>This is demo content from <code>manage.py seed_demo</code>: edit or delete it in "
    "the admin.</p>"
    "<h2>Why it matters</h2>"
    "<p>Editors write in the admin; visitors read fast pages. Nothing here needs a server "
    "you patch yourself.</p>"
    "<ul><li>Drafts stay private until a publisher approves them.</li>"
    "<li>Scheduled items appear at their minute.</li>"
    "<li>Expired items disappear on time.</li></ul>"
    "<blockquote><p>Publish on time, every time.</p></blockquote>"
)

# slug, title, summary, category, tags, featured, image index, author, timing
# timing: ("live", days ago) | ("scheduled", hours ahead) | ("expired", days ago) | ("draft",)
ARTICLES = [
    (
        "welcome",
        "Welcome to Lambda CMS",
        "A content site that runs on AWS Lambda, with the Django admin for editors.",
        "news",
        ["Serverless", "Django"],
        True,
        0,
        "publisher",
        ("live", 10),
    ),
    (
        "how-scheduled-publishing-works",
        "How scheduled publishing works",
        "Set a go-live time and the article appears at that minute, whether or not a job has run.",
        "guides",
        ["Editorial"],
        True,
        1,
        "editor",
        ("live", 5),
    ),
    (
        "images-without-a-server",
        "Images without a server",
        "Uploads go straight to S3 and renditions are made by events, never while a page renders.",
        "engineering",
        ["AWS", "Performance"],
        False,
        2,
        "publisher",
        ("live", 3),
    ),
    (
        "writing-for-the-web",
        "Writing for the web: a short style guide",
        "Short sentences, clear headings, and alt text on every image.",
        "guides",
        ["Editorial"],
        False,
        None,
        "editor",
        ("live", 2),
    ),
    (
        "first-week-on-lambda",
        "Our first week on AWS Lambda",
        "What we learned running a Django site with no server to look after.",
        "news",
        ["Serverless", "AWS"],
        True,
        0,
        "publisher",
        ("live", 1),
    ),
    (
        "coming-soon-content-api",
        "Coming soon: the content API",
        "A read-only JSON API for apps and other front ends.",
        "news",
        ["Django"],
        False,
        None,
        "publisher",
        ("scheduled", 2),
    ),
    (
        "next-months-roadmap",
        "Next month's roadmap",
        "What we plan to build next.",
        "news",
        [],
        False,
        1,
        "publisher",
        ("scheduled", 72),
    ),
    (
        "holiday-opening-hours",
        "Holiday opening hours",
        "Our hours over the holidays (now over).",
        "news",
        [],
        False,
        None,
        "publisher",
        ("expired", 20),
    ),
    (
        "notes-on-caching",
        "Notes on caching",
        "A draft on how CloudFront caches the site.",
        "engineering",
        ["Performance"],
        False,
        None,
        "editor",
        ("draft",),
    ),
]

# A run of short notes, so the article list has a second page to show.
ARTICLES += [
    (
        f"weekly-notes-{week}",
        f"Weekly notes, week {week}",
        f"What changed on the site in week {week}.",
        "news",
        ["Editorial"],
        False,
        None,
        "editor",
        ("live", 14 + 7 * week),
    )
    for week in range(1, 7)
]

# slug, title, parent slug, in menus, menu order, body
PAGES = [
    (
        "about",
        "About",
        None,
        True,
        1,
        "<p>We publish guides and news about running content sites without servers.</p>",
    ),
    (
        "team",
        "Our team",
        "about",
        False,
        1,
        "<p>A small team of writers, editors and engineers.</p>",
    ),
    (
        "contact",
        "Contact",
        None,
        True,
        2,
        '<p>Write to <a href="mailto:hello@example.com">hello@example.com</a>.</p>',
    ),
    (
        "privacy",
        "Privacy",
        None,
        False,
        3,
        "<p>This site sets no tracking cookies. Editors' sign-ins use a session cookie.</p>",
    ),
]


def _gradient_jpeg(top: str, bottom: str, size=(1600, 900)) -> bytes:
    from PIL import Image as PILImage  # imported here: only this command draws images

    gradient = PILImage.linear_gradient("L").resize(size)
    picture = PILImage.composite(
        PILImage.new("RGB", size, bottom), PILImage.new("RGB", size, top), gradient
    )
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=82, optimize=True)
    return out.getvalue()


class Command(BaseCommand):
    help = "Add demo users, categories, tags, images, articles and pages (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Run even when DEBUG is off (not advised)."
        )
        parser.add_argument(
            "--content-only",
            action="store_true",
            help="No sign-ins and no printed passwords: content by a system user who "
            "cannot sign in (branch stages).",
        )
        parser.add_argument(
            "--admin-url",
            default="http://127.0.0.1:8000/admin/",
            help="Where the printed sign-in instructions point.",
        )

    def handle(
        self,
        *args,
        force=False,
        content_only=False,
        admin_url="http://127.0.0.1:8000/admin/",
        **options,
    ):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo adds demo content (and, without --content-only, demo users with "
                "printed passwords), so it runs only with DEBUG on. Pass --force to run it "
                "anyway."
            )
        now = timezone.now().replace(second=0, microsecond=0)
        self.created = 0
        with transaction.atomic():
            if content_only:
                author = self._content_user()
                users = dict.fromkeys((u[0] for u in USERS), author)
                uploader = None
            else:
                passwords = self._users()
                usernames = [u[0] for u in USERS]
                users = {u.username: u for u in User.objects.filter(username__in=usernames)}
                uploader = users["admin"]
            categories = self._categories()
            tags = self._tags()
            images = self._images(uploader)
            self._articles(now, users, categories, tags, images)
            self._pages(now, users["publisher"])
        self.stdout.write(f"Demo content: {self.created} rows created.")
        if content_only:
            self.stdout.write("No sign-in was created (--content-only).")
        else:
            self._print_logins(passwords, admin_url)

    def _content_user(self) -> User:
        username, display_name, bio = CONTENT_USER
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                display_name=display_name,
                bio=bio,
                is_active=False,
                is_staff=False,
                is_superuser=False,
            )
            user.set_unusable_password()
            user.save()
            self.created += 1
        return user

    def _users(self) -> dict[str, str]:
        passwords = {}
        for username, display_name, bio, group_name in USERS:
            if User.objects.filter(username=username).exists():
                continue
            password = secrets.token_urlsafe(12)
            user = User(
                username=username,
                display_name=display_name,
                bio=bio,
                email=f"{username}@example.com",
                is_staff=True,
                is_superuser=group_name is None,
            )
            user.set_password(password)
            user.save()
            if group_name:
                user.groups.add(Group.objects.get(name=group_name))
            passwords[username] = password
            self.created += 1
        return passwords

    def _categories(self):
        result = {}
        for name, slug, description in CATEGORIES:
            result[slug], made = Category.objects.get_or_create(
                slug=slug, defaults={"name": name, "description": description}
            )
            self.created += made
        return result

    def _tags(self):
        result = {}
        for name in TAGS:
            result[name], made = Tag.objects.get_or_create(
                slug=name.lower(), defaults={"name": name}
            )
            self.created += made
        return result

    def _images(self, uploader):
        result = []
        for title, alt_text, top, bottom in IMAGES:
            image = Image.objects.filter(title=title).first()
            if image is None:
                image = Image(title=title, alt_text=alt_text, uploaded_by=uploader)
                name = f"{title}.jpg"
                image.file.save(name, ContentFile(_gradient_jpeg(top, bottom), name=name))
                self.created += 1
            result.append(image)
        return result

    def _articles(self, now, users, categories, tags, images):
        for slug, title, summary, category, tag_names, featured, image, author, timing in ARTICLES:
            if Article.objects.filter(slug=slug).exists():
                continue
            article = Article(
                slug=slug,
                title=title,
                summary=summary,
                body=BODY,
                category=categories[category],
                featured=featured,
                hero_image=images[image] if image is not None else None,
                author=users[author],
                **self._timing(now, timing),
            )
            article.full_clean()
            article.save()
            article.tags.set([tags[name] for name in tag_names])
            self.created += 1

    @staticmethod
    def _timing(now, timing):
        match timing:
            case ("live", days):
                return {"is_published": True, "publish_at": now - timedelta(days=days)}
            case ("scheduled", hours):
                return {"is_published": True, "publish_at": now + timedelta(hours=hours)}
            case ("expired", days):
                return {
                    "is_published": True,
                    "publish_at": now - timedelta(days=days),
                    "unpublish_at": now - timedelta(days=1),
                }
            case _:
                return {"is_published": False}

    def _pages(self, now, author):
        by_slug = {}
        for slug, title, parent, in_menus, order, body in PAGES:
            parent_page = by_slug.get(parent)
            page = Page.objects.filter(slug=slug, parent=parent_page).first()
            if page is None:
                page = Page(
                    slug=slug,
                    title=title,
                    parent=parent_page,
                    show_in_menus=in_menus,
                    menu_order=order,
                    body=body,
                    is_published=True,
                    publish_at=now - timedelta(days=30),
                )
                page.full_clean()
                page.save()
                self.created += 1
            by_slug[slug] = page

    def _print_logins(self, passwords, admin_url):
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"Sign in to the admin at {admin_url}"))
        for username, *_rest, group_name in USERS:
            role = group_name or "superuser"
            if username in passwords:
                self.stdout.write(f"  {username:<10} password {passwords[username]}   ({role})")
            else:
                self.stdout.write(
                    f"  {username:<10} already exists; to set a new password run: "
                    f".venv/bin/python manage.py changepassword {username}   ({role})"
                )
        if passwords:
            self.stdout.write("These passwords are shown only once.")
