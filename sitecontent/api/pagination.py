"""The API's pagination: cursors for articles, numbered pages for the rest, and a page
size that refuses what it cannot honour."""

from rest_framework import exceptions, pagination


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
