"""Is this HTML inert? Reports anything a browser would run or navigate to from script.

Parses with the standard library's HTML parser (attribute values arrive unescaped, as a
browser sees them) and flags: elements that run or embed code, event-handler
attributes, and script-capable URLs however they are spelled.
"""

import re
from html.parser import HTMLParser

EXECUTABLE = {"script", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
              "svg", "math", "style", "template", "noscript", "form", "button", "input",
              "textarea", "select", "audio", "video", "source", "details", "marquee"}  # fmt: skip
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "srcdoc",
                  "background", "poster", "codebase", "srcset"}  # fmt: skip
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
# Script elements browsers never run: data for other programs (search engines, scripts).
DATA_SCRIPT_TYPES = {"application/json", "application/ld+json", "importmap"}
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20]")


class _Checker(HTMLParser):
    def __init__(self, allow):
        super().__init__(convert_charrefs=True)
        self.allow = allow
        self.problems = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        is_data = tag == "script" and (attributes.get("type") or "").lower() in DATA_SCRIPT_TYPES
        if not is_data and not self.allow(tag, attributes):
            if tag in EXECUTABLE:
                self.problems.append(f"<{tag}> element")
            if tag == "meta" and "refresh" in (attributes.get("http-equiv") or "").lower():
                self.problems.append("meta refresh")
            if tag == "link" and "stylesheet" in (attributes.get("rel") or "").lower():
                self.problems.append("foreign stylesheet")
        self._in_script = tag == "script" and not attributes.get("src") and not is_data
        for name, value in attrs:
            name = name.lower()
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}>")
            if (
                name == "style"
                and value
                and re.search(r"expression|javascript:|url\(", value, re.I)
            ):
                self.problems.append(f"script in style on <{tag}>")
            if name in URL_ATTRIBUTES and value:
                compact = _IGNORED_IN_URLS.sub("", value).lower()
                if compact.startswith(BAD_SCHEMES):
                    self.problems.append(f"{name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.problems.append("inline script")


def problems(html: str, allow=lambda tag, attributes: False) -> list[str]:
    """What in ``html`` could run script. ``allow(tag, attributes)`` exempts the page's
    own known elements (say, its static script tags)."""
    checker = _Checker(allow)
    checker.feed(html)
    checker.close()
    return checker.problems
