"""The morning digest: one summary of what changed in the scope of each supervisor and
department head.

Supervisors are not told of events one by one (a sweep at a large utility turns hundreds
of deviations red at once); each morning every person who watches the dashboard and takes
the digest (``User.daily_digest``) gets one notification, mailed as well, that counts what
the last day brought in the applications they may read and names the worst few. A digest
is keyed by its day, so a task that runs twice sends one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import override

from accounts.models import Notification, NotificationKind
from accounts.services import notification_send
from scheduling import explanations
from scheduling.models import Activity, Deviation, Severity

from .models import ACTIVE_STATES, WORK_STATES
from .selectors import visible_applications, with_unfinished_work_of

# How many of the new red deviations a digest names; the rest are counted.
NAMED = 5


def digest_recipients():
    """Return the active people who answer for a scope (supervisors, department heads)
    and take the digest."""
    User = get_user_model()
    watchers = User.objects.with_perm("accounts.view_dashboard", include_superusers=False)
    heads = User.objects.with_perm("accounts.lead_department", include_superusers=False)
    return (
        User.objects.filter(Q(pk__in=watchers.values("pk")) | Q(pk__in=heads.values("pk")))
        .filter(is_active=True, daily_digest=True)
        .order_by("pk")
    )


def digest_text(user, *, since: datetime, until: datetime) -> str | None:
    """Return the digest of ``user``'s scope between the two moments, or None when there
    is nothing to say."""
    scope = visible_applications(user)
    deviations = Deviation.objects.filter(application__in=scope.values("pk"))
    head_only = bool(
        user.has_perm("accounts.lead_department")
        and not user.has_perm("accounts.supervise_applications")
        and user.department_id
    )
    if head_only:
        # A department head answers for the deviations of its department's work.
        deviations = deviations.filter(department_id=user.department_id)
    new_red = list(
        deviations.filter(severity=Severity.RED, detected_at__gte=since, detected_at__lt=until)
        .select_related("application", "activity")
        .order_by("-delay", "-commitment_overrun", "id")[: NAMED + 1]
    )
    new_red_count = (
        len(new_red)
        if len(new_red) <= NAMED
        else deviations.filter(
            severity=Severity.RED, detected_at__gte=since, detected_at__lt=until
        ).count()
    )
    open_red = (
        deviations.filter(severity=Severity.RED).exclude(status=Deviation.Status.RESOLVED).count()
    )
    exceeded = (
        Notification.objects.filter(
            kind=NotificationKind.LIMIT_EXCEEDED,
            created_at__gte=since,
            created_at__lt=until,
            application__in=scope.values("pk"),
        )
        .values("application")
        .distinct()
        .count()
    )
    unassigned = scope.filter(state__in=ACTIVE_STATES, account_manager__isnull=True).count()
    at_risk = scope.filter(state__in=WORK_STATES, risk__on_time__lt=settings.RISK_AT_RISK_BELOW)
    if head_only:
        # A department head: the applications whose work in the department is unfinished.
        at_risk = with_unfinished_work_of(at_risk, user.department_id)
    worst = list(
        at_risk.order_by("risk__on_time", "id").values_list(
            "pk", "number", "risk__on_time", "risk__p80", "risk__driver"
        )[: NAMED + 1]
    )
    at_risk_count = len(worst) if len(worst) <= NAMED else at_risk.count()
    if not (new_red_count or exceeded or unassigned or at_risk_count):
        return None
    lines = [
        _("Daily digest for %(day)s") % {"day": date_format(timezone.localdate(until))},
        _("New red deviations: %(new)d (open red deviations: %(open)d)")
        % {"new": new_red_count, "open": open_red},
    ]
    for row in new_red[:NAMED]:
        lines.append(f"- {row.application.number} {explanations.deviation_text(row)}")
    if new_red_count > NAMED:
        lines.append(_("… and %(more)d more on the dashboard.") % {"more": new_red_count - NAMED})
    lines.append(_("Applications past a time limit: %(count)d") % {"count": exceeded})
    lines.append(
        _("Applications waiting for an account manager: %(count)d") % {"count": unassigned}
    )
    if at_risk_count:
        likely_late = (
            sum(1 for row in worst if row[2] < settings.RISK_LIKELY_LATE_BELOW)
            if at_risk_count <= NAMED
            else at_risk.filter(risk__on_time__lt=settings.RISK_LIKELY_LATE_BELOW).count()
        )
        lines.append(
            _("At risk of missing the commitment: %(count)d (likely late: %(late)d)")
            % {"count": at_risk_count, "late": likely_late}
        )
        lines += _at_risk_lines(worst[:NAMED])
        if at_risk_count > NAMED:
            lines.append(
                _("… and %(more)d more on the dashboard.") % {"more": at_risk_count - NAMED}
            )
    return "\n".join(lines)


def _at_risk_lines(worst: list[tuple]) -> list[str]:
    """One line per application at risk: its chance, its P80 finish and what drives it."""
    names = dict(
        ((application_id, code), name)
        for application_id, code, name in Activity.objects.filter(
            application_id__in=[row[0] for row in worst],
            code__in={row[4] for row in worst if row[4]},
        ).values_list("application_id", "code", "name")
    )
    lines = []
    for pk, number, on_time, p80, driver in worst:
        line = _(
            "- %(number)s: %(percent)d%% chance of keeping the commitment, P80 finish %(p80)s"
        ) % {"number": number, "percent": round(on_time * 100), "p80": date_format(p80)}
        if (pk, driver) in names:
            line += _("; driven by %(activity)s") % {"activity": f"{driver} {names[(pk, driver)]}"}
        lines.append(line)
    return lines


def daily_digest_send(*, now: datetime | None = None) -> int:
    """Send each recipient the digest of the day before ``now``; return how many were sent.

    Stored (and mailed) in the site's first language, once per person and day.
    """
    now = now or timezone.now()
    since = now - timedelta(days=1)
    key = f"digest:{timezone.localdate(now).isoformat()}"
    sent = 0
    with override(explanations.STORED_LANGUAGE):
        for user in digest_recipients():
            text = digest_text(user, since=since, until=now)
            if text is None:
                continue
            sent += len(
                notification_send(
                    recipients=[user],
                    kind=NotificationKind.DIGEST,
                    text=text,
                    dedupe_key=key,
                    by_mail=True,
                )
            )
    return sent
