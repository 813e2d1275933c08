"""RSS and Atom feeds of live articles, site-wide, per category and per tag (Django's
syndication).

Feed readers render RSS ``<description>`` and Atom ``<summary type="html">`` as HTML,
after undoing the XML escaping: plain text (summaries, category descriptions) is
HTML-escaped once more before it goes there (``as_html``), or ``<img onerror>`` in a
summary would run in subscribers' readers. Elements that feeds define as text (titles,
Atom's subtitle, author names, categories) get plain text. Either way control
characters are dropped first: XML cannot carry them and Django's feed writer refuses
the whole feed (the plain-text fields strip them on save; this covers older rows).
"""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape

from sitecontent.models import Category, Tag
from sitecontent.models.fields import strip_control_characters
from sitecontent.public import selectors

FEED_LENGTH = 20


def plain(value: str) -> str:
    """Text for an element a feed reader shows as text."""
    return strip_control_characters(value or "")


def as_html(value: str) -> str:
    """Plain text for an element a feed reader renders as HTML."""
    return escape(plain(value))


class LatestArticles(Feed):
    feed_type = Rss201rev2Feed

    def title(self, obj=None):
        return plain(f"{settings.SITE_NAME}: {obj.name}" if obj else settings.SITE_NAME)

    def link(self, obj=None):
        return obj.get_absolute_url() if obj else reverse("sitecontent:article_list")

    def _about(self, obj=None) -> str:
        return (
            obj.description
            if obj and getattr(obj, "description", "")  # tags have none
            else f"The latest articles from {settings.SITE_NAME}."
        )

    def description(self, obj=None):
        return as_html(self._about(obj))  # the RSS channel's <description> is HTML

    def items(self, obj=None):
        articles = selectors.article_list()
        if obj is not None:
            articles = self.in_archive(articles, obj)
        return articles[:FEED_LENGTH]

    def in_archive(self, articles, obj):
        return articles.filter(category=obj)

    def item_title(self, item):
        return plain(item.title)

    def item_description(self, item):
        return as_html(item.summary)  # RSS <description>, Atom <summary type="html">

    def item_pubdate(self, item):
        return item.publish_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return plain(item.author.public_name)

    def item_categories(self, item):
        return [plain(tag.name) for tag in item.tags.all()]


class LatestArticlesAtom(LatestArticles):
    feed_type = Atom1Feed

    def subtitle(self, obj=None):
        return plain(self._about(obj))  # Atom's <subtitle> is text


class CategoryArticles(LatestArticles):
    def get_object(self, request, slug):
        return get_object_or_404(Category, slug=slug)


class CategoryArticlesAtom(CategoryArticles, LatestArticlesAtom):
    pass


class TagArticles(LatestArticles):
    def get_object(self, request, slug):
        return get_object_or_404(Tag, slug=slug)

    def in_archive(self, articles, obj):
        return articles.filter(tags=obj)


class TagArticlesAtom(TagArticles, LatestArticlesAtom):
    pass


# The views sitecontent.public.urls routes to.
rss, atom = LatestArticles(), LatestArticlesAtom()
category_rss, category_atom = CategoryArticles(), CategoryArticlesAtom()
tag_rss, tag_atom = TagArticles(), TagArticlesAtom()
