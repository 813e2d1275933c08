"""Querysets whose SQL is compiled once per process; each run binds only its values.

Building a queryset and compiling it to SQL costs Django far more than SQLite (or
PostgreSQL, for these small indexed reads) takes to run it: about 0.8 ms against 0.05 ms
for an article card listing with its author, category and image joined. The home page,
the article list, an article's page and the navigation run the same few queries on
every request; only the time they are live "at" (and an article's slug) changes. A
``FixedQuery`` compiles its queryset once, with marker values, remembers which
parameters are the markers, and on each run puts the real values in their place and
hands the result rows to Django's own iterables (model instances, ``select_related``
rows, ``prefetch_related`` lookups): only the SQL text is reused, nothing else.

It is for querysets whose SQL has no other inputs: ids, lists or slices from the
request would be baked into the first compile (FixedListing compiles one query per
slice for that reason). A marker that does not come out as exactly the parameters it
stands for is refused at the first run, not answered wrongly, and text values are
only ever parameters (never SQL). tests/sitecontent/caching/test_compiled.py compares
each one the site uses with its plain queryset across go-live and expiry times.
"""

import copy
import datetime
from collections.abc import Callable

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Func, IntegerField, QuerySet

# A time no content carries, and a text no request sends, so no other parameter equals
# them.
_MARK = datetime.datetime(1999, 12, 31, 23, 58, 59, 123457, tzinfo=datetime.UTC)
_TEXT_MARK = "~fixed-query-mark:{}~"
# Ids no row has (primary keys here are positive), one per place in an id list.
_ID_MARK = -(2**40)
_NO_ROWS = object()


class FixedQuery:
    """``FixedQuery(lambda at: Article.objects.live(at)…)``: call it with a time to
    get the rows ``build(at)`` would give, as a list. ``texts=("slug",)``: build also
    takes ``slug=`` (a str), and so does each call. ``ids=True``: build also takes
    ``ids=`` (a list of ints, for ``pk__in=ids``), and so does each call; the SQL is
    compiled once per length of the list. ``timed=False``: build takes no time (nor
    does the call)."""

    MAX_ID_LISTS = 64  # lengths of id lists compiled, at most

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        timed: bool = True,
        texts: tuple[str, ...] = (),
        ids: bool = False,
    ):
        self.build, self.timed, self.texts, self.ids = build, timed, texts, ids
        # (alias, vendor, number of ids) -> (queryset, compiler, sql, params, marks)
        self._compiled = {}

    def _compile(self, alias: str, n_ids: int = 0):
        connection = connections[alias]
        key = (alias, connection.vendor, n_ids)
        compiled = self._compiled.get(key)
        if compiled is None:
            if len(self._compiled) >= self.MAX_ID_LISTS:
                self._compiled.clear()
            texts = {name: _TEXT_MARK.format(name) for name in self.texts}
            id_marks = [_ID_MARK - i for i in range(n_ids)]
            if self.ids:
                texts["ids"] = id_marks
            args = (_MARK,) if self.timed else ()
            queryset = self.build(*args, **texts).using(alias)
            compiler = queryset.query.get_compiler(using=alias)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:  # e.g. an empty slice: no rows, whatever the values
                compiled = self._compiled[key] = _NO_ROWS
                return compiled
            marks = {}  # parameter position -> None (the time), a text's name or an id's place
            wanted = {name: texts[name] for name in self.texts}
            wanted.update(enumerate(id_marks))
            if self.timed:
                wanted[None] = self._adapt(queryset, _MARK, connection)
            for i, param in enumerate(params):
                for name, mark in wanted.items():
                    if type(param) is type(mark) and param == mark:
                        marks[i] = name
            if set(marks.values()) != set(wanted):
                raise ValueError("a FixedQuery's SQL must take each of its values as a parameter")
            compiled = self._compiled[key] = (queryset, compiler, sql, tuple(params), marks)
        return compiled

    @staticmethod
    def _adapt(queryset, at, connection):
        # What a DateTimeField lookup sends for ``at`` (SQLite: text in UTC).
        return queryset.model._meta.get_field("publish_at").get_db_prep_value(at, connection)

    def __call__(
        self, at: datetime.datetime | None = None, *, using="default", ids=None, **texts
    ) -> list:
        if self.ids:
            ids = list(ids)
            if not all(type(value) is int for value in ids):
                raise TypeError("this FixedQuery's ids are ints")
            if not ids:
                return []
        elif ids is not None:
            raise TypeError("this FixedQuery takes no ids")
        if set(texts) != set(self.texts) or not all(isinstance(v, str) for v in texts.values()):
            raise TypeError(f"this FixedQuery takes the texts {self.texts}")
        compiled = self._compile(using, len(ids) if self.ids else 0)
        if compiled is _NO_ROWS:
            return []
        queryset, template, sql, params, marks = compiled
        connection = connections[using]
        bound = params
        if marks:
            bound = list(params)
            time = self._adapt(queryset, at, connection) if self.timed else None
            for i, name in marks.items():
                if name is None:
                    bound[i] = time
                elif type(name) is int:
                    bound[i] = ids[name]
                else:
                    bound[i] = texts[name]
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
