"""Content: articles, pages, images, and the people and labels around them.

Visibility is decided at query time by ``PublishableQuerySet.live()``: an item shows up
the minute its go-live time passes and disappears the minute it expires, whether or not
any scheduled job has run.
"""

from html import unescape

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from sitecontent.models.addresses import path_address, slug_address
from sitecontent.models.fields import PlainCharField, PlainTextField
from sitecontent.models.media import Document, Image
from sitecontent.richtext import RichTextField


class User(AbstractUser):
    """Someone who signs in to the admin. Articles name a user as their author."""

    # Shown in bylines and feeds, so plain text like every other field editors fill in.
    first_name = PlainCharField(_("first name"), max_length=150, blank=True)
    last_name = PlainCharField(_("last name"), max_length=150, blank=True)
    display_name = PlainCharField(
        max_length=100,
        blank=True,
        help_text=_("The name shown on articles. Falls back to the first and last name."),
    )
    bio = PlainTextField(
        blank=True,
        max_length=1000,
        help_text=_("A short biography shown under this author's articles (plain text)."),
    )

    def __str__(self):
        # What the admin shows in author columns, filters and choices.
        return self.display_name or self.get_full_name() or self.username

    @property
    def public_name(self) -> str:
        # Never fall back to the username: it is half of an admin login.
        return self.display_name or self.get_full_name() or str(_("Staff writer"))


class Status(models.TextChoices):
    """Where a content item stands right now; computed from its fields and the clock."""

    DRAFT = "draft", _("Draft")
    SCHEDULED = "scheduled", _("Scheduled")
    PUBLISHED = "published", _("Published")
    EXPIRED = "expired", _("Expired")


def live_q(at, prefix: str = "") -> Q:
    """The condition for being live at ``at``, for the item or (``prefix="parent__"``)
    a related one."""
    return Q(**{f"{prefix}is_published": True, f"{prefix}publish_at__lte": at}) & (
        Q(**{f"{prefix}unpublish_at__isnull": True}) | Q(**{f"{prefix}unpublish_at__gt": at})
    )


class PublishableQuerySet(models.QuerySet):
    """Filters by publication state. ``at`` defaults to now; tests pass a fixed time."""

    def live(self, at=None):
        return self.filter(live_q(at or timezone.now()))

    def drafts(self):
        return self.filter(is_published=False)

    def scheduled(self, at=None):
        return self.filter(is_published=True, publish_at__gt=at or timezone.now())

    def expired(self, at=None):
        return self.filter(is_published=True, unpublish_at__lte=at or timezone.now())

    def with_status(self, status, at=None):
        return {
            Status.DRAFT: self.drafts,
            Status.SCHEDULED: lambda: self.scheduled(at),
            Status.PUBLISHED: lambda: self.live(at),
            Status.EXPIRED: lambda: self.expired(at),
        }[Status(status)]()


class Publishable(models.Model):
    """Publication fields shared by every content item.

    ``is_published`` is the publisher's decision; ``publish_at`` and ``unpublish_at``
    bound the time it is visible. A published item always has a ``publish_at``.
    """

    PUBLICATION_FIELDS = ("is_published", "publish_at", "unpublish_at")

    is_published = models.BooleanField(
        _("published"),
        default=False,
        help_text=_(
            "Approve this item for the public site. It becomes visible at the go-live "
            "time (now, if left empty). Only publishers can change this."
        ),
    )
    publish_at = models.DateTimeField(
        _("go-live time"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("When the item becomes visible. A future time schedules it."),
    )
    unpublish_at = models.DateTimeField(
        _("expiry time"),
        null=True,
        blank=True,
        help_text=_("When the item stops being visible. Leave empty to keep it up."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # PostgreSQL full-text search (weighted title, summary, body), refreshed on each save
    # by sitecontent.public.search; unused on other databases. Its GIN index is made in
    # migration 0008 on PostgreSQL only.
    search_vector = SearchVectorField(null=True, editable=False)

    objects = PublishableQuerySet.as_manager()

    # The content fields a revision keeps (publication times are not content).
    REVISION_FIELDS: tuple[str, ...] = ()

    class Meta:
        abstract = True
        constraints = [
            models.CheckConstraint(
                condition=Q(is_published=False) | Q(publish_at__isnull=False),
                name="%(app_label)s_%(class)s_published_has_publish_at",
                violation_error_message=_("A published item needs a go-live time."),
            ),
            models.CheckConstraint(
                condition=Q(unpublish_at__isnull=True)
                | Q(publish_at__isnull=True)
                | Q(unpublish_at__gt=F("publish_at")),
                name="%(app_label)s_%(class)s_expires_after_publish",
                violation_error_message=_("The expiry time must be after the go-live time."),
            ),
        ]

    def save(self, *args, **kwargs):
        self._default_publish_at()
        super().save(*args, **kwargs)

    def status_at(self, at) -> Status:
        if not self.is_published:
            return Status.DRAFT
        if self.unpublish_at and self.unpublish_at <= at:
            return Status.EXPIRED
        if self.publish_at and self.publish_at > at:
            return Status.SCHEDULED
        return Status.PUBLISHED

    @property
    def status(self) -> Status:
        return self.status_at(timezone.now())

    @property
    def model_name(self) -> str:
        return self._meta.model_name

    def is_live(self) -> bool:
        return self.status == Status.PUBLISHED

    def _default_publish_at(self):
        # "Published" with no time means "from now on".
        if self.is_published and self.publish_at is None:
            self.publish_at = timezone.now()

    def clean(self):
        super().clean()
        self._default_publish_at()
        if self.unpublish_at and self.publish_at and self.unpublish_at <= self.publish_at:
            raise ValidationError(
                {"unpublish_at": _("The expiry time must be after the go-live time.")}
            )


class SeoFields(models.Model):
    """What search engines and link previews show for a content item."""

    seo_title = PlainCharField(
        _("SEO title"),
        max_length=70,
        blank=True,
        help_text=_("The title in search results and the browser tab. Defaults to the title."),
    )
    seo_description = PlainCharField(
        _("SEO description"),
        max_length=160,
        blank=True,
        help_text=_("One sentence for search results. Defaults to the summary."),
    )

    # The description of an item without an SEO description is cut to this length.
    DESCRIPTION_LENGTH = 160

    class Meta:
        abstract = True

    @property
    def meta_title(self) -> str:
        """The title search results, link previews and the browser tab show."""
        return self.seo_title or self.title

    @property
    def meta_description(self) -> str:
        """The plain-text description search results and link previews show."""
        return self.seo_description or self.default_description()

    def default_description(self) -> str:
        raise NotImplementedError


class Category(models.Model):
    """A section of the site (News, Guides…). Each article sits in at most one."""

    name = PlainCharField(max_length=100, unique=True, help_text=_("Shown in navigation."))
    slug = models.SlugField(
        max_length=100, unique=True, help_text=_("Used in the address: /categories/this-slug/.")
    )
    description = PlainTextField(
        blank=True, help_text=_("A sentence or two shown at the top of the category page.")
    )

    class Meta:
        ordering = ["name"]
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_address("sitecontent:category_detail", "slug", self.slug)


class Tag(models.Model):
    """A free-form label; articles may carry several."""

    name = PlainCharField(max_length=60, unique=True, help_text=_("Shown on articles."))
    slug = models.SlugField(
        max_length=60, unique=True, help_text=_("Used in the address: /tags/this-slug/.")
    )

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return slug_address("sitecontent:tag_detail", "slug", self.slug)


class Article(Publishable, SeoFields):
    """A dated piece of writing: news, a guide, a story. Listed newest first."""

    title = PlainCharField(max_length=200)
    slug = models.SlugField(
        max_length=200,
        unique=True,
        help_text=_("Used in the address: /articles/this-slug/. Filled in from the title."),
    )
    summary = PlainTextField(
        max_length=500,
        help_text=_("One or two sentences shown in lists and link previews (plain text)."),
    )
    body = RichTextField(blank=True, help_text=_("The article itself."))
    hero_image = models.ForeignKey(
        Image,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Shown at the top of the article and on its card."),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="articles"
    )
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="articles"
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles")
    attachments = models.ManyToManyField(
        Document,
        blank=True,
        related_name="articles",
        help_text=_("Files listed under the article for readers to download."),
    )
    featured = models.BooleanField(
        default=False, help_text=_("Show in the featured strip on the home page.")
    )

    REVISION_FIELDS = (
        "title",
        "slug",
        "summary",
        "body",
        "hero_image",
        "author",
        "category",
        "tags",
        "attachments",
        "featured",
        "seo_title",
        "seo_description",
    )

    class Meta(Publishable.Meta):
        ordering = [F("publish_at").desc(nulls_last=True), "-created_at"]
        permissions = [("publish_article", "Can publish, schedule and unpublish articles")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return slug_address("sitecontent:article_detail", "slug", self.slug)

    def default_description(self) -> str:
        return self.summary


def _routes_elsewhere(path: str) -> bool:
    try:
        return resolve(path).url_name != "page_detail"
    except Resolver404:
        return False


class PageQuerySet(PublishableQuerySet):
    def reachable(self, at=None):
        """Live pages whose every ancestor is live too: the pages a visitor can reach.

        The one rule behind page addresses, the sitemap, search and the API (a live
        page under a draft or expired parent has no public address). One query: each
        ancestor level is a join that is either absent or live.
        """
        at = at or timezone.now()
        condition = Q()
        for depth in range(1, Page.MAX_DEPTH + 1):
            above = "__".join(["parent"] * depth)
            condition &= Q(**{f"{above}__isnull": True}) | live_q(at, prefix=f"{above}__")
        return self.live(at).filter(condition)


# Root page slugs may not shadow the site's other addresses. Static and media files are
# answered before URL routing, so the URLconf cannot tell us about those two.
RESERVED_ROOT_SLUGS = {"static", "media"}


class Page(Publishable, SeoFields):
    """A standalone page (About, Contact…). Pages nest; their address is the slug path."""

    title = PlainCharField(max_length=200)
    slug = models.SlugField(
        max_length=100,
        help_text=_("The last part of the address, e.g. “team” in /about/team/."),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        help_text=_("Nest this page under another one. Empty means a top-level page."),
    )
    body = RichTextField(blank=True)
    attachments = models.ManyToManyField(
        Document,
        blank=True,
        related_name="pages",
        help_text=_("Files listed on the page for readers to download."),
    )
    show_in_menus = models.BooleanField(
        default=False, help_text=_("List this top-level page in the site navigation.")
    )
    menu_order = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(10_000)],
        help_text=_("Lower numbers come first in the navigation and in lists of sub-pages."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="owned_pages",
        help_text=_("Who created the page; Editors change only their own."),
    )

    objects = PageQuerySet.as_manager()

    REVISION_FIELDS = (
        "title",
        "slug",
        "parent",
        "body",
        "attachments",
        "show_in_menus",
        "menu_order",
        "seo_title",
        "seo_description",
    )

    MAX_DEPTH = 8

    class Meta(Publishable.Meta):
        ordering = ["menu_order", Lower("title")]
        permissions = [("publish_page", "Can publish, schedule and unpublish pages")]
        constraints = [
            *Publishable.Meta.constraints,
            models.UniqueConstraint(
                fields=["parent", "slug"],
                name="sitecontent_page_unique_slug_per_parent",
                violation_error_message=_("Another page under the same parent has this slug."),
            ),
            # NULL parents never collide in a plain unique constraint.
            models.UniqueConstraint(
                fields=["slug"],
                condition=Q(parent__isnull=True),
                name="sitecontent_page_unique_root_slug",
                violation_error_code="unique",
                violation_error_message=_("Another top-level page has this slug."),
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return path_address("sitecontent:page_detail", "path", self.url_path)

    def ancestors(self) -> list["Page"]:
        """Parents from the top down (one query per level unless already cached)."""
        chain, node = [], self.parent
        while node is not None and len(chain) <= self.MAX_DEPTH:
            chain.append(node)
            node = node.parent
        return chain[::-1]

    @property
    def url_path(self) -> str:
        return "/".join([*(p.slug for p in self.ancestors()), self.slug])

    def default_description(self) -> str:
        """The start of the body's text (pages have no summary)."""
        text = unescape(strip_tags(self.body or "")).strip()
        return Truncator(text).chars(self.DESCRIPTION_LENGTH)

    def clean(self):
        super().clean()
        if self.parent_id is None and self.slug:
            self._check_root_slug_is_free()
        if self.parent_id is not None:
            self._check_parent()

    def _check_root_slug_is_free(self):
        # A root slug is taken if its address, or any address below it, is another view's.
        taken = self.slug in RESERVED_ROOT_SLUGS or any(
            _routes_elsewhere(f"/{self.slug}/{below}") for below in ("", "x/")
        )
        if taken:
            raise ValidationError(
                {"slug": _("“%(slug)s” is used by another part of the site.") % {"slug": self.slug}}
            )

    def _check_parent(self):
        node, depth = self.parent, 1
        while node is not None:
            if self.pk is not None and node.pk == self.pk:
                raise ValidationError({"parent": _("A page cannot sit under itself.")})
            node, depth = node.parent, depth + 1
            if depth > self.MAX_DEPTH:
                raise ValidationError(
                    {"parent": _("Pages nest at most %(n)d deep.") % {"n": self.MAX_DEPTH}}
                )
