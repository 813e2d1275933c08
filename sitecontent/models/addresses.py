"""Public addresses without a ``reverse()`` per object.

A listing links every article, its category and its tags: reversing each through
Django's resolver costs a pattern search, a regex match and a ``quote()`` per link (36
of them on the home page). An address here is what ``reverse()`` gives, cut once per
URL name into the text before and after its one argument (by reversing a marker), and
then only joined to the slug.

The result is the same string ``reverse()`` returns, by construction:
- the cut is taken per URLconf resolver and script prefix (Zappa's ``/<stage>``), the
  two things that change a reversed address while a process runs; resolvers are new
  objects after ``clear_url_caches()`` (what ``override_settings(ROOT_URLCONF=…)``
  triggers), so a changed URLconf is never answered from an old cut;
- only values made of characters ``quote()`` leaves as they are, and that the URL
  converters accept as they are (slugs, and ``/``-joined slugs for page paths), take the
  short way; anything else goes through ``reverse()``, errors included.

tests/sitecontent/models/test_addresses.py compares the two for every URL name used
here, under a script prefix too.
"""

import re

from django.urls import get_resolver, get_script_prefix, get_urlconf, reverse

# Matches the slug and path converters, needs no quoting, and is in no URL pattern.
_MARK = "0address-mark0"
_SLUG = re.compile(r"[-a-zA-Z0-9_]+\Z")
_SLUG_PATH = re.compile(r"[-a-zA-Z0-9_]+(?:/[-a-zA-Z0-9_]+)*\Z")

_cuts: dict[tuple, tuple[str, str]] = {}


def _cut(name: str, kwarg: str) -> tuple[str, str]:
    key = (get_resolver(get_urlconf()), get_script_prefix(), name, kwarg)
    cut = _cuts.get(key)
    if cut is None:
        head, mark, tail = reverse(name, kwargs={kwarg: _MARK}).partition(_MARK)
        if not mark or _MARK in tail:  # pragma: no cover - a pattern that rewrites values
            raise ValueError(f"{name} cannot be cut around its {kwarg!r} argument")
        cut = _cuts[key] = (head, tail)
    return cut


def slug_address(name: str, kwarg: str, value: str) -> str:
    """``reverse(name, kwargs={kwarg: value})`` for a ``<slug:…>`` argument."""
    if not isinstance(value, str) or not _SLUG.match(value):
        return reverse(name, kwargs={kwarg: value})
    head, tail = _cut(name, kwarg)
    return f"{head}{value}{tail}"


def path_address(name: str, kwarg: str, value: str) -> str:
    """``reverse(name, kwargs={kwarg: value})`` for a ``<path:…>`` argument made of
    slugs joined by ``/``."""
    if not isinstance(value, str) or not _SLUG_PATH.match(value):
        return reverse(name, kwargs={kwarg: value})
    head, tail = _cut(name, kwarg)
    return f"{head}{value}{tail}"


def fixed_address(name: str) -> str:
    """``reverse(name)`` for a URL without arguments."""
    key = (get_resolver(get_urlconf()), get_script_prefix(), name, None)
    address = _cuts.get(key)
    if address is None:
        address = _cuts[key] = (reverse(name), "")
    return address[0]
