"""The admin's one date format (FORMAT_MODULE_PATH points here).

Django's own English formats ("Dec. 1, 2026, 10:30 p.m.") would win over settings'
DATE_FORMAT and friends, because localization is always on: a format module for the
language is the only way to replace them. Times read as ``Y-m-d H:i`` in the site's zone,
with the zone named, as sitecontent.admin.content.local_time writes them; templates use
``|date:"DATETIME_FORMAT"`` rather than spelling the format again.
"""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i T"
SHORT_DATETIME_FORMAT = "Y-m-d H:i T"
MONTH_DAY_FORMAT = "m-d"
YEAR_MONTH_FORMAT = "Y-m"
FIRST_DAY_OF_WEEK = 1  # Monday, as ISO 8601 has it

# What forms accept; the first of each is also how a form shows a stored value (and how
# the admin's calendar and clock fill a field), so it is the same shape as above.
DATE_INPUT_FORMATS = ["%Y-%m-%d"]
TIME_INPUT_FORMATS = ["%H:%M", "%H:%M:%S"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",  # what <input type="datetime-local"> sends
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
]
