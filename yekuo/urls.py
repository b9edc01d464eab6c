from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language

from accounts import views as account_views

from . import health

admin.site.site_header = _("yekuo administration")
admin.site.site_title = _("yekuo")
admin.site.index_title = _("Service connections")

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("accounts/", include("accounts.urls")),
    path("admin/login/", account_views.admin_login),
    path("admin/", admin.site.urls),
    path("api/", include("yekuo.api.urls")),
    path("", include("applications.urls")),
    path("", include("supervision.urls")),
]

handler400 = "yekuo.errorpages.bad_request"
handler403 = "yekuo.errorpages.permission_denied"
handler404 = "yekuo.errorpages.page_not_found"
handler500 = "yekuo.errorpages.server_error"
