"""S3 media storage that stores each object with the headers it is to be served with,
and that formats media URLs without loading the AWS SDK.

django-storages guesses Content-Type from the name (a .csv becomes text/csv) and sets no
Content-Disposition; S3 then serves whatever is stored. Here both come from
cms.media_headers, the rule the upload handler and the local views use too, so an
original, a rendition and a document get the same headers whichever path wrote them.

A page only ever asks its storage for URLs, and with a custom domain (production's
CloudFront, unsigned) a URL is a string built from the name: django-storages' S3Storage
formats it without a client, but importing it imports boto3 and botocore (about 275
modules, 20 MiB or more resident, on the cold start of every container that renders an
image). ``MediaStorage`` formats those URLs itself, exactly as S3Storage does (the same
django-storages helpers; tests/cms/test_storage.py compares the two byte for byte), and
hands everything else (save, open, exists, delete, size, listdir, the times, signed or
custom-domain-less URLs, and attributes such as ``bucket`` or ``connection``) to an
S3Storage it builds on first use.
"""

from django.core.exceptions import SuspiciousOperation
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible
from django.utils.encoding import filepath_to_uri
from storages.utils import check_location, clean_name, safe_join, setting

from . import media_headers


def _s3_class():
    """The S3Storage subclass that does the I/O (imports boto3)."""
    global _S3MediaStorage
    if _S3MediaStorage is None:
        from storages.backends.s3 import S3Storage

        class S3MediaStorage(S3Storage):
            def get_object_parameters(self, name):
                return {
                    **super().get_object_parameters(name),
                    **media_headers.object_headers(name),
                }

        S3MediaStorage.__qualname__ = "S3MediaStorage"  # importable: see __getattr__
        _S3MediaStorage = S3MediaStorage
    return _S3MediaStorage


_S3MediaStorage = None


def __getattr__(name):
    if name == "S3MediaStorage":
        return _s3_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@deconstructible(path="cms.storage.MediaStorage")
class MediaStorage(Storage):
    def __init__(self, **options):
        self._options = options
        self._s3 = None
        # What url() needs, read as S3Storage reads it (its option, else its setting).
        self.location = options.get("location", setting("AWS_LOCATION", ""))
        self.custom_domain = options.get("custom_domain", setting("AWS_S3_CUSTOM_DOMAIN"))
        self.querystring_auth = options.get(
            "querystring_auth", setting("AWS_QUERYSTRING_AUTH", True)
        )
        self.url_protocol = options.get("url_protocol", setting("AWS_S3_URL_PROTOCOL") or "https:")
        self.bucket_name = options.get("bucket_name", setting("AWS_STORAGE_BUCKET_NAME"))
        check_location(self)

    @property
    def backend(self):
        """The S3Storage that does the I/O, made (and boto3 imported) on first use."""
        if self._s3 is None:
            self._s3 = _s3_class()(**self._options)
        return self._s3

    def __getattr__(self, name):
        # Only reached for what this class lacks: S3Storage's attributes (bucket,
        # connection, file_overwrite, get_object_parameters…).
        if name.startswith("__") or name in ("_options", "_s3"):
            raise AttributeError(name)
        return getattr(self.backend, name)

    # URLs: no client when there is a custom domain and nothing to sign.

    def url(self, name, parameters=None, expire=None, http_method=None):
        if not self.custom_domain or self.querystring_auth or parameters:
            return self.backend.url(name, parameters, expire, http_method)
        # S3Storage.url's custom-domain branch, without its parameters.
        try:
            key = safe_join(self.location, clean_name(name))
        except ValueError:
            raise SuspiciousOperation(f"Attempted access to '{name}' denied.") from None
        return f"{self.url_protocol}//{self.custom_domain}/{filepath_to_uri(key)}"

    # Everything else is S3Storage's, unchanged.

    def open(self, name, mode="rb"):
        return self.backend.open(name, mode)

    def save(self, name, content, max_length=None):
        return self.backend.save(name, content, max_length=max_length)

    def _open(self, name, mode="rb"):
        return self.backend._open(name, mode)

    def _save(self, name, content):
        return self.backend._save(name, content)

    def get_valid_name(self, name):
        return self.backend.get_valid_name(name)

    def get_alternative_name(self, file_root, file_ext):
        return self.backend.get_alternative_name(file_root, file_ext)

    def get_available_name(self, name, max_length=None):
        return self.backend.get_available_name(name, max_length=max_length)

    def generate_filename(self, filename):
        return self.backend.generate_filename(filename)

    def path(self, name):
        return self.backend.path(name)

    def delete(self, name):
        return self.backend.delete(name)

    def exists(self, name):
        return self.backend.exists(name)

    def listdir(self, path):
        return self.backend.listdir(path)

    def size(self, name):
        return self.backend.size(name)

    def get_accessed_time(self, name):
        return self.backend.get_accessed_time(name)

    def get_created_time(self, name):
        return self.backend.get_created_time(name)

    def get_modified_time(self, name):
        return self.backend.get_modified_time(name)
