"""Public-site receivers: the search vector follows each save, and the Sites
framework's one site follows SITE_URL."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from sitecontent.models import Article, Page
from sitecontent.public import search


@receiver(post_save)
def refresh_search_vector(sender, instance, raw=False, **kwargs):
    if not raw and sender in (Article, Page):
        search.update_vector(instance)


def sync_site_address(sender, **kwargs):
    """Keep the Sites framework's one site on SITE_URL (feeds and the sitemap use it)."""
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.contrib.sites.models import Site

    Site.objects.update_or_create(
        pk=settings.SITE_ID,
        defaults={"domain": urlsplit(settings.SITE_URL).netloc, "name": settings.SITE_NAME},
    )
