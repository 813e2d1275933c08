"""The headers every media file is served with, decided by its stored name.

Two halves, because S3 can only send what is stored on an object:

- ``object_headers(name)``: Content-Type and Content-Disposition, stored on each S3
  object when it is written (cms.storage, and the upload handler's copy) and sent by the
  local views. Images are shown inline; everything else downloads as an attachment, and
  text of any kind is ``text/plain; charset=utf-8`` (a .csv or .txt never renders as a
  page).
- ``RESPONSE_HEADERS``: what S3 cannot send (``nosniff``, a sandboxing CSP), added to every
  ``/media/*`` response by the CloudFront response-headers policy in
  docs/cloudfront-media-headers.json (a test keeps the two identical), and by the local
  views here.

No imports beyond the standard library: the public document view uses this.
"""

import re
from pathlib import PurePosixPath

TEXT = "text/plain; charset=utf-8"
# Extension -> the type it is served with. Images (inline) first; anything not listed is
# served as application/octet-stream, as an attachment.
IMAGE_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
}
DOCUMENT_TYPES = {
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
    ".txt": TEXT,
    ".csv": TEXT,
}
# A sandboxed document that may load nothing: were a file ever rendered as a page, it
# could run no script, submit no form, frame nothing and be framed by nothing.
MEDIA_CSP = (
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; sandbox"
)
RESPONSE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": MEDIA_CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def content_type(name: str) -> str:
    suffix = PurePosixPath(name).suffix.lower()
    return IMAGE_TYPES.get(suffix) or DOCUMENT_TYPES.get(suffix) or "application/octet-stream"


def object_headers(name: str) -> dict[str, str]:
    """S3 object parameters (``ContentType``, ``ContentDisposition``) for a stored name."""
    suffix = PurePosixPath(name).suffix.lower()
    disposition = "inline" if suffix in IMAGE_TYPES else "attachment"
    # Our stored names are slugs already; this keeps the header safe for any name.
    filename = re.sub(r"[^A-Za-z0-9._-]", "", PurePosixPath(name).name) or "download"
    return {
        "ContentType": content_type(name),
        "ContentDisposition": f'{disposition}; filename="{filename}"',
    }


def apply(response, name: str):
    """Give a locally served file the headers S3 and CloudFront give it on AWS."""
    stored = object_headers(name)
    response["Content-Type"] = stored["ContentType"]
    response["Content-Disposition"] = stored["ContentDisposition"]
    for header, value in RESPONSE_HEADERS.items():
        response[header] = value
    return response
