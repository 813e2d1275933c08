"""WhiteNoise, started by the first request for a static file rather than at start-up.

WhiteNoiseMiddleware reads every file under STATIC_ROOT when it is built (about 300
here: a tenth of the Lambda cold start `make bench` measures). Behind CloudFront a
static file is fetched from the function once per deploy and then cached for a year,
so pages should not wait for that scan; the first /static/ request pays for it.
"""

from functools import cached_property

from django.conf import settings


class LazyWhiteNoiseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = settings.WHITENOISE_STATIC_PREFIX  # as WhiteNoise matches

    @cached_property
    def whitenoise(self):
        from whitenoise.middleware import WhiteNoiseMiddleware

        return WhiteNoiseMiddleware(self.get_response)

    def __call__(self, request):
        if request.path_info.startswith(self.static_prefix):
            return self.whitenoise(request)
        return self.get_response(request)
