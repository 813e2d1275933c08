"""Querysets whose SQL is compiled once per process; each run binds only the clock.

Building a queryset and compiling it to SQL costs Django far more than SQLite (or
PostgreSQL, for these small indexed reads) takes to run it: about 0.8 ms against 0.05 ms
for an article card listing with its author, category and image joined. The home page,
the article list and the navigation run the same few queries on every request; only
the time they are live "at" changes. A ``FixedQuery`` compiles its queryset once, with
a marker time, remembers which parameters are the marker, and on each run puts the
current time in their place and hands the result rows to Django's own iterables (model
instances, ``select_related`` rows, ``prefetch_related`` lookups): only the SQL text is
reused, nothing else.

It is for querysets whose SQL depends on nothing but ``at``: no ids, slugs or lists from
the request (those would be baked into the first compile). A queryset whose marker
does not come out as a parameter is refused at the first run, not answered wrongly.
tests/sitecontent/public/test_compiled.py compares every one with its plain queryset
across go-live and expiry times.
"""

import copy
import datetime
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Func, IntegerField, QuerySet

# A time no content carries, so no other parameter equals it.
_MARK = datetime.datetime(1999, 12, 31, 23, 58, 59, 123457, tzinfo=datetime.UTC)
_NO_ROWS = object()


class FixedQuery:
    """``FixedQuery(lambda at: Article.objects.live(at)…)``: call it with a time to
    get the rows ``build(at)`` would give, as a list."""

    def __init__(self, build: Callable[[datetime.datetime], QuerySet], *, timed: bool = True):
        self.build, self.timed = build, timed  # timed=False: a query of no time at all
        self._compiled = {}  # (alias, vendor) -> (queryset, compiler, sql, params, marks)

    def _compile(self, alias: str):
        connection = connections[alias]
        key = (alias, connection.vendor)
        compiled = self._compiled.get(key)
        if compiled is None:
            queryset = (self.build(_MARK) if self.timed else self.build()).using(alias)
            compiler = queryset.query.get_compiler(using=alias)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:  # e.g. an empty slice: no rows, whatever the time
                compiled = self._compiled[key] = _NO_ROWS
                return compiled
            marks = []
            if self.timed:
                mark = self._adapt(queryset, _MARK, connection)
                marks = [i for i, param in enumerate(params) if param == mark]
                if not marks:
                    raise ValueError("the queryset's SQL does not take its time as a parameter")
            compiled = self._compiled[key] = (queryset, compiler, sql, tuple(params), marks)
        return compiled

    @staticmethod
    def _adapt(queryset, at, connection):
        # What a DateTimeField lookup sends for ``at`` (SQLite: text in UTC).
        return queryset.model._meta.get_field("publish_at").get_db_prep_value(at, connection)

    def __call__(self, at: datetime.datetime | None = None, *, using: str = "default") -> list:
        compiled = self._compile(using)
        if compiled is _NO_ROWS:
            return []
        queryset, template, sql, params, marks = compiled
        connection = connections[using]
        bound = params
        if marks:
            bound = list(params)
            value = self._adapt(queryset, at, connection)
            for i in marks:
                bound[i] = value
            bound = tuple(bound)
        compiler = copy.copy(template)
        compiler.connection = connection  # this thread's connection
        compiler.as_sql = lambda *args, **kwargs: (sql, bound)
        run = queryset._chain()
        run.query.get_compiler = lambda *args, **kwargs: compiler
        return list(run)


# COUNT(*) as a plain function, not an aggregate: an annotated aggregate would make
# Django add a GROUP BY every column; this gives the one row QuerySet.count() does.
_COUNT = Func(template="COUNT(*)", output_field=IntegerField())


class FixedListing:
    """What a Paginator needs of ``build(at)`` (a count and slices), each of their SQL
    compiled once per process: ``FixedListing(build).at(now)`` stands in for the
    queryset. Slices are compiled per (start, stop), for the pages visitors ask for."""

    MAX_SLICES = 64  # a bound on what a crawler walking the pages can make it keep

    def __init__(self, build: Callable[[datetime.datetime], QuerySet]):
        self.build = build
        self._count = FixedQuery(
            lambda at: (
                build(at).prefetch_related(None).order_by().annotate(n=_COUNT).values_list("n")
            )
        )
        self._slices = {}

    def at(self, at: datetime.datetime) -> "_ListingAt":
        return _ListingAt(self, at)

    def _slice(self, start: int, stop: int) -> FixedQuery:
        query = self._slices.get((start, stop))
        if query is None:
            if len(self._slices) >= self.MAX_SLICES:
                self._slices.clear()
            query = self._slices[start, stop] = FixedQuery(lambda at: self.build(at)[start:stop])
        return query


class _ListingAt:
    ordered = True  # the Paginator's check: build() orders its rows

    def __init__(self, listing: FixedListing, at: datetime.datetime):
        self.listing, self.when = listing, at

    def count(self) -> int:
        return self.listing._count(self.when)[0][0]

    def __getitem__(self, key):
        if not isinstance(key, slice) or key.step is not None:
            raise TypeError("a listing is read a page (a slice) at a time")
        start, stop = key.start or 0, key.stop
        if stop is None or start < 0 or stop < start:
            raise ValueError("a listing's slices are bounded pages")
        return self.listing._slice(start, stop)(self.when)
