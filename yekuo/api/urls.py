"""URLs of the REST API: version 1 under ``/api/v1/``, the schema and its documentation.

The API authenticates with DRF (token or session), so its views are exempt from the
login-required middleware: an unauthenticated request is answered 401, not redirected.
"""

from csp.constants import SELF
from csp.decorators import csp_update
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, URLResolver, include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts import api as accounts_api
from applications import api as applications_api
from integration import api as integration_api
from scheduling import api as scheduling_api
from supervision import api as supervision_api

app_name = "api"


class NotFoundView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = []
    schema = None

    def dispatch(self, request, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        self.request = self.initialize_request(request, *args, **kwargs)
        self.headers = self.default_response_headers
        response = self.handle_exception(NotFound())
        self.response = self.finalize_response(self.request, response, *args, **kwargs)
        return self.response


def _exempt(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _exempt(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            pattern.callback = login_not_required(pattern.callback)
    return patterns


v1 = [
    *applications_api.urlpatterns,
    *supervision_api.urlpatterns,
    *scheduling_api.urlpatterns,
    *accounts_api.urlpatterns,
    *integration_api.urlpatterns,
]

# The schema and the documentation pages are public: an integrator reads them first.
_docs = {"permission_classes": [AllowAny], "authentication_classes": []}

urlpatterns = _exempt(
    [
        path("v1/", include(v1)),
        path("schema/", SpectacularAPIView.as_view(**_docs), name="schema"),
        path(
            "docs/",
            SpectacularSwaggerSplitView.as_view(url_name="api:schema", **_docs),
            name="docs",
        ),
        path(
            "redoc/",
            # ReDoc's bundle runs its search in a blob: worker and draws blob: images.
            csp_update({"worker-src": [SELF, "blob:"], "img-src": ["blob:"]})(
                SpectacularRedocView.as_view(
                    url_name="api:schema", template_name="api/redoc.html", **_docs
                )
            ),
            name="redoc",
        ),
        # Any other path under /api/ is a problem-details 404, not the site's HTML page.
        re_path(r"^", NotFoundView.as_view()),
    ]
)
