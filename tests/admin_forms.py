"""What the admin's forms post, for tests that post them."""

from django.utils import timezone


def article_form(**overrides):
    """What the admin's article form posts; publication fields are the publisher's."""
    data = {
        "title": "Fresh piece",
        "slug": "fresh-piece",
        "summary": "Summary.",
        "body": "<p>Body</p>",
        "author": "",
        "category": "",
        "seo_title": "",
        "seo_description": "",
        "publish_at_0": "",
        "publish_at_1": "",
        "unpublish_at_0": "",
        "unpublish_at_1": "",
    }
    data.update(overrides)
    return data


def page_form(**overrides):
    """What the admin's page form posts; publication fields are the publisher's."""
    data = {
        "title": "About",
        "slug": "about",
        "parent": "",
        "body": "",
        "menu_order": "0",
        "seo_title": "",
        "seo_description": "",
        "publish_at_0": "",
        "publish_at_1": "",
        "unpublish_at_0": "",
        "unpublish_at_1": "",
    }
    data.update(overrides)
    return data


def split(dt):
    local = timezone.localtime(dt)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def article_form_for(article, **overrides):
    """The change form of an existing article as the admin would post it back."""
    publish_date, publish_time = split(article.publish_at) if article.publish_at else ("", "")
    data = article_form(
        title=article.title,
        slug=article.slug,
        summary=article.summary,
        body=article.body,
        author=article.author_id,
        category=article.category_id or "",
        tags=[tag.pk for tag in article.tags.all()],
        seo_title=article.seo_title,
        seo_description=article.seo_description,
        publish_at_0=publish_date,
        publish_at_1=publish_time,
    )
    if article.is_published:
        data["is_published"] = "on"
    data.update(overrides)
    return data
