from django.conf import settings
from django.utils.functional import SimpleLazyObject

from sitecontent.public import selectors


def site(request):
    """Site name and navigation. Lazy, so admin pages never run the navigation query."""
    return {
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "nav_pages": SimpleLazyObject(selectors.navigation),
    }
