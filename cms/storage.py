"""S3 media storage that stores each object with the headers it is to be served with.

django-storages guesses Content-Type from the name (a .csv becomes text/csv) and sets no
Content-Disposition; S3 then serves whatever is stored. Here both come from
cms.media_headers, the rule the upload handler and the local views use too, so an
original, a rendition and a document get the same headers whichever path wrote them.
"""

from storages.backends.s3 import S3Storage

from . import media_headers


class MediaStorage(S3Storage):
    def get_object_parameters(self, name):
        return {**super().get_object_parameters(name), **media_headers.object_headers(name)}
