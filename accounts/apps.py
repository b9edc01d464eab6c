from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"
    verbose_name = _("Accounts and roles")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in, user_login_failed

        from yekuo import audit as database_audit

        from . import audit, roles, signals

        # After every app has created its permissions (post_migrate of the last app).
        post_migrate.connect(roles.sync_role_groups, dispatch_uid="accounts.sync_role_groups")
        post_migrate.connect(audit.install_triggers, dispatch_uid="accounts.audit_triggers")
        database_audit.connect()
        user_login_failed.connect(signals.on_login_failed, dispatch_uid="accounts.login_failed")
        user_logged_in.connect(signals.on_logged_in, dispatch_uid="accounts.logged_in")
