from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    """The supervisors' view of the control loop: the deviation dashboard, KPIs and
    assignment queue, and the deviations and proposals of every application in the API."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "supervision"
    verbose_name = _("Supervision")
