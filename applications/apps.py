from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "applications"
    verbose_name = _("Service-connection applications")

    def ready(self) -> None:
        from scheduling.signals import calendar_changed

        from .tasks import sweep_deviations_on_calendar_change

        calendar_changed.connect(
            sweep_deviations_on_calendar_change, dispatch_uid="applications.sweep.calendar"
        )
