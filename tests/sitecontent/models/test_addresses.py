"""Public addresses without a reverse() per link (sitecontent.models.addresses): the
same strings reverse() gives, in either URLconf and under a stage's script prefix, and
a page's reverse() calls do not grow with what it lists."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse, set_script_prefix, set_urlconf
from django.urls.resolvers import URLResolver

from sitecontent.models import addresses
from tests.factories import ArticleFactory, CategoryFactory, PageFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[None, "cms.public_urls"], ids=["full-urlconf", "public-urlconf"])
def urlconf(request):
    set_urlconf(request.param)
    yield request.param
    set_urlconf(None)


@pytest.fixture(params=["/", "/dev/"], ids=["root", "stage-prefix"])
def prefix(request):
    set_script_prefix(request.param)
    yield request.param
    set_script_prefix("/")


def test_model_addresses_are_what_reverse_gives(urlconf, prefix):
    about = PageFactory(slug="about")
    team = PageFactory(slug="team", parent=about)
    article = ArticleFactory(slug="harbour-news_2")
    category, tag = CategoryFactory(slug="news"), TagFactory(slug="tag-1")
    expected = {
        team: reverse("sitecontent:page_detail", kwargs={"path": "about/team"}),
        about: reverse("sitecontent:page_detail", kwargs={"path": "about"}),
        article: reverse("sitecontent:article_detail", kwargs={"slug": "harbour-news_2"}),
        category: reverse("sitecontent:category_detail", kwargs={"slug": "news"}),
        tag: reverse("sitecontent:tag_detail", kwargs={"slug": "tag-1"}),
    }
    for item, address in expected.items():
        assert item.get_absolute_url() == address
        assert address.startswith(prefix)


@pytest.mark.parametrize("value", ["café", "a b", "a/b", "", "a%2Fb", "../x", "a//b", "/a", "x?y"])
def test_values_reverse_would_quote_or_refuse_go_through_reverse(value, prefix):
    for name, kwarg, address in [
        ("sitecontent:article_detail", "slug", addresses.slug_address),
        ("sitecontent:page_detail", "path", addresses.path_address),
    ]:
        try:
            expected = reverse(name, kwargs={kwarg: value})
        except Exception as error:
            with pytest.raises(type(error)):
                address(name, kwarg, value)
        else:
            assert address(name, kwarg, value) == expected


def test_a_changed_urlconf_is_never_answered_from_an_old_cut(settings):
    article = ArticleFactory(slug="s")
    assert article.get_absolute_url() == "/articles/s/"
    settings.ROOT_URLCONF = "tests.sitecontent.models.urls_moved"  # clears URL caches
    assert article.get_absolute_url() == "/moved/s/"


def reverses(client, url):
    count = 0
    original = URLResolver._reverse_with_prefix

    def counted(self, *args, **kwargs):
        nonlocal count
        count += 1
        return original(self, *args, **kwargs)

    URLResolver._reverse_with_prefix = counted
    try:
        with CaptureQueriesContext(connection):
            assert client.get(url).status_code == 200
    finally:
        URLResolver._reverse_with_prefix = original
    return count


@pytest.mark.parametrize("url", ["/", "/articles/"])
def test_a_listing_reverses_no_more_urls_for_more_articles(client, url):
    tags = TagFactory.create_batch(2)
    ArticleFactory(featured=True, tags=tags)
    ArticleFactory(tags=tags)
    PageFactory(show_in_menus=True)
    client.get(url)  # the first request cuts each URL name once
    few = reverses(client, url)
    for _ in range(12):
        ArticleFactory(featured=True, tags=tags, category=CategoryFactory())
    PageFactory(show_in_menus=True)
    assert reverses(client, url) == few <= 8  # the base template's own {% url %} tags
