from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "applications"
    verbose_name = _("Service-connection applications")

    def ready(self) -> None:
        from accounts.events import account_manager_capacity_changed
        from scheduling.signals import calendar_changed

        from .tasks import assign_unassigned_on_capacity_change, sweep_deviations_on_calendar_change

        calendar_changed.connect(
            sweep_deviations_on_calendar_change, dispatch_uid="applications.sweep.calendar"
        )
        account_manager_capacity_changed.connect(
            assign_unassigned_on_capacity_change, dispatch_uid="applications.assignment.capacity"
        )
