"""RSS and Atom feeds of live articles, site-wide and per category (Django's syndication)."""

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed

from . import selectors
from .models import Category

FEED_LENGTH = 20


class LatestArticles(Feed):
    feed_type = Rss201rev2Feed

    def title(self, obj=None):
        return f"{settings.SITE_NAME}: {obj.name}" if obj else settings.SITE_NAME

    def link(self, obj=None):
        return obj.get_absolute_url() if obj else reverse("sitecontent:article_list")

    def description(self, obj=None):
        return (
            obj.description
            if obj and obj.description
            else f"The latest articles from {settings.SITE_NAME}."
        )

    def items(self, obj=None):
        articles = selectors.article_list()
        if obj is not None:
            articles = articles.filter(category=obj)
        return articles[:FEED_LENGTH]

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.summary

    def item_pubdate(self, item):
        return item.publish_at

    def item_updateddate(self, item):
        return item.updated_at

    def item_author_name(self, item):
        return item.author.public_name

    def item_categories(self, item):
        return [tag.name for tag in item.tags.all()]


class LatestArticlesAtom(LatestArticles):
    feed_type = Atom1Feed

    def subtitle(self, obj=None):
        return self.description(obj)


class CategoryArticles(LatestArticles):
    def get_object(self, request, slug):
        return get_object_or_404(Category, slug=slug)


class CategoryArticlesAtom(CategoryArticles, LatestArticlesAtom):
    pass


# The views sitecontent.urls routes to.
rss, atom = LatestArticles(), LatestArticlesAtom()
category_rss, category_atom = CategoryArticles(), CategoryArticlesAtom()
