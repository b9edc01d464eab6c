"""People: users, departments, service regions and account-manager profiles."""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yekuo.archive import archive_model
from yekuo.domain import VoltageClass


class Department(models.Model):
    """A department of the utility that owns activities (data, edited in the admin)."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    name_en = models.CharField(_("English name"), max_length=80, blank=True)
    sort_order = models.PositiveSmallIntegerField(_("sort order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["sort_order", "code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    """A service region (供电区域) that customers belong to and managers serve."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=60, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service region")
        verbose_name_plural = _("service regions")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who signs in: staff of the utility or an integration's service account."""

    display_name = models.CharField(_("display name"), max_length=60, blank=True)
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    failed_login_count = models.PositiveIntegerField(
        _("failed logins since the last success"), default=0, editable=False
    )
    last_failed_login_at = models.DateTimeField(
        _("last failed login"), null=True, blank=True, editable=False
    )
    # What reaches the person by mail besides the in-app list (notifications.py).
    mail_events = models.BooleanField(
        _("mail me what needs me"),
        default=True,
        help_text=_(
            "A mail for each event that needs you: an application assigned to you, a new red "
            "deviation or an exceeded time limit of your applications, an escalation."
        ),
    )
    daily_digest = models.BooleanField(
        _("daily digest"),
        default=True,
        help_text=_(
            "Supervisors: one summary each morning of what changed in your scope, in the "
            "application and by mail."
        ),
    )

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("view_dashboard", _("Can view the deviation dashboard")),
            ("view_assessment", _("Can view and export the assessment")),
            ("handle_applications", _("Can own and move service-connection applications")),
            ("supervise_applications", _("Can act on every application (supervisor)")),
            ("record_department_progress", _("Can record progress of the department's work")),
            ("lead_department", _("Can answer for the department (department head)")),
        ]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username


class AccountManagerProfile(models.Model):
    """The account manager (客户经理) side of a user: where and for what they may serve."""

    user = models.OneToOneField(
        User,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="account_manager",
    )
    regions = models.ManyToManyField(
        Region, verbose_name=_("service regions"), related_name="account_managers", blank=True
    )
    voltage_classes = models.JSONField(
        _("qualified voltage classes"),
        default=list,
        blank=True,
        help_text=_("Voltage classes this manager is qualified to handle."),
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"),
        default=20,
        validators=[MinValueValidator(1)],
        help_text=_("The most weighted active applications this manager should hold."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    last_assigned_at = models.DateTimeField(_("last assigned at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["user__username"]
        verbose_name = _("account manager")
        verbose_name_plural = _("account managers")
        permissions = [
            ("assign_account_manager", _("Can assign and reassign account managers")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="account_manager_capacity_positive"
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)

    def clean(self) -> None:
        valid = set(VoltageClass.values)
        if not isinstance(self.voltage_classes, list) or any(
            v not in valid for v in self.voltage_classes
        ):
            raise ValidationError(
                {
                    "voltage_classes": _("Choose voltage classes from: %(choices)s.")
                    % {"choices": ", ".join(VoltageClass.values)}
                }
            )
        self.voltage_classes = sorted(set(self.voltage_classes), key=VoltageClass.values.index)


class LoginAttempt(models.Model):
    """One sign-in attempt, kept for the audit and for refusing password guessing."""

    username = models.CharField(_("user name"), max_length=150, db_index=True)
    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, null=True, blank=True
    )
    succeeded = models.BooleanField(_("succeeded"))
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    # An administrator's unlock: a cleared failure no longer counts towards a lock.
    cleared_at = models.DateTimeField(_("unlocked at"), null=True, blank=True)
    cleared_by = models.ForeignKey(
        User,
        verbose_name=_("unlocked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["ip_address", "at"], name="loginattempt_address_at")]
        verbose_name = _("login attempt")
        verbose_name_plural = _("login attempts")

    def __str__(self) -> str:
        return f"{self.username} {self.at:%Y-%m-%d %H:%M} {'ok' if self.succeeded else 'failed'}"


class NotificationKind(models.TextChoices):
    """What a notification is about."""

    # Raised by the account-manager assignment.
    ASSIGNED = "assigned", _("Application assigned to you")
    UNASSIGNED = "unassigned", _("Application without an account manager")
    # Raised by the deviation sweep, its time-limit check and an accepted escalation.
    DEVIATION_RED = "deviation_red", _("Red deviation")
    LIMIT_WARNING = "limit_warning", _("Time-limit warning")
    LIMIT_EXCEEDED = "limit_exceeded", _("Time limit exceeded")
    ESCALATION = "escalation", _("Escalated deviation")
    # An accepted corrective measure, to the departments whose work it changes.
    MEASURE = "measure", _("Corrective measure to carry out")
    # The supervisors' morning summary (applications.digest).
    DIGEST = "digest", _("Daily digest")
    # A webhook subscription whose deliveries kept failing, to its owner (integration).
    WEBHOOK_PAUSED = "webhook_paused", _("Webhook subscription paused")
    # What a customer asked for from the progress link, to the account manager.
    CUSTOMER_REQUEST = "customer_request", _("Request from the customer")


class Notification(models.Model):
    """A message to one person in the application (and by e-mail when they have one).

    ``dedupe_key`` makes a notification idempotent: the same key for the same person is
    stored (and mailed) once, however often the sweep that raised it runs.
    """

    # Indexed through the two indexes below and the key's constraint, not alone.
    recipient = models.ForeignKey(
        User,
        verbose_name=_("recipient"),
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    kind = models.CharField(_("kind"), max_length=40, choices=NotificationKind.choices)
    application = models.ForeignKey(
        "applications.Application",
        verbose_name=_("application"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
    )
    text = models.TextField(_("text"))
    dedupe_key = models.CharField(_("deduplication key"), max_length=120, blank=True)
    by_mail = models.BooleanField(
        _("also by mail"),
        default=False,
        help_text=_("Mailed as well when the recipient's preferences allow it."),
    )
    is_read = models.BooleanField(_("read"), default=False)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"],
                condition=~models.Q(dedupe_key=""),
                name="notification_once_per_key",
            ),
        ]
        # A person's notifications newest first, and their unread ones newest first:
        # each read in the order it is shown, so a page's 8 or 50 rows are found without
        # filtering everything the person ever received (one receiver had 12,000).
        indexes = [
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_newest"),
            models.Index(
                fields=["recipient", "-created_at", "-id"],
                condition=models.Q(is_read=False),
                name="notification_unread_newest",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient}: {self.text[:40]}"


class TokenScope(models.TextChoices):
    READ = "read", _("Read only")
    WRITE = "write", _("Read and write")


class ApiToken(models.Model):
    """A named credential of one system that uses the API.

    Only a digest of the key is stored: the key itself is shown once, when the token is
    made. A token expires, can be revoked, and a read-only one cannot change anything.
    """

    user = models.ForeignKey(
        User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="api_tokens"
    )
    name = models.CharField(
        _("name"), max_length=80, help_text=_("Which system uses it, e.g. 营销系统接口.")
    )
    prefix = models.CharField(_("key prefix"), max_length=12, unique=True, editable=False)
    digest = models.CharField(_("key digest"), max_length=64, editable=False)
    scope = models.CharField(
        _("scope"), max_length=10, choices=TokenScope.choices, default=TokenScope.READ
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    expires_at = models.DateTimeField(_("expires at"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        User,
        verbose_name=_("revoked by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def is_usable(self, now) -> bool:
        return self.revoked_at is None and self.expires_at > now and self.user.is_active


class ChangeRecord(models.Model):
    """One change of an audited row: who, when, and each changed field's before → after.

    Written by database triggers (``yekuo.audit``), never by the application, so that
    ``QuerySet.update()`` and bulk writes are recorded too; append-only on PostgreSQL.
    """

    class Action(models.TextChoices):
        INSERT = "I", _("added")
        UPDATE = "U", _("changed")
        DELETE = "D", _("removed")

    at = models.DateTimeField(_("at"), db_index=True)
    actor = models.ForeignKey(
        User,
        verbose_name=_("by"),
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
    )
    table_name = models.CharField(_("table"), max_length=63)
    row_id = models.CharField(_("row"), max_length=40)
    action = models.CharField(_("action"), max_length=1, choices=Action.choices)
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["table_name", "row_id", "at"], name="change_row_at")]
        verbose_name = _("change record")
        verbose_name_plural = _("change records")

    def __str__(self) -> str:
        return (
            f"{self.table_name}#{self.row_id} {self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"
        )


# --- Archive (yekuo.archive): notifications read long ago ---------------------------------

ArchivedNotification = archive_model(
    Notification,
    name="ArchivedNotification",
    verbose_name=_("archived notification"),
    verbose_name_plural=_("archived notifications"),
    indexed=["recipient"],
)
