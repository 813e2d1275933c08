"""Reads about media: which documents an article or page shows. (Whether the public
site shows an image or a document is sitecontent.models.visibility.)"""

import re

# Where a body links a download: /documents/<pk>/<name> (any host in front of it), the
# shape document_address_prefix gives.
_DOCUMENT_LINK = re.compile(r"/documents/(\d+)/")


def document_ids_shown_by(item) -> set[int]:
    """Documents an article or page shows: its attachments and those its body links."""
    ids = {int(pk) for pk in _DOCUMENT_LINK.findall(item.body or "")}
    if item.pk:
        ids.update(document.pk for document in item.attachments.all())  # prefetched or not
    return ids
