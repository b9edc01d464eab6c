from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo data set (``manage.py seed_demo``): a tool beside the product apps.

    It depends on the product apps and nothing depends on it; it has no models.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "demo"
    verbose_name = _("Demo data")
