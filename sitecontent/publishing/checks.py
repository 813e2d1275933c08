"""Content checks: guidance for editors, never a rule.

``content_checks(item)`` looks at an article or page, saved or not (the live preview
passes one built from the form), and says what readers using a screen reader, search
engines or anyone skimming would trip over: images without a text alternative, headings
that skip a level, links that say nothing, titles and descriptions search results cut
off, and how hard the text is to read. Nothing here blocks a save or a publish; the admin
shows the list beside the live preview and after publishing (sitecontent.admin.preview).

Messages are plain text (they quote the editor's words): whoever shows them escapes them.
"""

import re
from dataclasses import asdict, dataclass
from html import unescape
from html.parser import HTMLParser
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from django.utils.text import Truncator
from django.utils.translation import gettext as _

WARNING = "warning"
INFO = "info"

# Search results show about this many characters of a title and a description.
TITLE_MIN, TITLE_MAX = 10, 60
DESCRIPTION_MIN, DESCRIPTION_MAX = 50, 160
# Readability formulas mean little on a few sentences.
READING_LEVEL_MIN_WORDS = 100
# Flesch reading ease below this is "difficult" (college level) for most readers.
READING_EASE_WARN_BELOW = 30

VAGUE_LINK_TEXT = {"click here", "here", "read more", "more", "link", "this", "click", "this link"}
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".svg")

# The public templates render the item's title as the page's only <h1>.
TITLE_HEADING_LEVEL = 1


@dataclass(frozen=True)
class Check:
    """One finding: ``code`` for machines, ``message`` for the editor, ``where`` the
    field it is about."""

    code: str
    severity: str
    message: str
    where: str

    def as_dict(self) -> dict:
        return asdict(self)


def content_checks(item) -> list[Check]:
    """Every finding for ``item``, warnings first, in the order the reader meets them."""
    body = _Body.parse(getattr(item, "body", "") or "")
    found = [
        *_image_checks(item, body),
        *_heading_checks(body),
        *_link_checks(body),
        *_search_checks(item),
        *_reading_level(item, body),
    ]
    return sorted(found, key=lambda check: check.severity != WARNING)


def warnings(item) -> list[Check]:
    return [check for check in content_checks(item) if check.severity == WARNING]


# -- reading the body -------------------------------------------------------------------


class _Body(HTMLParser):
    """The parts of rich text the checks look at: images, headings, links, words."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images = []  # {"alt": str | None, "src": str}
        self.headings = []  # (level, text)
        self.links = []  # {"href": str, "text": str, "alts": [str]}
        self.text = []
        self._heading = None
        self._link = None

    @classmethod
    def parse(cls, html: str) -> "_Body":
        body = cls()
        body.feed(html)
        body.close()
        return body

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "img":
            image = {"alt": attributes.get("alt"), "src": attributes.get("src") or ""}
            self.images.append(image)
            if self._link is not None and image["alt"]:
                self._link["alts"].append(image["alt"])
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = [int(tag[1]), []]
        elif tag == "a":
            self._link = {"href": attributes.get("href") or "", "text": [], "alts": []}
        elif tag in {"p", "li", "br", "blockquote", "figcaption", "pre"}:
            self.text.append("\n")

    def handle_endtag(self, tag):
        if re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            level, words = self._heading
            self.headings.append((level, _squash("".join(words))))
            self._heading = None
            self.text.append("\n")
        elif tag == "a" and self._link is not None:
            self._link["text"] = _squash("".join(self._link["text"]))
            self.links.append(self._link)
            self._link = None
        elif tag in {"p", "li"}:
            self.text.append("\n")

    def handle_data(self, data):
        self.text.append(data)
        if self._heading is not None:
            self._heading[1].append(data)
        if self._link is not None:
            self._link["text"].append(data)

    @property
    def plain_text(self) -> str:
        return "".join(self.text)


def _squash(text: str) -> str:
    return " ".join(text.split())


def _quote(text: str, length: int = 40) -> str:
    return Truncator(text).chars(length)


# -- images -----------------------------------------------------------------------------


def _file_stem(name: str) -> str:
    """ "photos/IMG_2041.final.JPG" -> "img 2041 final": a file name as words."""
    stem = PurePosixPath(unquote(urlsplit(name).path)).name
    for extension in IMAGE_EXTENSIONS:
        if stem.lower().endswith(extension):
            stem = stem[: -len(extension)]
    return _words(stem)


def _words(text: str) -> str:
    return " ".join(re.split(r"[\W_]+", text.lower())).strip()


def _looks_like_file_name(alt: str, source: str) -> bool:
    if alt.lower().endswith(IMAGE_EXTENSIONS):
        return True
    stem = _file_stem(source) if source else ""
    return bool(stem) and _words(alt) == stem


def _image_checks(item, body: _Body):
    images = []  # (where, label, alt, file name)
    hero = getattr(item, "hero_image", None) if hasattr(item, "hero_image_id") else None
    if hero is not None:
        images.append(("hero_image", _("The hero image"), hero.alt_text or "", hero.file.name))
    for number, image in enumerate(body.images, start=1):
        label = _("Image %(number)d in the body") % {"number": number}
        images.append(("body", label, image["alt"], image["src"]))

    seen = {}
    for where, label, alt, source in images:
        if alt is None or not alt.strip():
            yield Check(
                "alt-missing",
                WARNING,
                _(
                    "%(image)s has no alt text: describe it for people who cannot see it "
                    "(leave it empty only if it is purely decorative)."
                )
                % {"image": label},
                where,
            )
            continue
        alt = _squash(alt)
        if _looks_like_file_name(alt, source):
            yield Check(
                "alt-file-name",
                WARNING,
                _("%(image)s has its file name as alt text (“%(alt)s”): describe what it shows.")
                % {"image": label, "alt": _quote(alt)},
                where,
            )
        key = alt.casefold()
        if key in seen:
            yield Check(
                "alt-duplicate",
                WARNING,
                _(
                    "%(image)s has the same alt text as %(other)s (“%(alt)s”): say what "
                    "is different about each."
                )
                % {"image": label, "other": seen[key].lower(), "alt": _quote(alt)},
                where,
            )
        else:
            seen[key] = label


# -- headings ---------------------------------------------------------------------------


def _heading_checks(body: _Body):
    previous = TITLE_HEADING_LEVEL
    for level, text in body.headings:
        if level == TITLE_HEADING_LEVEL:
            yield Check(
                "heading-h1",
                WARNING,
                _(
                    "“%(text)s” is a heading 1, but the title is already the page's "
                    "heading 1: use heading 2."
                )
                % {"text": _quote(text)},
                "body",
            )
        elif level > previous + 1:
            yield Check(
                "heading-skipped",
                WARNING,
                _(
                    "The heading “%(text)s” (heading %(level)d) follows a heading "
                    "%(previous)d: use heading %(expected)d so the outline has no gap."
                )
                % {
                    "text": _quote(text),
                    "level": level,
                    "previous": previous,
                    "expected": previous + 1,
                },
                "body",
            )
        if not text:
            yield Check("heading-empty", WARNING, _("A heading has no text."), "body")
        previous = level


# -- links ------------------------------------------------------------------------------


def _link_checks(body: _Body):
    for link in body.links:
        text = link["text"] or " ".join(link["alts"])
        if not text:
            yield Check(
                "link-empty",
                WARNING,
                _("A link to %(href)s has no text: screen readers read out the address.")
                % {"href": _quote(link["href"] or _("nowhere"), 60)},
                "body",
            )
        elif _words(text) in VAGUE_LINK_TEXT:
            yield Check(
                "link-vague",
                WARNING,
                _(
                    "The link text “%(text)s” does not say where it leads: use words that "
                    "make sense on their own, like the title of what it links to."
                )
                % {"text": _quote(text)},
                "body",
            )


# -- search engines ---------------------------------------------------------------------


def _search_checks(item):
    title = _squash(getattr(item, "seo_title", "") or getattr(item, "title", "") or "")
    title_field = "seo_title" if getattr(item, "seo_title", "") else "title"
    if title and len(title) > TITLE_MAX:
        yield Check(
            "title-long",
            WARNING,
            _(
                "The title search results show is %(length)d characters: they cut it after "
                "about %(max)d. Shorten it or set a shorter SEO title."
            )
            % {"length": len(title), "max": TITLE_MAX},
            title_field,
        )
    elif len(title) < TITLE_MIN:
        yield Check(
            "title-short",
            WARNING,
            _(
                "The title search results show is %(length)d characters: at least %(min)d "
                "tell searchers what the page is about."
            )
            % {"length": len(title), "min": TITLE_MIN},
            title_field,
        )

    description = _description(item)
    description_field = "seo_description" if getattr(item, "seo_description", "") else (
        "summary" if hasattr(item, "summary") else "body"
    )  # fmt: skip
    if len(description) > DESCRIPTION_MAX:
        yield Check(
            "description-long",
            WARNING,
            _(
                "The description search results show is %(length)d characters: they cut it "
                "after about %(max)d. Set an SEO description of one sentence."
            )
            % {"length": len(description), "max": DESCRIPTION_MAX},
            description_field,
        )
    elif len(description) < DESCRIPTION_MIN:
        yield Check(
            "description-short",
            WARNING,
            _(
                "The description search results show is %(length)d characters: aim for "
                "%(min)d to %(max)d."
            )
            % {"length": len(description), "min": DESCRIPTION_MIN, "max": DESCRIPTION_MAX},
            description_field,
        )


def _description(item) -> str:
    # Not item.meta_description: a page's default is cut to 160 characters already, and
    # what matters here is what the editor wrote.
    if getattr(item, "seo_description", ""):
        return _squash(item.seo_description)
    if hasattr(item, "summary"):
        return _squash(item.summary or "")
    return _squash(unescape(_Body.parse(item.body or "").plain_text))


# -- reading level ----------------------------------------------------------------------
# Flesch reading ease and the Flesch-Kincaid grade, from words, sentences and syllables.
# Not textstat: it brings NLTK (and downloads NLTK's CMU dictionary at first use), some
# 25 MB that the Lambda package's 20 MiB budget has no room for. Syllables are counted
# by vowel groups with the usual English corrections, which is within a syllable or so
# per sentence of a dictionary: plenty for a grade, which is all this reports.

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)|\n\s*\n|\n")
_SILENT_ENDING = re.compile(r"(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$")
_VOWEL_GROUP = re.compile(r"[aeiouy]{1,2}")


def syllables(word: str) -> int:
    """English syllables in ``word``, estimated: vowel groups less silent endings."""
    word = word.lower().strip("'")
    if len(word) <= 3:
        return 1
    word = _SILENT_ENDING.sub("", word).removeprefix("y")
    return max(1, len(_VOWEL_GROUP.findall(word)))


def readability(text: str) -> tuple[float, float, int]:
    """(Flesch reading ease, Flesch-Kincaid grade, words) of plain ``text``."""
    words = _WORD.findall(text)
    sentences = max(1, len([s for s in _SENTENCE_END.split(text) if _WORD.search(s)]))
    if not words:
        return 100.0, 0.0, 0
    per_sentence = len(words) / sentences
    per_word = sum(syllables(word) for word in words) / len(words)
    ease = 206.835 - 1.015 * per_sentence - 84.6 * per_word
    grade = 0.39 * per_sentence + 11.8 * per_word - 15.59
    return ease, grade, len(words)


def _reading_level(item, body: _Body):
    text = "\n".join(
        part for part in (getattr(item, "summary", "") or "", body.plain_text) if part.strip()
    )
    ease, grade, words = readability(text)
    if words < READING_LEVEL_MIN_WORDS:
        return
    yield Check(
        "reading-level",
        WARNING if ease < READING_EASE_WARN_BELOW else INFO,
        _("Reading level: grade %(grade)s (Flesch reading ease %(ease)d of 100). %(sentence)s")
        % {
            # US school grades; past 18 (postgraduate) the number means nothing more.
            "grade": "18+" if grade > 18 else str(max(0, round(grade))),
            "ease": max(0, min(100, round(ease))),
            "sentence": _ease_sentence(ease),
        },
        "body",
    )


def _ease_sentence(ease: float) -> str:
    if ease >= 70:
        return _("Easy to read for most people.")
    if ease >= 50:
        return _("Fairly easy: most adults read it comfortably.")
    if ease >= READING_EASE_WARN_BELOW:
        return _("Fairly difficult: shorter sentences and plainer words would help.")
    return _("Difficult: many readers will struggle. Try shorter sentences and plainer words.")
