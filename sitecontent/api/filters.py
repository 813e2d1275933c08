"""The API's filters: which query parameters each list takes, and how they are read."""

from datetime import UTC

from django import forms
from django.core.exceptions import ValidationError
from django_filters import rest_framework as filters
from django_filters.fields import IsoDateTimeField

from sitecontent.models import Article


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
