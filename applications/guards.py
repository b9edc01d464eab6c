"""The stage machine's guards and permissions, each able to say why it refuses.

A guard is a django-fsm condition (a callable that takes the application and answers
True or False) that can also explain a refusal in words, so that the service, the API and
the pages tell a person exactly what is missing. Guards read ``application.activities``;
the service prefetches them, so checking every guard costs no further query.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yekuo.domain import DocumentKind, Milestone


def _activities(application):
    return list(application.activities.all())


def _names(activities) -> str:
    return "、".join(f"{a.code} {a.name}" for a in activities)


class Guard:
    """A transition condition with an explanation of its refusal."""

    def __init__(self, name: str, explain: Callable[[object], str | None]) -> None:
        self.__name__ = name
        self._explain = explain

    def __call__(self, application) -> bool:
        return self._explain(application) is None

    def refusal(self, application) -> str | None:
        """Return why the guard refuses, or None when it lets the transition through."""
        return self._explain(application)


def _explain_stage_finished(application) -> str | None:
    unfinished = [
        a
        for a in _activities(application)
        if a.stage == application.state and not a.is_dummy and a.actual_finish is None
    ]
    if unfinished:
        return _("The work of this stage is not finished: %(activities)s.") % {
            "activities": _names(unfinished)
        }
    return None


def _milestone_guard(name: str, milestone: str, message) -> Guard:
    def explain(application) -> str | None:
        missing = [
            a
            for a in _activities(application)
            if a.milestone == milestone and a.actual_finish is None
        ]
        if missing:
            return str(message) % {"activities": _names(missing)}
        return None

    return Guard(name, explain)


stage_finished = Guard("stage_finished", _explain_stage_finished)
plan_approved = _milestone_guard(
    "plan_approved",
    Milestone.PLAN_APPROVED,
    gettext_lazy("The supply plan has not passed review (%(activities)s)."),
)
fees_settled = _milestone_guard(
    "fees_settled",
    Milestone.FEES_SETTLED,
    gettext_lazy("The fees are not settled (%(activities)s)."),
)
completion_inspection_passed = _milestone_guard(
    "completion_inspection_passed",
    Milestone.COMPLETION_INSPECTION,
    gettext_lazy("The completion inspection has not passed (%(activities)s)."),
)
contract_signed = _milestone_guard(
    "contract_signed",
    Milestone.CONTRACT_SIGNED,
    gettext_lazy("The supply contract is not signed (%(activities)s)."),
)


def missing_documents(application, stage: str | None = None) -> list[str]:
    """Return the kinds of the required documents of ``stage`` (the current one when not
    given) that are not in: neither uploaded nor all withdrawn. Reads
    ``application.documents``, which the service prefetches."""
    stage = stage or application.state
    wanted = [
        item["kind"]
        for item in application.document_checklist or []
        if item.get("required") and item.get("stage") == stage
    ]
    if not wanted:
        return []
    held = {d.kind for d in application.documents.all() if not d.is_withdrawn}
    return [kind for kind in wanted if kind not in held]


def _explain_documents(application) -> str | None:
    missing = missing_documents(application)
    if missing:
        return _(
            "Required documents of this stage are missing: %(documents)s. Upload them under "
            "Documents."
        ) % {"documents": "、".join(str(DocumentKind(kind).label) for kind in missing)}
    return None


documents_handed_in = Guard("documents_handed_in", _explain_documents)


def _explain_review(application) -> str | None:
    if not hasattr(application, "review"):
        return _("The post-completion review (问效) has not been recorded.")
    return None


review_recorded = Guard("review_recorded", _explain_review)


def _explain_return_state(application) -> str | None:
    if not application.suspended_from:
        return _("The application does not remember the state it was suspended from.")
    return None


has_state_to_return_to = Guard("has_state_to_return_to", _explain_return_state)


# Permissions: callables (application, user) -> bool, as django-fsm expects.


def is_supervisor(user) -> bool:
    return user.is_active and user.has_perm("accounts.supervise_applications")


def manager_or_supervisor(application, user) -> bool:
    """The application's own account manager, a supervisor or an administrator."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_supervisor(user):
        return True
    return application.account_manager_id == user.pk and user.has_perm(
        "accounts.handle_applications"
    )


def _department_staff(user, department_id) -> bool:
    return (
        user.is_active
        and user.has_perm("accounts.record_department_progress")
        and department_id is not None
        and user.department_id == department_id
    )


def may_record_progress(user, application, activity) -> bool:
    """The manager, a supervisor, or the staff of a department that owns the activity or
    staffs it jointly."""
    if manager_or_supervisor(application, user) or _department_staff(user, activity.department_id):
        return True
    # The joint departments are read only for department staff of another department.
    return _department_staff(user, user.department_id) and any(
        d.pk == user.department_id for d in activity.joint_departments.all()
    )


def may_answer_deviation(user, deviation) -> bool:
    """The manager, a supervisor, or the staff of the department that owns the deviation."""
    return manager_or_supervisor(deviation.application, user) or _department_staff(
        user, deviation.department_id
    )


def manager_supervisor_or_department(department_code: str):
    """Also the staff of the department that owns this step."""

    def permission(application, user) -> bool:
        if manager_or_supervisor(application, user):
            return True
        return (
            user.is_authenticated
            and user.is_active
            and user.has_perm("accounts.record_department_progress")
            and user.department is not None
            and user.department.code == department_code
        )

    permission.__name__ = f"manager_supervisor_or_{department_code}"
    return permission
