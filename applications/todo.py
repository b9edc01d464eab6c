"""To-do lists (待办): the work waiting for a person across all their applications.

Department staff see their department's activities that can start now (every predecessor
finished) or are running, latest first against the plan, then by total float; an account
manager sees the applications that wait for them: unanswered deviations, a stage whose
work is done, a time limit running out, a required document missing.

Each list shows the ``TODO_LIST_SHOWN`` most urgent entries and says when more wait: a
province's department can have thousands of activities ready, and a page of them all
would be read, sent and drawn on every visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Case, Exists, F, OuterRef, When
from django.db.models.functions import Least
from django.utils import timezone
from django.utils.translation import gettext as _

from scheduling import selectors as schedule_selectors
from scheduling.models import Activity, Deviation
from yekuo import compiled
from yekuo.shown import Shown

from .models import WORK_STATES, Application, CustomerLinkVisit, TimeLimitStatus

ACTIVE_WORK = [str(state) for state in WORK_STATES]

# Each to-do list shows this many of its most urgent entries.
TODO_LIST_SHOWN = 100


class TodoList(Shown):
    """The most urgent entries of a to-do list, and whether more wait beyond them."""


@dataclass(frozen=True)
class TodoActivity:
    """An activity waiting for a department: ready to start, or running."""

    activity: Activity
    application: Application
    running: bool
    due: date | None  # the planned start (ready) or finish (running) of the baseline
    late_days: int  # working days past ``due``; 0 when not late
    total_float: int | None
    is_joint: bool


def may_have_department_work(user) -> bool:
    return (
        user.is_active
        and user.has_perm("accounts.record_department_progress")
        and user.department_id is not None
    )


def may_have_own_work(user) -> bool:
    """An account manager with a department records its activities on their applications."""
    return (
        user.is_active
        and user.has_perm("accounts.handle_applications")
        and user.department_id is not None
    )


def _ready_work(user):
    """The activities at work that can go on now (``is_ready`` is stored by the analysis
    of every change and by the sweep, so this reads an index, not the networks), of the
    user's own applications when the user has no department duties; the caller keeps the
    user's department's, as owner or as joint department."""
    return _ready_rows(None if may_have_department_work(user) else user.pk)


def _ready_rows(manager_id: int | None):
    """:func:`_ready_work` by keys: of the applications of ``manager_id`` unless None."""
    ready = Activity.objects.filter(
        is_ready=True, application__state__in=ACTIVE_WORK, is_dummy=False
    )
    if manager_id is not None:
        ready = ready.filter(application__account_manager_id=manager_id)
    return ready


def _union(branches, enough: int):
    """The union of these querysets' keys, each branch read up to ``enough`` where the
    database takes a limit in a union."""
    branches = [b.order_by().values("pk") for b in branches]
    if connection.features.supports_slicing_ordering_in_compound:
        branches = [b[:enough] for b in branches]
    first, *others = branches
    return first.union(*others)


def _ready_or_running(user, *, today: date, limit: int) -> tuple[list[tuple[Activity, bool]], bool]:
    """Return the user's department's activities that can start now (every predecessor
    finished) or are running, the ``limit`` most urgent (late first: the earliest planned
    day still to come; then least float), each with whether the department is only a joint
    one, and whether more wait.

    One ordered, limited query for the activities the department owns and one for those it
    shares (joined by OR, the planner walks every activity of the province)."""
    if not (may_have_department_work(user) or may_have_own_work(user)):
        return [], False
    department = user.department_id
    due = Case(
        When(actual_start__isnull=False, then=F("baseline_finish")),
        default=F("baseline_start"),
    )
    ready = _ready_work(user).annotate(due=due, urgency=Least(due, today))
    order = (
        F("urgency").asc(nulls_last=True),
        F("forecast_tf").asc(nulls_last=True),
        F("due").asc(nulls_last=True),
        "application_id",
        "sort_order",
        "id",
    )
    found: dict[int, Activity] = {}
    for branch in (
        ready.filter(department_id=department),
        ready.filter(joint_departments=department),
    ):
        for activity in branch.order_by(*order)[: limit + 1]:
            found.setdefault(activity.pk, activity)
    rows = [(activity, activity.department_id != department) for activity in found.values()]
    return rows, len(rows) > limit


def department_todo(user, *, today: date | None = None, limit: int | None = None) -> TodoList:
    """Return the activities of the user's department (as owner or joint department) that
    can start now or are running, in applications at work: late first, then least float;
    the ``limit`` (``TODO_LIST_SHOWN``) most urgent of them. For an account manager
    without department duties: those of their own applications."""
    today = today or timezone.localdate()
    limit = limit or TODO_LIST_SHOWN
    found, more = _ready_or_running(user, today=today, limit=limit)
    if not found:
        return TodoList([], False)
    applications = Application.objects.select_related("customer", "account_manager").in_bulk(
        {activity.application_id for activity, _joint in found}
    )
    calendar = schedule_selectors.working_calendar()
    rows = []
    for activity, is_joint in found:
        running = activity.actual_start is not None
        due = activity.baseline_finish if running else activity.baseline_start
        late = calendar.working_days_between(due, today) if due is not None and due < today else 0
        rows.append(
            TodoActivity(
                activity=activity,
                application=applications[activity.application_id],
                running=running,
                due=due,
                late_days=late,
                total_float=activity.forecast_tf,
                is_joint=is_joint,
            )
        )
    rows.sort(
        key=lambda row: (
            -row.late_days,
            row.total_float if row.total_float is not None else 10**6,
            row.due or date.max,
            row.application.number,
        )
    )
    return TodoList(rows[:limit], more)


@dataclass(frozen=True)
class TodoApplication:
    application: Application
    reasons: list[str]


def _waiting_reasons():
    """The four reasons an application waits for its manager, each as a subquery of it."""
    return {
        "unanswered": Deviation.objects.filter(
            application=OuterRef("pk"), status=Deviation.Status.OPEN
        ),
        "stage_open": Activity.objects.filter(
            application=OuterRef("pk"),
            stage=OuterRef("state"),
            is_dummy=False,
            actual_finish__isnull=True,
        ),
        "customer_says": CustomerLinkVisit.objects.filter(
            application=OuterRef("pk"),
            kind__in=CustomerLinkVisit.REQUEST_KINDS,
            handled_at__isnull=True,
        ),
    }


def _waiting_rows(manager_id: int) -> list:
    """The manager's applications at work that wait for them: one queryset per reason.

    Joined by OR, PostgreSQL turns each EXISTS into a hash of the whole table (every
    unfinished activity of the province); alone in its branch, each is a join that stops
    at a limit."""
    reasons = _waiting_reasons()
    base = Application.objects.filter(account_manager_id=manager_id, state__in=ACTIVE_WORK)
    return [
        base.filter(Exists(reasons["unanswered"])),
        base.filter(~Exists(reasons["stage_open"])),
        base.exclude(time_limit_status=TimeLimitStatus.OK),
        base.filter(Exists(reasons["customer_says"])),
    ]


def _waiting_count(user, enough: int) -> int:
    """Count the applications waiting for the manager, up to about ``enough``: one
    query, a union of one branch per reason (compiled once per process: it is asked on
    every page)."""
    return compiled.count(
        ("todo-waiting", enough),
        Application,
        lambda manager: _union(_waiting_rows(manager), enough),
        {"manager": user.pk},
    )


def _waiting_keys(user, limit: int) -> list[int]:
    """The keys of the ``limit`` applications waiting for the manager that are due first:
    one query, a union of the reasons' branches, each ordered and limited where the
    database takes that in a union."""
    order = ("committed_finish_date", "number")
    branches = [b.order_by().values_list("pk", *order) for b in _waiting_rows(user.pk)]
    if connection.features.supports_slicing_ordering_in_compound:
        branches = [b.order_by(*order)[:limit] for b in branches]
    first, *others = branches
    return [row[0] for row in first.union(*others).order_by(*order)[:limit]]


def manager_todo(user, *, limit: int | None = None) -> TodoList:
    """Return the account manager's applications at work that wait for them, each with
    why (unanswered deviations, the stage's work done, a time limit, the customer's
    word): the ``limit`` (``TODO_LIST_SHOWN``) whose committed date comes first."""
    if not user.has_perm("accounts.handle_applications"):
        return TodoList([], False)
    limit = limit or TODO_LIST_SHOWN
    keys = _waiting_keys(user, limit + 1)
    if not keys:
        return TodoList([], False)
    reasons = _waiting_reasons()
    applications = (
        Application.objects.filter(pk__in=keys[:limit])
        .annotate(
            unanswered=Exists(reasons["unanswered"]),
            stage_open=Exists(reasons["stage_open"]),
            customer_says=Exists(reasons["customer_says"]),
        )
        .select_related("customer")
        .order_by("committed_finish_date", "number")
    )
    rows = []
    for application in applications:
        reasons_now = []
        if application.unanswered:
            reasons_now.append(_("A deviation waits for your answer."))
        if not application.stage_open:
            reasons_now.append(_("The work of this stage is done: move it on."))
        if application.time_limit_status != TimeLimitStatus.OK:
            reasons_now.append(application.time_limit_text)
        if application.customer_says:
            reasons_now.append(_("The customer says its work is done or asks for an inspection."))
        rows.append(TodoApplication(application=application, reasons=reasons_now))
    return TodoList(rows, len(keys) > limit)


# The navigation shows the figure up to this, then "99+": counting further would read every
# application of a manager who has fallen far behind, on every page.
TODO_COUNT_SHOWN = 99


def _open_work_count(user, enough: int) -> int:
    """Count the department's work up to about ``enough``: one branch for the activities the
    department owns, one for those it shares, so each reads its index and stops at the
    limit (joined by OR, the planner walks every activity of the province)."""
    own = not may_have_department_work(user)

    def build(manager, department):
        ready = _ready_rows(manager if own else None)
        return _union(
            [ready.filter(department_id=department), ready.filter(joint_departments=department)],
            enough,
        )

    return compiled.count(
        ("todo-open-work", own, enough),
        Activity,
        build,
        {"manager": user.pk, "department": user.department_id},
    )


def todo_count(user) -> int:
    """Return how many to-do entries wait for the user (the navigation's figure), counted
    up to ``TODO_COUNT_SHOWN`` + 1 at most in each list."""
    enough = TODO_COUNT_SHOWN + 1
    count = 0
    if may_have_department_work(user) or may_have_own_work(user):
        count = min(_open_work_count(user, enough), enough)
    if user.has_perm("accounts.handle_applications"):
        count += min(_waiting_count(user, enough), enough)
    return count
