from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from tests.factories import (
    ArticleFactory,
    ImageFactory,
    PageFactory,
    TagFactory,
    UserFactory,
)
from tests.html_safety import problems

pytestmark = pytest.mark.django_db

NOT_FOUND_TEXT = "Page not found"


def assert_site_404(response):
    assert response.status_code == 404
    assert NOT_FOUND_TEXT in response.content.decode()


class TestVisibility:
    def test_home_and_list_show_only_live_articles(self, client):
        live = ArticleFactory(title="Live one")
        ArticleFactory(title="Draft one", is_published=False, publish_at=None)
        ArticleFactory(title="Future one", publish_at=timezone.now() + timedelta(hours=1))
        ArticleFactory(
            title="Gone one",
            publish_at=timezone.now() - timedelta(days=3),
            unpublish_at=timezone.now() - timedelta(days=1),
        )
        for url in ("/", "/articles/", live.category.get_absolute_url()):
            html = client.get(url).content.decode()
            assert "Live one" in html, url
            for hidden in ("Draft one", "Future one", "Gone one"):
                assert hidden not in html, (url, hidden)

    @pytest.mark.parametrize(
        "fields",
        [
            {"is_published": False, "publish_at": None},
            {"publish_at": timezone.now() + timedelta(days=1)},
            {
                "publish_at": timezone.now() - timedelta(days=2),
                "unpublish_at": timezone.now() - timedelta(days=1),
            },
        ],
        ids=["draft", "scheduled", "expired"],
    )
    def test_hidden_article_detail_is_the_site_404(self, client, fields):
        article = ArticleFactory(**fields)
        assert_site_404(client.get(article.get_absolute_url()))

    def test_scheduled_article_appears_at_its_minute_without_any_job(self, client):
        go_live = (timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
        article = ArticleFactory(title="Timed piece", publish_at=go_live)
        with time_machine.travel(go_live - timedelta(seconds=1), tick=False):
            assert client.get(article.get_absolute_url()).status_code == 404
            assert "Timed piece" not in client.get("/").content.decode()
        with time_machine.travel(go_live, tick=False):
            assert client.get(article.get_absolute_url()).status_code == 200
            assert "Timed piece" in client.get("/").content.decode()

    @pytest.mark.parametrize(
        "url", ["/articles/nope/", "/categories/nope/", "/tags/nope/", "/no/such/page/"]
    )
    def test_unknown_addresses_are_the_site_404(self, client, url):
        assert_site_404(client.get(url))

    @pytest.mark.parametrize("page", ["99", "0", "abc"])
    def test_page_numbers_out_of_range_are_404(self, client, page):
        ArticleFactory()
        assert client.get("/articles/", {"page": page}).status_code == 404


class TestContent:
    def test_article_detail_shows_its_parts(self, client):
        author = UserFactory(display_name="Dana Scribe", bio="Writes about clouds.")
        tag = TagFactory(name="Serverless")
        article = ArticleFactory(
            title="On Lambdas",
            summary="Why functions.",
            body="<h2>Part one</h2><p>Text</p>",
            author=author,
            hero_image=ImageFactory(alt_text="A blue square"),
            seo_title="Lambdas, explained",
            tags=[tag],
        )
        html = client.get(article.get_absolute_url()).content.decode()
        assert "<title>Lambdas, explained" in html
        assert "<h2>Part one</h2>" in html
        assert 'alt="A blue square" width="64" height="48"' in html
        assert "Dana Scribe" in html
        assert "Writes about clouds." in html
        assert tag.get_absolute_url() in html
        assert article.category.name in html

    def test_rendered_body_cannot_run_script(self, client):
        article = ArticleFactory(title="<script>t()</script>", body="<script>alert(1)</script>")
        html = client.get(article.get_absolute_url()).content.decode()
        assert problems(html, allow=lambda tag, attrs: tag == "link") == []
        assert "&lt;script&gt;t()&lt;/script&gt;" in html

    def test_tag_archive_lists_tagged_articles_only(self, client):
        tag = TagFactory(name="AWS")
        ArticleFactory(title="Tagged", tags=[tag])
        ArticleFactory(title="Untagged")
        html = client.get(tag.get_absolute_url()).content.decode()
        assert "Tagged" in html
        assert "Untagged" not in html

    def test_featured_articles_lead_the_home_page(self, client):
        ArticleFactory(title="Ordinary")
        ArticleFactory(title="Star", featured=True)
        html = client.get("/").content.decode()
        assert html.index("Featured") < html.index("Star") < html.index("Latest articles")

    def test_list_paginates(self, client, settings):
        for _ in range(settings.ARTICLES_PER_PAGE + 1):
            ArticleFactory()
        first = client.get("/articles/")
        # context_data: the view's context (the test client's .context is Django
        # templates' only; these pages are Jinja2's)
        assert len(first.context_data["articles"]) == settings.ARTICLES_PER_PAGE
        assert first.content.decode().count('<article class="card">') == settings.ARTICLES_PER_PAGE
        assert 'rel="next" href="?page=2"' in first.content.decode()
        assert len(client.get("/articles/", {"page": 2}).context_data["articles"]) == 1


class TestPages:
    def test_nested_page_with_breadcrumbs_and_children(self, client):
        about = PageFactory(slug="about", title="About us")
        team = PageFactory(slug="team", title="The team", parent=about)
        PageFactory(slug="jobs", title="Jobs", parent=about)
        html = client.get("/about/").content.decode()
        assert "About us" in html
        assert "/about/team/" in html
        assert "/about/jobs/" in html
        html = client.get(team.get_absolute_url()).content.decode()
        assert 'aria-label="Breadcrumb"' in html
        assert 'href="/about/"' in html

    def test_page_under_a_draft_parent_is_hidden(self, client):
        draft = PageFactory(slug="secret", is_published=False, publish_at=None)
        PageFactory(slug="child", parent=draft)
        assert_site_404(client.get("/secret/"))
        assert_site_404(client.get("/secret/child/"))

    def test_navigation_lists_menu_pages_in_editor_order(self, client):
        PageFactory(title="Second", slug="second", show_in_menus=True, menu_order=2)
        PageFactory(title="First", slug="first", show_in_menus=True, menu_order=1)
        PageFactory(title="Hidden", slug="hidden", show_in_menus=False)
        PageFactory(
            title="Drafty", slug="drafty", show_in_menus=True, is_published=False, publish_at=None
        )
        nav = client.get("/").content.decode().split('aria-label="Main"')[1].split("</nav>")[0]
        assert nav.index("First") < nav.index("Second")
        assert "Hidden" not in nav
        assert "Drafty" not in nav


def test_500_page_renders_without_a_database(rf, django_assert_num_queries):
    from django.views.defaults import server_error

    with django_assert_num_queries(0):  # it must work when the database is the problem
        response = server_error(rf.get("/"))
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


class TestMarkup:
    def test_navigation_marks_the_section_of_a_sub_page(self, client):
        about = PageFactory(slug="about", title="About", show_in_menus=True)
        PageFactory(slug="team", parent=about)
        nav = client.get("/about/team/").content.decode().split('aria-label="Main"')[1]
        assert '<a href="/about/" aria-current="true">About</a>' in nav
        article = ArticleFactory()
        nav = client.get(article.get_absolute_url()).content.decode().split('aria-label="Main"')[1]
        assert '<a href="/articles/" aria-current="true">Articles</a>' in nav

    def test_page_description_defaults_to_its_text(self, client):
        PageFactory(slug="about", body="<p>We write <b>guides</b>.</p>", seo_description="")
        html = client.get("/about/").content.decode()
        assert '<meta name="description" content="We write guides.">' in html

    def test_list_pages_have_their_own_canonical_address_and_h2_cards(self, client, settings):
        ArticleFactory.create_batch(settings.ARTICLES_PER_PAGE + 1)
        html = client.get("/articles/", {"page": 2}).content.decode()
        assert f'rel="canonical" href="{settings.SITE_URL}/articles/?page=2"' in html
        assert '<h2 class="card-title">' in html
        assert "<h3" not in html
