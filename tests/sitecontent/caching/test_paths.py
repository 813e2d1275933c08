"""The paths a change touches (sitecontent.caching.paths): which CDN addresses show an
item, an image or a document, worked out directly (the receivers' tests check that a
save purges them)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from cms.cdn import collapse_paths
from sitecontent.caching import paths
from sitecontent.models import Article, Page
from tests.factories import (
    ArticleFactory,
    CategoryFactory,
    DocumentFactory,
    ImageFactory,
    PageFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

SITE_WIDE = {"/sitemap.xml", "/search/*", "/api/*"}


class TestPathsForItem:
    def test_an_article_touches_its_page_its_lists_feeds_archives_and_downloads(self):
        report = DocumentFactory()
        article = ArticleFactory(
            slug="garden",
            category=CategoryFactory(slug="news"),
            tags=[TagFactory(slug="rail"), TagFactory(slug="boats")],
            body='<p><a href="/documents/999/old.pdf">Old</a></p>',
        )
        article.attachments.add(report)
        assert paths.paths_for_item(article) == {
            "/",
            "/articles/*",
            "/articles/garden/",
            "/feeds/*",
            "/categories/news/*",  # the archive, its pages and its RSS and Atom feeds
            "/tags/rail/*",
            "/tags/boats/*",
            f"/documents/{report.pk}/*",
            "/documents/999/*",
            *SITE_WIDE,
        }

    def test_an_unsaved_uncategorised_article_touches_no_archive(self):
        article = Article(slug="new", body="")
        assert paths.paths_for_item(article) == {
            "/",
            "/articles/*",
            "/articles/new/",
            "/feeds/*",
            *SITE_WIDE,
        }

    def test_the_tag_feeds_lie_under_the_tag_path(self):
        article = ArticleFactory(tags=[TagFactory(slug="rail")])
        covered = collapse_paths(paths.paths_for_item(article))
        for feed in ("/tags/rail/rss/", "/tags/rail/atom/", "/tags/rail/?page=2"):
            assert any(feed.startswith(path[:-1]) for path in covered if path.endswith("*"))

    def test_a_page_touches_its_address_and_below_its_parent_and_its_downloads(self):
        about = PageFactory(slug="about")
        team = PageFactory(slug="team", parent=about)
        report = DocumentFactory()
        team.attachments.add(report)
        assert paths.paths_for_item(team) == {
            "/about/team/*",
            "/about/",  # its list of sub-pages
            f"/documents/{report.pk}/*",
            *SITE_WIDE,
        }

    def test_a_page_in_the_navigation_touches_every_page(self):
        page = PageFactory(slug="about", show_in_menus=True)
        assert paths.paths_for_item(page) == {paths.EVERY_PAGE}
        # Below the top level a page is not in the navigation, whatever it says.
        child = PageFactory(slug="team", parent=page, show_in_menus=True)
        assert paths.paths_for_item(child) == {"/about/team/*", "/about/", *SITE_WIDE}

    def test_a_category_or_tag_touches_every_page(self):
        assert paths.paths_for_item(CategoryFactory()) == {paths.EVERY_PAGE}
        assert paths.paths_for_item(TagFactory()) == {paths.EVERY_PAGE}


class TestPathsShowing:
    def test_only_live_items_count(self, django_assert_num_queries):
        live = ArticleFactory(slug="live")
        ArticleFactory(slug="draft", is_published=False, publish_at=None)
        ArticleFactory(slug="later", publish_at=timezone.now() + timedelta(hours=1))
        page = PageFactory(slug="about")
        PageFactory(slug="hidden", is_published=False, publish_at=None)
        with django_assert_num_queries(3):  # articles; their tags; their downloads
            shown = paths.paths_showing(articles=Article.objects.all())
        assert "/articles/live/" in shown
        assert not {"/articles/draft/", "/articles/later/"} & shown
        assert shown == paths.paths_for_item(live)
        with django_assert_num_queries(2):  # pages (parents joined); their downloads
            shown = paths.paths_showing(pages=Page.objects.all())
        assert shown == paths.paths_for_item(page)
        assert paths.paths_showing() == set()

    def test_an_image_touches_the_live_articles_it_is_the_hero_of(self):
        image = ImageFactory()
        ArticleFactory(slug="with-hero", hero_image=image)
        ArticleFactory(slug="draft-hero", hero_image=image, is_published=False, publish_at=None)
        ArticleFactory(slug="other")
        shown = paths.paths_showing_image(image)
        assert "/articles/with-hero/" in shown
        assert not {"/articles/draft-hero/", "/articles/other/"} & shown
        assert paths.paths_showing_image(ImageFactory()) == set()

    def test_a_document_touches_its_download_and_the_live_items_listing_it(self):
        document = DocumentFactory()
        article = ArticleFactory(slug="listing")
        article.attachments.add(document)
        page = PageFactory(slug="about")
        page.attachments.add(document)
        ArticleFactory(slug="draft", is_published=False, publish_at=None).attachments.add(document)
        shown = paths.paths_showing_document(document)
        assert f"/documents/{document.pk}/*" in shown
        assert {"/articles/listing/", "/about/*"} <= shown
        assert "/articles/draft/" not in shown
        # Unused, it still purges its own address (a 404 may be cached there).
        assert paths.paths_showing_document(DocumentFactory()) == {
            f"/documents/{DocumentFactory._meta.model.objects.latest('pk').pk}/*"
        }


class TestMediaPaths:
    def test_files_purge_their_folder_which_holds_their_renditions(self, settings):
        names = [
            "images/abc/photo.jpg",
            "images/abc/renditions/320.webp",
            "documents/def/report.pdf",
            "",
            "loose.txt",  # no folder: nothing to purge by prefix
        ]
        assert paths.media_paths(names) == {
            f"{settings.MEDIA_URL}images/abc/*",
            f"{settings.MEDIA_URL}images/abc/renditions/*",
            f"{settings.MEDIA_URL}documents/def/*",
        }

    def test_collapse_keeps_each_path_once_and_drops_what_a_wildcard_covers(self):
        article = ArticleFactory(slug="a", category=CategoryFactory(slug="news"))
        collapsed = collapse_paths(
            paths.paths_for_item(article) | {"/articles/a/", "/categories/news/rss/"}
        )
        assert collapsed == sorted(set(collapsed))
        assert "/articles/a/" not in collapsed  # under /articles/*
        assert "/categories/news/rss/" not in collapsed
        assert "/categories/news/*" in collapsed
        assert collapse_paths([paths.EVERY_PAGE, "/about/*", "/sitemap.xml"]) == ["/*"]
