"""The read-only content API (/api/v1/): live articles, pages, categories, tags, images.

Django REST framework with django-filter; the OpenAPI document (drf-spectacular, see
sitecontent.api.schema) is at /api/v1/openapi.json. Only what the public site shows is
served: live items, pages whose parents are all live, images live pages show.
Responses are cached like pages (sitecontent.caching.middleware) and carry ETags; CORS allows any
origin to GET.
"""

from django.conf import settings
from django.http import JsonResponse
from django.utils.functional import cached_property
from rest_framework import exceptions, mixins, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.views import exception_handler

from sitecontent.api.filters import ArticleFilter
from sitecontent.api.pagination import ArticleCursor, Numbered
from sitecontent.api.serializers import (
    ArticleDetailSerializer,
    ArticleSerializer,
    CategorySerializer,
    ImageSerializer,
    PageSerializer,
    TagSerializer,
)
from sitecontent.models import Category, Image, Page, Tag, visibility
from sitecontent.public import selectors

# -- views ----------------------------------------------------------------------


class NoExtraActions:
    """These viewsets route no @action. DRF finds actions with inspect.getmembers,
    which reads every attribute, `schema` included, and so imports drf-spectacular's
    AutoSchema (and django.test with it) while the URLconf loads: on every cold start."""

    @classmethod
    def get_extra_actions(cls):
        return []


class ArticleViewSet(NoExtraActions, viewsets.ReadOnlyModelViewSet):
    """Live articles, newest first."""

    lookup_field = "slug"
    pagination_class = ArticleCursor
    filterset_class = ArticleFilter

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.article_detail_queryset()
        return selectors.article_list()

    def get_serializer_class(self):
        return ArticleDetailSerializer if self.action == "retrieve" else ArticleSerializer


class CategoryViewSet(NoExtraActions, viewsets.ReadOnlyModelViewSet):
    queryset = Category.objects.order_by("name")
    serializer_class = CategorySerializer
    lookup_field = "slug"
    pagination_class = Numbered


class TagViewSet(CategoryViewSet):
    queryset = Tag.objects.order_by("name")
    serializer_class = TagSerializer


class ImageViewSet(NoExtraActions, viewsets.ReadOnlyModelViewSet):
    """Images the public site shows (sitecontent.models.visibility.public_images: heroes
    of live articles and images in live bodies), with their renditions."""

    queryset = Image.objects.none()  # the model, for the OpenAPI document
    serializer_class = ImageSerializer
    pagination_class = Numbered

    def get_queryset(self):
        return visibility.public_images().order_by("-created_at", "-pk")


class PageViewSet(NoExtraActions, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Live pages a visitor can reach (every parent live too), in navigation order.

    ``?path=about/team`` narrows the list to the page at that address."""

    queryset = Page.objects.none()  # the model, for the OpenAPI document
    serializer_class = PageSerializer
    pagination_class = Numbered

    @cached_property
    def _pages(self):
        path = self.request.query_params.get("path")
        if path:  # empty means absent, as for every other filter
            page = selectors.page_by_path(path)
            return [page] if page else []
        return selectors.reachable_pages()

    def get_queryset(self):  # a list: the parent chain is resolved in Python, once
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return self._pages


class PageDetail(NoExtraActions, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Page.objects.none()
    serializer_class = PageSerializer
    lookup_value_regex = r"\d+"

    def get_object(self):
        page = next((p for p in selectors.reachable_pages() if p.pk == self._pk()), None)
        if page is None:
            raise NotFound
        return page

    def _pk(self):
        try:
            return int(self.kwargs["pk"])
        except (TypeError, ValueError):
            raise NotFound from None


# -- errors -----------------------------------------------------------------------


def handle_exception(exc, context):
    """Every error has the same shape: {"detail": "..."} plus, for bad input,
    {"errors": {"parameter": ["what is wrong"]}} so a client can show it per field."""
    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        errors = response.data if isinstance(response.data, dict) else {"": response.data}
        response.data = {"detail": "Invalid request.", "errors": errors}
    return response


def openapi_document(request):
    """/api/v1/openapi.json (built by sitecontent.api.schema, imported only here)."""
    from sitecontent.api.schema import document

    return JsonResponse(document())


def not_found(request, *args, **kwargs):
    """Any address under /api/ that is not part of the API: a JSON 404."""
    return JsonResponse({"detail": "Not found."}, status=404)


def index(request):
    """/api/v1/: what the API offers, each as an absolute link (SITE_URL, as the
    items' own links), with its OpenAPI document and the browsable docs."""
    from django.urls import reverse

    from sitecontent.public.templating import absolute_url

    urlconf = "sitecontent.api.urls"
    endpoints = {
        "articles": reverse("api-article-list", urlconf=urlconf),
        "pages": reverse("api-page-list", urlconf=urlconf),
        "categories": reverse("api-category-list", urlconf=urlconf),
        "tags": reverse("api-tag-list", urlconf=urlconf),
        "images": reverse("api-image-list", urlconf=urlconf),
    }
    return JsonResponse(
        {
            "name": settings.SPECTACULAR_SETTINGS["TITLE"],
            "version": settings.SPECTACULAR_SETTINGS["VERSION"],
            "endpoints": {name: absolute_url(path) for name, path in endpoints.items()},
            "openapi": absolute_url(reverse("openapi", urlconf=urlconf)),
            "docs": absolute_url(reverse("api-docs", urlconf=urlconf)),
        }
    )


def docs(request):
    """/api/v1/docs/: Swagger UI over the OpenAPI document, its files served from
    static/ (drf-spectacular-sidecar: no CDN) and started by a static script, as the
    Content Security Policy wants (no inline script or style)."""
    from django.shortcuts import render
    from django.urls import reverse

    schema_url = reverse("openapi", urlconf="sitecontent.api.urls")
    return render(request, "sitecontent/api_docs.html", {"schema_url": schema_url})
