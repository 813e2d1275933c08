"""Hostile markup posted straight to the admin, into every field of an article, comes out
inert on the public page and in the admin's list; the sanitizer is idempotent."""

import pytest

from sitecontent.models import Article
from sitecontent.richtext import sanitize_html
from tests.admin_forms import article_form, page_form
from tests.html_safety import problems
from tests.xss_corpus import PAYLOADS

CASES = list(enumerate(PAYLOADS))


def test_there_are_at_least_two_hundred_payloads_and_the_checker_sees_them():
    assert len(PAYLOADS) >= 200
    # "<scr<script>ipt>" is no script to a browser either: it attacks sanitizers that
    # delete "<script>" and so assemble one. Every other payload is dangerous as sent.
    blind = {payload for payload in PAYLOADS if not problems(payload)}
    assert all("<scr<script>" in payload.lower() for payload in blind)
    assert len(blind) <= 4


def _public_page_allows(tag, attributes):
    """The page's own stylesheet; nothing else."""
    return tag == "link" and (attributes.get("href") or "").startswith("/static/css/")


def _page_with_pictures_allows(tag, attributes):
    """...and the WebP <source> of the page's own <picture> elements."""
    return _public_page_allows(tag, attributes) or (
        tag == "source" and attributes.get("type") == "image/webp"
    )


def _admin_list_allows(tag, attributes):
    return tag == "input" and attributes.get("type") in {"checkbox", "hidden"}


@pytest.mark.django_db
@pytest.mark.parametrize(("number", "payload"), CASES, ids=[f"p{n}" for n, _ in CASES])
def test_payload_in_every_field_is_inert_everywhere(publisher_client, client, number, payload):
    slug = f"xss-{number}"
    response = publisher_client.post(
        "/admin/sitecontent/article/add/",
        article_form(
            title=payload[:200],
            slug=slug,
            summary=payload[:500],
            body=payload,
            seo_title=payload[:70],
            seo_description=payload[:160],
            author=publisher_client.user.pk,
            is_published="on",
        ),
    )
    if response.status_code == 200:  # refused: it must say why, and store nothing
        errors = response.context["adminform"].form.errors
        assert errors
        assert "\x00" in payload  # the only input Django's forms refuse outright
        assert not Article.objects.filter(slug=slug).exists()
        return
    assert response.status_code == 302
    article = Article.objects.get(slug=slug)
    assert sanitize_html(article.body) == article.body

    public = client.get(f"/articles/{slug}/")
    assert public.status_code == 200
    assert problems(public.content.decode(), allow=_public_page_allows) == []

    listing = publisher_client.get("/admin/sitecontent/article/", {"q": slug})
    table = listing.content.decode().split('id="result_list"', 1)[1].split("</table>", 1)[0]
    assert problems(table, allow=_admin_list_allows) == []


def _posted(response, payload, label):
    """True if the admin saved the form; a refusal must name its errors (only a NUL byte
    is refused outright)."""
    if response.status_code == 302:
        return True
    assert response.status_code == 200, label
    assert response.context["adminform"].form.errors, label
    assert "\x00" in payload, label
    return False


def _limit(model, field):
    return model._meta.get_field(field).max_length


@pytest.mark.django_db
@pytest.mark.parametrize(("number", "payload"), CASES, ids=[f"p{n}" for n, _ in CASES])
def test_payload_in_every_other_field_is_inert_everywhere(
    publisher_client, client, number, payload
):
    """Pages, categories, tags, image texts and the author's byline and bio: posted
    through their admin forms, shown on the public pages and admin lists that show them."""
    from sitecontent.models import Category, Image, Page, Tag, User
    from tests.factories import ArticleFactory, ImageFactory

    me, slug = publisher_client.user, f"xss-{number}"
    posts = {
        "profile": (
            f"/admin/sitecontent/user/{me.pk}/change/",
            {"display_name": payload[: _limit(User, "display_name")], "bio": payload},
        ),
        "category": (
            "/admin/sitecontent/category/add/",
            {"name": payload[: _limit(Category, "name")], "slug": slug, "description": payload},
        ),
        "tag": (
            "/admin/sitecontent/tag/add/",
            {"name": payload[: _limit(Tag, "name")], "slug": slug},
        ),
        "page": (
            "/admin/sitecontent/page/add/",
            page_form(
                title=payload[: _limit(Page, "title")],
                slug=slug,
                body=payload,
                seo_title=payload[: _limit(Page, "seo_title")],
                seo_description=payload[: _limit(Page, "seo_description")],
                show_in_menus="on",
                is_published="on",
            ),
        ),
    }
    image = ImageFactory()
    posts["image"] = (
        f"/admin/sitecontent/image/{image.pk}/change/",
        {
            "title": payload[: _limit(Image, "title")],
            "alt_text": payload[: _limit(Image, "alt_text")] or "x",
            "caption": payload[: _limit(Image, "caption")],
            "credit": payload[: _limit(Image, "credit")],
        },
    )
    for label, (url, data) in posts.items():
        if not _posted(publisher_client.post(url, data), payload, label):
            return
    category, tag = Category.objects.get(slug=slug), Tag.objects.get(slug=slug)
    article = ArticleFactory(slug=slug, author=me, category=category, hero_image=image, tags=[tag])

    for url in (
        article.get_absolute_url(),
        category.get_absolute_url(),
        tag.get_absolute_url(),
        Page.objects.get(slug=slug).get_absolute_url(),
        "/",
        "/articles/",
    ):
        public = client.get(url)
        assert public.status_code == 200, url
        assert problems(public.content.decode(), allow=_page_with_pictures_allows) == [], url

    for model in ("page", "category", "tag", "image", "article"):
        listing = publisher_client.get(f"/admin/sitecontent/{model}/")
        table = listing.content.decode().split('id="result_list"', 1)[1].split("</table>", 1)[0]
        allow = _admin_list_allows
        if model == "image":  # its thumbnails are the list's own images
            allow = lambda tag, attrs: _admin_list_allows(tag, attrs) or tag == "img"  # noqa: E731
        assert problems(table, allow=allow) == [], model
