"""Plain text that editors write: titles, summaries, alt text, names, descriptions.

Control characters (a form feed pasted from a PDF, a vertical tab from a word
processor) are invisible to editors, but XML 1.0 cannot carry them, so one in a
summary used to make every feed answer 500, and they confuse search and screen
readers. They are dropped wherever such text is stored: ``PlainCharField`` and
``PlainTextField`` strip them when a form or ``full_clean`` validates the value and again
on every save, whoever the caller; a single-line field also turns tabs and line breaks
into spaces. tests/sitecontent/models/test_fields.py checks that every editable text field
of the content models is one of these.

Plain text is never HTML: templates escape it, feeds escape it once more where the
format says HTML (sitecontent.public.feeds).
"""

import re

from django.db import models

# What XML 1.0 refuses (Django's feed writer raises on these), DEL, the two Unicode
# non-characters XML also forbids, and lone surrogates (which JSON can carry).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n\r\u2028\u2029]+")


def strip_control_characters(value: str, *, single_line: bool = False) -> str:
    """``value`` without control characters (and, for one line, without line breaks)."""
    if not value:
        return value
    value = _CONTROL.sub("", value)
    return _LINE_BREAKS.sub(" ", value) if single_line else value


class _PlainText:
    single_line = False

    def normalize(self, value):
        """The value as it may be stored (revisions call this for their copies too)."""
        if not isinstance(value, str):
            return value
        return strip_control_characters(value, single_line=self.single_line)

    def to_python(self, value):
        return self.normalize(super().to_python(value))

    def pre_save(self, model_instance, add):
        value = self.normalize(getattr(model_instance, self.attname))
        setattr(model_instance, self.attname, value)
        return value


class PlainCharField(_PlainText, models.CharField):
    """One line of plain text: no control characters, no line breaks."""

    single_line = True


class PlainTextField(_PlainText, models.TextField):
    """Plain text that may span lines (tabs and line breaks kept), no control characters."""
