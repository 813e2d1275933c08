class PublicURLConfMiddleware:
    """Requests outside /admin/ use cms.public_urls, the URLconf without the admin.

    Django resolves a request, and reverses URLs while answering it, against
    ``request.urlconf`` when a middleware sets it. Public pages never link into the
    admin, so they need not pay for building its URL table on a cold start.
    """

    URLCONF = "cms.public_urls"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if not (path == "/admin" or path.startswith("/admin/")):
            request.urlconf = self.URLCONF
        return self.get_response(request)
