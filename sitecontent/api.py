"""The read-only content API (/api/v1/): live articles, pages, categories, tags, images.

Django REST framework with django-filter; the OpenAPI document (drf-spectacular, see
sitecontent.api_schema) is at /api/v1/openapi.json. Only what the public site shows is
served: live items, pages whose parents are all live, images used by live articles.
Responses are cached like pages (sitecontent.caching) and carry ETags; CORS allows any
origin to GET.
"""

from datetime import UTC

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import JsonResponse
from django.utils.functional import cached_property
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField
from rest_framework import exceptions, mixins, pagination, serializers, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.views import exception_handler

from . import selectors
from .models import Article, Category, Image, Page, Tag
from .templatetags.site_tags import absolute_url  # links name SITE_URL, whatever host served

# -- serializers ----------------------------------------------------------------


class RenditionSerializer(serializers.Serializer):
    url = serializers.SerializerMethodField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    format = serializers.CharField(help_text="WEBP, JPEG or PNG")

    def get_url(self, rendition) -> str:
        return absolute_url(default_storage.url(rendition["name"]))


class ImageSerializer(serializers.ModelSerializer):
    url = serializers.SerializerMethodField(help_text="The original file.")
    renditions = RenditionSerializer(many=True, help_text="Resized copies, for srcset.")

    class Meta:
        model = Image
        fields = ["id", "title", "alt_text", "caption", "credit", "width", "height", "url",
                  "renditions"]  # fmt: skip

    def get_url(self, image) -> str:
        return absolute_url(image.file.url)


class HtmlUrlMixin(serializers.Serializer):
    html_url = serializers.SerializerMethodField(help_text="The page on the public site.")

    def get_html_url(self, item) -> str:
        return absolute_url(item.get_absolute_url())


class CategorySerializer(HtmlUrlMixin, serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["slug", "name", "description", "html_url"]


class TagSerializer(HtmlUrlMixin, serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["slug", "name", "html_url"]


class AuthorSerializer(serializers.Serializer):
    name = serializers.CharField(source="public_name")
    bio = serializers.CharField()


class DocumentSerializer(HtmlUrlMixin, serializers.Serializer):
    title = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")


class ArticleSerializer(HtmlUrlMixin, serializers.ModelSerializer):
    published_at = serializers.DateTimeField(source="publish_at")
    author = AuthorSerializer()
    category = CategorySerializer(allow_null=True)
    tags = TagSerializer(many=True)
    hero_image = ImageSerializer(allow_null=True)

    class Meta:
        model = Article
        fields = ["slug", "title", "summary", "published_at", "updated_at", "html_url",
                  "author", "category", "tags", "hero_image"]  # fmt: skip


class RichTextSerializerField(serializers.CharField):
    """Editor HTML through the same render path as the pages (sitecontent.richtext)."""

    def to_representation(self, value):
        from .richtext import sanitize_html

        return sanitize_html(value)


class ArticleDetailSerializer(ArticleSerializer):
    body = RichTextSerializerField(help_text="Sanitized HTML.")
    attachments = DocumentSerializer(many=True)

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body", "attachments", "seo_title",
                  "seo_description"]  # fmt: skip


class PageSerializer(HtmlUrlMixin, serializers.ModelSerializer):
    path = serializers.CharField(source="url_path", help_text='The slug path, e.g. "about/team".')
    parent = serializers.IntegerField(source="parent_id", allow_null=True)
    published_at = serializers.DateTimeField(source="publish_at")
    body = RichTextSerializerField(help_text="Sanitized HTML.")

    class Meta:
        model = Page
        fields = ["id", "title", "slug", "path", "parent", "menu_order", "show_in_menus",
                  "published_at", "updated_at", "html_url", "body", "seo_title",
                  "seo_description"]  # fmt: skip


# -- pagination and filters ------------------------------------------------------


class StrictPageSize:
    """DRF quietly falls back to the default for a page_size it cannot use; a client
    asking for 500 or "ten" should learn why it got 20, so refuse with a 400."""

    page_size_query_param = "page_size"

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None or raw == "":
            return self.page_size
        try:
            size = int(raw)
        except ValueError:
            size = 0
        if not 1 <= size <= self.max_page_size:
            raise exceptions.ValidationError(
                {"page_size": [f"Must be a whole number from 1 to {self.max_page_size}."]}
            )
        return size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


class ArticleCursor(StrictPageSize, pagination.CursorPagination):
    """Stable as new articles go live: the cursor marks a place, not a page number."""

    page_size = 20
    max_page_size = 100
    ordering = ("-publish_at", "-pk")


class Numbered(StrictPageSize, pagination.PageNumberPagination):
    page_size = 50
    max_page_size = 200


class SlugFilter(filters.CharFilter):
    """Anything but a slug cannot match, so it is refused (400) rather than answered
    with an empty list that looks like "no articles in that category"."""

    field_class = forms.SlugField


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 time in any offset Python accepts, handed to the database in UTC:
    PostgreSQL refuses offsets beyond ±15:59, and year-1 times can overflow."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        try:
            return value.astimezone(UTC)
        except OverflowError:
            raise ValidationError("Out of range.", code="invalid") from None


class UTCDateTimeFilter(filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class ArticleFilter(filters.FilterSet):
    category = SlugFilter(field_name="category__slug", help_text="A category slug.")
    tag = SlugFilter(field_name="tags__slug", help_text="A tag slug.")
    published_after = UTCDateTimeFilter(field_name="publish_at", lookup_expr="gte")
    published_before = UTCDateTimeFilter(field_name="publish_at", lookup_expr="lt")

    class Meta:
        model = Article
        fields = ["category", "tag", "published_after", "published_before"]


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
    """Images the public site shows (heroes of live articles), with their renditions."""

    serializer_class = ImageSerializer
    pagination_class = Numbered

    def get_queryset(self):
        live_heroes = Article.objects.live().values("hero_image")
        return Image.objects.filter(pk__in=live_heroes).order_by("-created_at", "-pk")


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
    """/api/v1/openapi.json (built by sitecontent.api_schema, imported only here)."""
    from .api_schema import document

    return JsonResponse(document())


def not_found(request, *args, **kwargs):
    """Any address under /api/ that is not part of the API: a JSON 404."""
    return JsonResponse({"detail": "Not found."}, status=404)
