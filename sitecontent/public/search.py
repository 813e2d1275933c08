"""Site search: PostgreSQL full-text search where available, a plain fallback elsewhere.

On PostgreSQL each article and page keeps a weighted search vector (title A, summary B,
body C), refreshed whenever it is saved, behind a GIN index; queries use
``websearch_to_tsquery``, which accepts anything a visitor types (quotes, "or", "-word")
without syntax errors, and results are ranked by ``ts_rank``. Elsewhere (SQLite on a
laptop) every word must appear somewhere, and title matches rank first.

Snippets are made in Python from the text (tags stripped, everything escaped), so the
highlighting works the same on both databases and can never carry markup.
"""

import html
import re

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, F, IntegerField, Q, Value, When
from django.utils.html import escape, strip_tags
from django.utils.safestring import SafeString, mark_safe

WEIGHTS = {
    "article": (("title", "A"), ("summary", "B"), ("body", "C")),
    "page": (("title", "A"), ("body", "C")),
}
CONFIG = "english"
MAX_QUERY_LENGTH = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_WORD = re.compile(r"\w+", re.UNICODE)
_OPERATORS = {"or", "and", "not"}


def uses_full_text() -> bool:
    return connection.vendor == "postgresql"


def clean_query(raw: str) -> str:
    """Whatever was typed, as something safe to search for (may be empty)."""
    return " ".join(_CONTROL.sub(" ", raw or "").split())[:MAX_QUERY_LENGTH]


def query_terms(query: str) -> list[str]:
    """The words a visitor is looking for (not the ones they excluded with "-word")."""
    wanted = []
    for token in query.split():
        if token.startswith("-"):
            continue
        for word in _WORD.findall(token.lower()):
            if word not in _OPERATORS and word not in wanted:
                wanted.append(word)
    return wanted[:10]


def update_vector(item) -> None:
    if not uses_full_text():
        return
    vector = None
    for field, weight in WEIGHTS[item._meta.model_name]:
        part = SearchVector(field, weight=weight, config=CONFIG)
        vector = part if vector is None else vector + part
    type(item).objects.filter(pk=item.pk).update(search_vector=vector)


def search(queryset, query: str):
    """``queryset`` narrowed to matches of ``query`` and ordered best first."""
    terms = query_terms(query)
    if not terms:
        return queryset.none()
    if uses_full_text():
        ts_query = SearchQuery(query, search_type="websearch", config=CONFIG)
        return (
            queryset.filter(search_vector=ts_query)
            .annotate(rank=SearchRank(F("search_vector"), ts_query))
            .order_by("-rank", "-publish_at", "-pk")
        )
    fields = [field for field, _weight in WEIGHTS[queryset.model._meta.model_name]]
    for term in terms:
        queryset = queryset.filter(
            Q.create([(f"{field}__icontains", term) for field in fields], connector=Q.OR)
        )
    title_hits = Q.create([("title__icontains", term) for term in terms], connector=Q.OR)
    return queryset.annotate(
        rank=Case(When(title_hits, then=Value(2)), default=Value(1), output_field=IntegerField())
    ).order_by("-rank", "-publish_at", "-pk")


def snippet(text: str, terms: list[str], *, width: int = 220) -> SafeString:
    """An escaped excerpt of ``text`` (HTML allowed) around the first match, with each
    matching word wrapped in <mark>."""
    plain = " ".join(html.unescape(strip_tags(text or "")).split())
    if not plain:
        return mark_safe("")
    stems = [re.escape(term[: max(4, len(term) - 2)]) for term in terms]
    pattern = re.compile(r"\b(" + "|".join(stems) + r")\w*", re.IGNORECASE) if stems else None
    match = pattern.search(plain) if pattern else None
    start = max(0, (match.start() if match else 0) - width // 3)
    excerpt = plain[start : start + width]
    prefix = "… " if start else ""
    suffix = " …" if start + width < len(plain) else ""
    pieces, last = [], 0
    for hit in pattern.finditer(excerpt) if pattern else ():
        pieces.append(escape(excerpt[last : hit.start()]))
        pieces.append(f"<mark>{escape(hit.group(0))}</mark>")
        last = hit.end()
    pieces.append(escape(excerpt[last:]))
    return mark_safe(prefix + "".join(pieces) + suffix)  # noqa: S308 - pieces escaped
