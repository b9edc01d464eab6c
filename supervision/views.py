from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.sessions import recent_password_required
from applications import assignment, capacity
from applications import services as application_services
from applications.kpi import WINDOW_DAYS
from applications.models import CapacityMeasure
from scheduling import charts
from scheduling.models import Crew
from yekuo.errors import DomainError, InvalidInput

from . import selectors
from .forms import AssignForm, DeviationFilterForm, ReassignForm

UNASSIGNED_SHOWN = 20
SEVERITY_PARTS = ("red", "amber", "info")


def _stack(counts):
    return counts.label, [(f"bar-{s}", getattr(counts, s)) for s in SEVERITY_PARTS]


def _charts(figures):
    by_department, by_stage = figures.by_department, figures.by_stage
    trend, loads = figures.trend, figures.loads
    return {
        "by_department": charts.stacked_bars(
            [
                (c.label, [(f"bar-{s}", getattr(c, s)) for s in SEVERITY_PARTS])
                for c in by_department
            ]
        ),
        "by_department_rows": by_department,
        "by_stage": charts.stacked_bars(
            [(c.label, [(f"bar-{s}", getattr(c, s)) for s in SEVERITY_PARTS]) for c in by_stage]
        ),
        "by_stage_rows": by_stage,
        "workload": charts.load_bars([(str(m.profile.user), m.load, m.capacity) for m in loads]),
        "workload_rows": loads,
        "trend": charts.line_chart(
            [date_format(m.month, "YEAR_MONTH_FORMAT") for m in trend],
            [
                ("line-cycle", [m.average_cycle_days for m in trend]),
                ("line-commit", [m.average_utility_days for m in trend]),
            ],
        )
        if trend
        else None,
        "trend_rows": trend,
    }


class _Counted:
    """A queryset whose count is known already: the paginator does not count again."""

    ordered = True

    def __init__(self, queryset, count: int):
        self.queryset, self._count = queryset, count

    def count(self) -> int:
        return self._count

    def __getitem__(self, index):
        return self.queryset[index]


def _dashboard(request, *, params=None, reassign_form=None, status=200):
    """Render the dashboard as filtered by ``params`` (the query string by default)."""
    params = request.GET if params is None else params
    today = timezone.localdate()
    figures = selectors.dashboard_figures(today=today)
    filters_form = DeviationFilterForm(params or None)
    filters = filters_form.cleaned_data if filters_form.is_valid() else {}
    chosen = {
        "severity": filters.get("severity", ""),
        "stage": filters.get("stage", ""),
        "department_id": getattr(filters.get("department"), "pk", None),
        "manager_id": getattr(filters.get("manager"), "pk", None),
        "region_id": getattr(filters.get("region"), "pk", None),
        "cause": getattr(filters.get("cause"), "code", ""),
        "party": filters.get("party", ""),
    }
    crews = selectors.busiest_crews(region_id=chosen["region_id"])
    for crew in crews:
        weeks = selectors.crew_weeks(crew)
        crew.chart = charts.load_bars(
            [
                (
                    _("from %(day)s") % {"day": date_format(first, "MONTH_DAY_FORMAT")},
                    demand,
                    capacity if capacity is not None else demand,
                )
                for first, demand, capacity, _over in weeks
            ],
            label_width=80,
            note_width=110,
        )
        # A week with a day asking more than the crew has is where a queue forms, even
        # when the week as a whole fits.
        for bar, (_first, _demand, _capacity, over) in zip(crew.chart.bars, weeks, strict=True):
            if over:
                for segment in bar.segments:
                    segment.css = "bar-over"
                bar.note = _("%(note)s, %(days)s days over") % {"note": bar.note, "days": over}
    # Measures exist only where a levelling loaded crews: none to read without them.
    measures = selectors.proposed_capacity_measures(region_id=chosen["region_id"]) if crews else []
    for measure in measures:
        measure.text = capacity.measure_text(measure)
        measure.effect_text = capacity.effect_text(measure)
    at_risk = selectors.applications_at_risk(
        stage=chosen["stage"],
        department_id=chosen["department_id"],
        manager_id=chosen["manager_id"],
        region_id=chosen["region_id"],
    )
    answer_counts = selectors.open_deviation_answer_counts(**chosen)
    deviations = selectors.open_deviations(sort=filters.get("sort") or "severity", **chosen)
    # The answer tables count every deviation the filters keep, once each: the table's
    # count without counting the rows.
    deviations = _Counted(
        deviations, sum(row["open"] + row["acknowledged"] for row in answer_counts["by_cause"])
    )
    page = Paginator(deviations, selectors.DEVIATION_PAGE_SIZE).get_page(params.get("page"))
    query = params.copy()
    query.pop("page", None)
    query.pop("reassign", None)
    unassigned = assignment.unassigned_applications()
    may_assign = request.user.has_perm("accounts.assign_account_manager")
    back = params.copy()
    back.pop("reassign", None)
    if reassign_form is None and may_assign:
        reassign_form = ReassignForm(
            initial={"application": params.get("reassign", ""), "next": back.urlencode()},
            may_override=request.user.has_perm("accounts.supervise_applications"),
        )
    candidates = None
    if may_assign:
        chosen_application = reassign_form.chosen_application()
        if chosen_application is not None:
            candidates = assignment.reassignment_candidates(chosen_application)
    context = {
        "kpis": figures.kpis,
        "filters_form": filters_form,
        "answer_counts": answer_counts,
        "at_risk": at_risk,
        "crews": crews,
        "measures": measures,
        "may_decide_measures": request.user.has_perm("accounts.supervise_applications"),
        "at_risk_below": round(settings.RISK_AT_RISK_BELOW * 100),
        "page": page,
        "query": query.urlencode(),
        "unassigned": list(unassigned[:UNASSIGNED_SHOWN]),
        "may_assign": may_assign,
        "reassign_form": reassign_form,
        "reassign_candidates": candidates,
        "window_days": WINDOW_DAYS,
        **_charts(figures),
    }
    return render(request, "supervision/dashboard.html", context, status=status)


@permission_required("accounts.view_dashboard", raise_exception=True)
def dashboard(request):
    """The supervisors' dashboard: what is late, who holds it, and who can take more."""
    return _dashboard(request)


@permission_required("accounts.view_dashboard", raise_exception=True)
def crew_days(request, crew_id: int):
    """One crew's load day by day (asked of it against its capacity, the days over it
    marked): opened on demand from its weekly chart on the dashboard."""
    try:
        crew = selectors.levelled_crew(crew_id)
    except Crew.DoesNotExist:
        raise Http404(_("There is no such crew.")) from None
    days = selectors.crew_days(crew)
    chart = charts.load_bars(
        [
            (
                date_format(day, "MONTH_DAY_FORMAT") + " " + date_format(day, "D"),
                demand,
                limit if limit is not None else demand,
            )
            for day, demand, _booked, limit in days
        ],
        label_width=90,
        note_width=70,
    )
    context = {
        "crew": crew,
        "chart": chart,
        "days": days,
        "over_days": [
            day for day, demand, _booked, limit in days if limit is not None and demand > limit
        ],
    }
    template = "supervision/partials/crew_days.html"
    if not request.headers.get("HX-Request"):
        template = "supervision/crew_days.html"
    return render(request, template, context)


def _refuse_unless_may_assign(request):
    if request.user.has_perm("accounts.assign_account_manager"):
        return None
    messages.error(request, _("Only supervisors assign and reassign account managers."))
    target = "supervision:dashboard" if request.user.has_perm("accounts.view_dashboard") else "home"
    return redirect(target)


@require_POST
def assign(request):
    """Run the automatic assignment for one application of the unassigned queue."""
    refused = _refuse_unless_may_assign(request)
    if refused:
        return refused
    form = AssignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose an application of the unassigned queue."))
        return redirect("supervision:dashboard")
    outcome = assignment.account_manager_assign(application_id=form.cleaned_data["application"])
    text = {
        assignment.ASSIGNED: (messages.SUCCESS, _("The application has been assigned.")),
        assignment.UNASSIGNED: (
            messages.WARNING,
            _(
                "No account manager is eligible (region, voltage class, capacity): "
                "reassign it to someone by hand."
            ),
        ),
        assignment.ALREADY_ASSIGNED: (
            messages.INFO,
            _("The application already has an account manager."),
        ),
        assignment.NOT_ACTIVE: (messages.INFO, _("The application is no longer active.")),
        assignment.MISSING: (messages.ERROR, _("There is no such application.")),
    }[outcome]
    messages.add_message(request, *text)
    return redirect("supervision:dashboard")


@require_POST
@recent_password_required
def reassign(request):
    """Give an application another account manager with the reason (logged); with bad
    input, show the dashboard again with the messages beside the fields."""
    refused = _refuse_unless_may_assign(request)
    if refused:
        return refused
    form = ReassignForm(
        request.POST, may_override=request.user.has_perm("accounts.supervise_applications")
    )
    if form.is_valid():
        try:
            application = application_services.application_reassign(
                application_id=form.application.pk,
                manager=form.cleaned_data["manager"],
                reason=form.cleaned_data["reason"],
                override=form.cleaned_data.get("override", False),
                override_reason=form.cleaned_data.get("override_reason", ""),
                by=request.user,
            )
        except InvalidInput as error:
            form.add_errors(error.errors)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(_back_to_dashboard(request, form))
        else:
            messages.success(
                request,
                _("%(number)s is now held by %(manager)s.")
                % {"number": application.number, "manager": application.account_manager},
            )
            return redirect(_back_to_dashboard(request, form))
    # The page shown again is the one the supervisor came from, filters and all.
    params = QueryDict(form.data.get("next", ""))
    return _dashboard(request, params=params, reassign_form=form, status=400)


@require_POST
def capacity_measure_decide(request, measure_id: int, decision: str):
    """Accept or dismiss a measure that would relieve shared crews (supervisors)."""
    decide = {
        "accept": application_services.capacity_measure_accept,
        "dismiss": application_services.capacity_measure_dismiss,
    }[decision]
    try:
        measure = decide(measure_id=measure_id, by=request.user)
    except CapacityMeasure.DoesNotExist:
        messages.error(request, _("There is no such measure."))
    except DomainError as error:
        messages.error(request, error.message)
    else:
        text = capacity.measure_text(measure)
        if decision == "accept":
            messages.success(
                request,
                _("Accepted: %(what)s. The region is levelled again in a moment.") % {"what": text},
            )
        else:
            messages.info(request, _("Dismissed: %(what)s.") % {"what": text})
    if not request.user.has_perm("accounts.view_dashboard"):
        return redirect("home")
    return redirect(reverse("supervision:dashboard") + "#crew-loads")


def _back_to_dashboard(request, form) -> str:
    """Return the dashboard with the filters it had when the form was opened.

    ``next`` is a query string typed by nobody but still sent by the browser: it is
    accepted only as a query of the dashboard itself.
    """
    url = reverse("supervision:dashboard")
    query = (form.data.get("next") or "").lstrip("?")
    target = f"{url}?{query}" if query else url
    if (
        query
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and "#" not in query
        and "\\" not in query
    ):
        return target
    return url
