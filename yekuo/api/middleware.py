"""HTTP behaviour every API answer shares."""

from django.utils.cache import add_never_cache_headers, patch_cache_control


class NoStoreApiMiddleware:
    """Mark every answer under ``/api/`` ``Cache-Control: no-store``.

    Answers carry customers' names, phone numbers and addresses: no shared cache or
    browser may keep them (ASVS V8.2). Anonymous answers (401, the schema) get it too:
    one rule is simpler to check than a distinction worth nothing.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            add_never_cache_headers(response)
            patch_cache_control(response, no_store=True, private=True)
        return response
