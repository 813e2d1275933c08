"""The public site's reads: each selector returns live content only (never a draft, a
scheduled or an expired item, nor a page under one), and costs a fixed number of
queries however much it returns."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sitecontent.public import selectors
from tests.factories import ArticleFactory, CategoryFactory, PageFactory, TagFactory

pytestmark = pytest.mark.django_db


def hidden_states():
    """Keyword arguments for an item in each state the public site hides."""
    now = timezone.now()
    return {
        "draft": {"is_published": False, "publish_at": None},
        "scheduled": {"publish_at": now + timedelta(hours=2)},
        "expired": {
            "publish_at": now - timedelta(days=3),
            "unpublish_at": now - timedelta(days=1),
        },
    }


@pytest.fixture
def articles():
    news = CategoryFactory(slug="news")
    live = [
        ArticleFactory(
            title=f"Live {n}",
            category=news,
            featured=True,
            publish_at=timezone.now() - timedelta(hours=n + 1),
            tags=[TagFactory(), TagFactory()],
        )
        for n in range(3)
    ]
    for state, fields in hidden_states().items():
        ArticleFactory(title=f"Hidden {state}", category=news, featured=True, **fields)
    ArticleFactory(title="Hidden draft elsewhere", **hidden_states()["draft"])
    return live


@pytest.fixture
def pages():
    about = PageFactory(title="About", slug="about", show_in_menus=True)
    team = PageFactory(title="Team", slug="team", parent=about)
    hidden = {
        state: PageFactory(title=f"Hidden {state}", slug=state, show_in_menus=True, **fields)
        for state, fields in hidden_states().items()
    }
    PageFactory(title="Under a draft", slug="orphan", parent=hidden["draft"])
    PageFactory(title="Hidden child", slug="later", parent=about, **hidden_states()["scheduled"])
    return about, team


def titles(items):
    return [item.title for item in items]


class TestArticles:
    def test_listings_hold_only_live_articles_newest_first(
        self, articles, django_assert_num_queries
    ):
        expected = titles(articles)
        with django_assert_num_queries(2):  # the articles, and all their tags
            listed = list(selectors.article_list())
            assert [len(article.tags.all()) for article in listed] == [2, 2, 2]
        assert titles(listed) == expected
        with django_assert_num_queries(1):
            assert titles(selectors.featured_articles(limit=5)) == expected
        with django_assert_num_queries(1):
            latest = selectors.latest_articles(limit=5, exclude_ids=[articles[0].pk])
            assert titles(latest) == expected[1:]

    def test_cards_join_what_they_show_and_leave_the_body_out(
        self, articles, django_assert_num_queries
    ):
        with django_assert_num_queries(1):
            for article in selectors.featured_articles():
                assert article.author.public_name
                assert article.category.slug == "news"
        assert "body" in selectors.featured_articles()[0].get_deferred_fields()

    def test_the_detail_queryset_finds_live_articles_only(
        self, articles, django_assert_num_queries
    ):
        queryset = selectors.article_detail_queryset()
        with django_assert_num_queries(3):  # the article, its tags, its downloads
            article = queryset.get(slug=articles[0].slug)
            assert list(article.attachments.all()) == []
            assert len(article.tags.all()) == 2
        assert article.body
        for state in hidden_states():
            assert not queryset.filter(title=f"Hidden {state}").exists()

    def test_search_reads_live_articles_with_their_bodies(
        self, articles, django_assert_num_queries
    ):
        with django_assert_num_queries(1):
            found = list(selectors.search_articles())
            assert all(article.body for article in found)
        assert titles(found) == titles(articles)

    def test_the_sitemap_and_listing_dates_count_only_live_articles(
        self, articles, django_assert_num_queries
    ):
        with django_assert_num_queries(1):
            assert [a.slug for a in selectors.sitemap_articles()] == [a.slug for a in articles]
        newest = max(max(a.updated_at, a.publish_at) for a in articles)
        with django_assert_num_queries(1):
            assert selectors.newest_listing_change() == newest

    def test_only_categories_with_live_articles_are_listed(
        self, articles, django_assert_num_queries
    ):
        CategoryFactory(slug="empty")
        ArticleFactory(category=CategoryFactory(slug="drafts-only"), **hidden_states()["draft"])
        with django_assert_num_queries(1):
            listed = selectors.categories_with_live_articles()
            assert [category.slug for category in listed] == ["news"]
        newest = max(max(a.updated_at, a.publish_at) for a in articles)
        assert listed[0].lastmod == newest

    def test_nothing_live_means_no_listing_change(self):
        ArticleFactory(**hidden_states()["draft"])
        assert selectors.newest_listing_change() is None


class TestPages:
    def test_reachable_pages_skip_hidden_pages_and_those_under_them(
        self, pages, django_assert_num_queries
    ):
        with django_assert_num_queries(1):
            reachable = selectors.reachable_pages()
            urls = [page.get_absolute_url() for page in reachable]
        assert titles(reachable) == ["About", "Team"]
        assert urls == ["/about/", "/about/team/"]
        assert titles(selectors.search_pages().order_by("title")) == ["About", "Team"]

    def test_page_by_path_walks_live_pages_only(self, pages, django_assert_num_queries):
        _about, team = pages
        with django_assert_num_queries(2):  # the candidates, and the page's downloads
            found = selectors.page_by_path("about/team")
            assert found == team
            assert found.get_absolute_url() == "/about/team/"
        assert selectors.page_by_path("draft/orphan") is None
        assert selectors.page_by_path("about/later") is None
        assert selectors.page_by_path("team") is None  # not at the top
        assert selectors.page_by_path("") is None

    def test_navigation_and_children_list_live_pages(self, pages, django_assert_num_queries):
        about, _team = pages
        with django_assert_num_queries(1):
            assert titles(selectors.navigation_pages()) == ["About"]
        with django_assert_num_queries(1):
            children = selectors.page_children(about)
            assert [child.get_absolute_url() for child in children] == ["/about/team/"]
