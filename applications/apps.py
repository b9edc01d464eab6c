from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApplicationsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "applications"
    verbose_name = _("Service-connection applications")

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from accounts.events import account_manager_capacity_changed
        from scheduling.models import Crew, CrewCapacityChange
        from scheduling.signals import calendar_changed

        from .tasks import (
            assign_unassigned_on_capacity_change,
            level_region_on_crew_change,
            sweep_deviations_on_calendar_change,
        )

        calendar_changed.connect(
            sweep_deviations_on_calendar_change, dispatch_uid="applications.sweep.calendar"
        )
        account_manager_capacity_changed.connect(
            assign_unassigned_on_capacity_change, dispatch_uid="applications.assignment.capacity"
        )
        for model in (Crew, CrewCapacityChange):
            post_save.connect(
                level_region_on_crew_change,
                sender=model,
                dispatch_uid=f"applications.capacity.{model.__name__}",
            )
