from datetime import date
from functools import wraps

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts import selectors as account_selectors
from accounts.roles import Role, roles_of
from accounts.sessions import recent_password_required
from scheduling import selectors as schedule_selectors
from scheduling.models import Deviation, Proposal
from yekuo.api.pagination import BoundedCountPaginator
from yekuo.dates import day_text
from yekuo.errors import DomainError, InvalidInput, NotPermitted
from yekuo.qr import qr_svg

from . import customer_links, exports, guards, kpi, selectors, services, todo
from .forms import (
    AcceptanceForm,
    AssessmentPeriodForm,
    ComplaintForm,
    DeviationAnswerForm,
    DismissForm,
    DocumentForm,
    FollowUpCloseForm,
    FollowUpForm,
    ProgressForm,
    ReplanForm,
    ReviewForm,
    TransitionForm,
    WorkspaceFilterForm,
)
from .models import Document, transition_label


def home(request):
    """The workspace: the applications the signed-in person answers for, and news."""
    user = request.user
    profile = getattr(user, "account_manager", None)
    form = WorkspaceFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    applications = selectors.workspace_applications(
        user,
        state=filters.get("state", ""),
        severity=filters.get("severity", ""),
        time_limit=filters.get("time_limit", ""),
        search=filters.get("q", ""),
    )
    # Counted up to API_EXACT_COUNT_LIMIT: a supervisor's province is estimated beyond.
    page = BoundedCountPaginator(applications, selectors.WORKSPACE_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    notifications, unread = account_selectors.notifications_unread(user=user)
    context = {
        "form": form,
        "page": page,
        "rows": selectors.workspace_rows(page.object_list),
        "query": query.urlencode(),
        "notifications": notifications,
        "unread": unread,
        "roles": roles_of(user),
        "Role": Role,
        "profile": profile,
        "profile_regions": list(profile.regions.all()) if profile else [],
        "may_accept": _may_accept(user),
        # Whose each row is: shown to those who see more than their own.
        "shows_manager": profile is None or user.has_perm("accounts.supervise_applications"),
    }
    return render(request, "applications/home.html", context)


def _period_form(request) -> AssessmentPeriodForm:
    if "start" in request.GET or "end" in request.GET:
        return AssessmentPeriodForm(request.GET)
    today = timezone.localdate()
    return AssessmentPeriodForm({"start": date(today.year, 1, 1), "end": today})


def _assessment_of(request, form) -> kpi.Assessment:
    result = kpi.assessment(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    return kpi.assessment_seen_by(result, request.user)


def assessment(request):
    """The assessment (考核) of a period per account manager and per department (a
    department head: the row of their department)."""
    if not kpi.may_see_assessment(request.user):
        raise PermissionDenied
    form = _period_form(request)
    result = None
    if form.is_valid():
        result = _assessment_of(request, form)
    return render(
        request,
        "applications/assessment.html",
        {"form": form, "assessment": result, "scores": kpi.REVIEW_SCORES},
        status=200 if form.is_valid() else 400,
    )


EXPORTS = {
    "xlsx": (
        exports.assessment_xlsx,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "csv": (exports.assessment_csv, "text/csv; charset=utf-8"),
}


@recent_password_required
def assessment_export(request, extension):
    """The assessment of the period as an Excel or CSV download; bad dates show the page."""
    if not kpi.may_see_assessment(request.user):
        raise PermissionDenied
    form = _period_form(request)
    if not form.is_valid():
        return assessment(request)
    result = _assessment_of(request, form)
    write, content_type = EXPORTS[extension]
    response = HttpResponse(write(result), content_type=content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{exports.filename(result, extension)}"'
    )
    return response


# --- The application page -------------------------------------------------------------------
#
# Every action is a plain form post answered by a redirect to the page with a message; bad
# input renders the page again with the form's messages beside its fields and the typed
# values kept. htmx only enhances the same forms (see application_detail.html).


def _visible_id(user, number: str) -> int:
    application_id = (
        selectors.visible_applications(user)
        .filter(number=number)
        .values_list("pk", flat=True)
        .first()
    )
    if application_id is None:
        raise Http404(_("There is no application %(number)s you may read.") % {"number": number})
    return application_id


def _page_url(number: str, anchor: str = "") -> str:
    url = reverse("application_detail", args=[number])
    return f"{url}#{anchor}" if anchor else url


def _form_ids(prefix):
    return f"id_{prefix}_%s"


def _take_errors(form, exc: InvalidInput) -> bool:
    """Put the service's messages beside the form's fields; True when all found a place.

    A message about a field the form does not show becomes a page message instead.
    """
    placed = True
    for field, errors in exc.errors.items():
        for error in errors:
            if field in form.fields and not form.fields[field].widget.is_hidden:
                form.add_error(field, error)
            else:
                form.add_error(None, error)
                placed = False
    return placed


def page_form(anchor: str):
    """Mark a view as the address of a form on the application page: it takes POST; a GET
    (a reload after a refused form, a bookmark) goes back to the page's section instead of
    answering 405."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, number, *args, **kwargs):
            if request.method in ("GET", "HEAD"):
                return redirect(_page_url(number, anchor))
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            return view(request, number, *args, **kwargs)

        return wrapper

    return decorate


@require_GET
def application_detail(request, number):
    """The application page: its state, schedule, deviations and what the reader may do."""
    return _render_page(request, number)


def _drawing_choices(request) -> dict:
    """Return the drawings asked for in the query: ``?network=logic|time``, ``?zoom=week|month``."""
    return {
        "network_view": request.GET.get("network", "logic"),
        "zoom": request.GET.get("zoom") or None,
    }


def _page_choices(request) -> dict:
    """Return what the query asks of the application page: the drawings, and with
    ``?resolved=all`` every resolved deviation rather than the last ones."""
    return {**_drawing_choices(request), "all_resolved": request.GET.get("resolved") == "all"}


def _render_page(request, number, *, bound=None, status=200):
    page = selectors.application_page(number, request.user, **_page_choices(request))
    if page is None:
        raise Http404(_("There is no application %(number)s you may read.") % {"number": number})
    bound = bound or {}
    application = page.application
    # A form is made only where the page shows one: a refused step and an activity that
    # takes no entry now show none (18 forms of 27 on a page at work were never shown).
    for spec in page.transitions:
        spec.form = bound.get(("transition", spec.name)) or (
            TransitionForm(
                initial={"transition": spec.name, "version": application.version},
                auto_id=_form_ids(f"t_{spec.name}"),
            )
            if spec.available
            else None
        )
    for activity in page.activities:
        activity.form = bound.get(("progress", activity.pk)) or (
            ProgressForm(auto_id=_form_ids(f"a{activity.pk}")) if activity.may_record_now else None
        )
    choices = _answer_choices(page.deviations)
    for deviation in page.deviations:
        if deviation.may_answer:
            deviation.answer_form = bound.get(("answer", deviation.pk)) or DeviationAnswerForm(
                initial=_answer_initial(deviation),
                auto_id=_form_ids(f"d{deviation.pk}"),
                **choices,
            )
        for proposal in deviation.proposal_list:
            proposal.dismiss_form = bound.get(("dismiss", proposal.pk)) or DismissForm(
                auto_id=_form_ids(f"p{proposal.pk}")
            )
    available = [spec for spec in page.transitions if spec.available]
    context = {
        "page": page,
        "application": application,
        "document_form": bound.get("document") or DocumentForm(auto_id=_form_ids("doc")),
        "review_form": bound.get("review") or ReviewForm(auto_id=_form_ids("review")),
        # Made only where shown: each reads the people it offers.
        "follow_up_form": bound.get("follow_up")
        or (
            FollowUpForm(auto_id=_form_ids("follow_up"))
            if page.review is not None and page.may_complain
            else None
        ),
        "complaint_form": bound.get("complaint")
        or (
            ComplaintForm(auto_id=_form_ids("complaint"), initial={"received_on": page.today})
            if page.may_complain
            else None
        ),
        "forward_transitions": [s for s in available if not s.reason_required],
        "side_transitions": [s for s in available if s.reason_required],
        "side_open": any(s.form.is_bound for s in available if s.reason_required),
        "refused_transitions": [spec for spec in page.transitions if not spec.available],
        "late_days": -application.total_float if (application.total_float or 0) < 0 else 0,
    }
    response = render(request, "applications/application_detail.html", context, status=status)
    if request.method == "POST":
        # A refused form is shown again in place; with JavaScript on, the address bar then
        # keeps the page's address, not the form's (which a reload could not show).
        response["HX-Push-Url"] = _page_url(number)
    return response


@page_form("")
def application_transition(request, number):
    application_id = _visible_id(request.user, number)
    name = request.POST.get("transition", "")
    form = TransitionForm(request.POST, auto_id=_form_ids(f"t_{name}"))
    if not form.is_valid():
        return _render_page(request, number, bound={("transition", name): form})
    try:
        application = services.application_transition(
            application_id=application_id,
            transition=form.cleaned_data["transition"],
            note=form.cleaned_data["note"],
            expected_version=form.cleaned_data["version"],
            by=request.user,
        )
    except InvalidInput as exc:
        if _take_errors(form, exc):
            return _render_page(request, number, bound={("transition", name): form})
        messages.error(request, exc.message)
        return redirect(_page_url(number, "transitions"))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_page_url(number, "transitions"))
    label = transition_label(name)
    messages.success(
        request,
        _("“%(transition)s” applied: the application is now “%(state)s”.")
        % {"transition": label, "state": application.get_state_display()},
    )
    return redirect(_page_url(number))


@page_form("activities")
def activity_progress(request, number, activity_id):
    application_id = _visible_id(request.user, number)
    form = ProgressForm(request.POST, auto_id=_form_ids(f"a{activity_id}"))
    bound = {("progress", activity_id): form}
    if not form.is_valid():
        return _render_page(request, number, bound=bound)
    data = form.cleaned_data
    try:
        activity = services.activity_progress_record(
            activity_id=activity_id,
            application_id=application_id,
            by=request.user,
            **form.progress(),
        )
    except InvalidInput as exc:
        if _take_errors(form, exc):
            return _render_page(request, number, bound=bound)
        messages.error(request, exc.message)
        return redirect(_page_url(number, "activities"))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_page_url(number, "activities"))
    done = []
    if data["actual_start"] is not None:
        done.append(_("started on %(day)s") % {"day": day_text(data["actual_start"])})
    if data["actual_finish"] is not None and data["failed"]:
        done.append(_("inspection failed on %(day)s") % {"day": day_text(data["actual_finish"])})
    elif data["actual_finish"] is not None:
        done.append(_("finished on %(day)s") % {"day": day_text(data["actual_finish"])})
    if data["remaining"] is not None:
        done.append(_("%(days)s working days remaining") % {"days": data["remaining"]})
    messages.success(
        request,
        _("%(activity)s: %(what)s. The forecast is updated.")
        % {"activity": activity, "what": "，".join(done) if _is_chinese() else ", ".join(done)},
    )
    return redirect(_page_url(number, "activities"))


def _is_chinese() -> bool:
    return (get_language() or "").startswith("zh")


def _check_owner(model, pk: int, application_id: int, *, through: str) -> None:
    if not model.objects.filter(pk=pk, **{through: application_id}).exists():
        raise Http404(_("Not found on this application."))


def _in_language(row) -> str:
    if not (get_language() or "").startswith("zh"):
        return row.name_en or row.name
    return row.name


def _answer_choices(deviations) -> dict:
    """The causes and departments to choose from, read once for all the page's forms."""
    if not any(deviation.may_answer for deviation in deviations):
        return {}
    return {
        "causes": [(c.code, _in_language(c)) for c in schedule_selectors.deviation_causes()],
        "departments": [(d.pk, _in_language(d)) for d in account_selectors.departments()],
    }


def _answer_initial(deviation) -> dict:
    """The answer given so far, or the defaults: the late activity's owner answers."""
    if deviation.cause_id:
        return {
            "cause": deviation.cause.code,
            "responsible_party": deviation.responsible_party,
            "responsible_department": deviation.responsible_department_id,
            "party_reason": deviation.party_reason,
            "planned_action": deviation.planned_action,
            "action_due": deviation.action_due,
        }
    party, department_id = schedule_selectors.default_responsibility(deviation)
    return {"responsible_party": party, "responsible_department": department_id}


@page_form("deviations")
def deviation_acknowledge(request, number, deviation_id):
    application_id = _visible_id(request.user, number)
    _check_owner(Deviation, deviation_id, application_id, through="application_id")
    form = DeviationAnswerForm(
        request.POST,
        auto_id=_form_ids(f"d{deviation_id}"),
        causes=[(c.code, _in_language(c)) for c in schedule_selectors.deviation_causes()],
        departments=[(d.pk, _in_language(d)) for d in account_selectors.departments()],
    )
    bound = {("answer", deviation_id): form}
    if not guards.may_answer_deviation(
        request.user, Deviation.objects.select_related("application").get(pk=deviation_id)
    ):
        messages.error(request, _("You may not answer this deviation."))
        return redirect(_page_url(number, "deviations"))
    if not form.is_valid():
        return _render_page(request, number, bound=bound)
    try:
        services.deviation_acknowledge(
            deviation_id=deviation_id, by=request.user, **form.cleaned_data
        )
    except InvalidInput as exc:
        if _take_errors(form, exc):
            form.mark_errors()
            return _render_page(request, number, bound=bound)
        messages.error(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Deviation answered: cause, responsibility and action recorded.")
        )
    return redirect(_page_url(number, "deviations"))


@page_form("deviations")
def proposal_accept(request, number, proposal_id):
    application_id = _visible_id(request.user, number)
    _check_owner(Proposal, proposal_id, application_id, through="application_id")
    try:
        proposal = services.proposal_accept(proposal_id=proposal_id, by=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Corrective measure accepted: %(what)s")
            % {"what": schedule_selectors.proposal_text(proposal)},
        )
    return redirect(_page_url(number, "deviations"))


@page_form("deviations")
def proposal_dismiss(request, number, proposal_id):
    application_id = _visible_id(request.user, number)
    _check_owner(Proposal, proposal_id, application_id, through="application_id")
    form = DismissForm(request.POST, auto_id=_form_ids(f"p{proposal_id}"))
    bound = {("dismiss", proposal_id): form}
    if not form.is_valid():
        return _render_page(request, number, bound=bound)
    try:
        services.proposal_dismiss(
            proposal_id=proposal_id, reason=form.cleaned_data["reason"], by=request.user
        )
    except InvalidInput as exc:
        if _take_errors(form, exc):
            return _render_page(request, number, bound=bound)
        messages.error(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Proposal dismissed."))
    return redirect(_page_url(number, "deviations"))


@page_form("documents")
def document_upload(request, number):
    application_id = _visible_id(request.user, number)
    form = DocumentForm(request.POST, request.FILES, auto_id=_form_ids("doc"))
    if not form.is_valid():
        return _render_page(request, number, bound={"document": form})
    try:
        document = services.document_upload(
            application_id=application_id,
            kind=form.cleaned_data["kind"],
            file=form.cleaned_data["file"],
            by=request.user,
        )
    except InvalidInput as exc:
        if _take_errors(form, exc):
            return _render_page(request, number, bound={"document": form})
        messages.error(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("%(kind)s “%(name)s” uploaded.")
            % {"kind": document.get_kind_display(), "name": document.original_name},
        )
    return redirect(_page_url(number, "documents"))


@require_GET
def document_download(request, number, document_id):
    application_id = _visible_id(request.user, number)
    document = Document.objects.filter(
        pk=document_id, application_id=application_id, is_withdrawn=False
    ).first()
    if document is None:
        raise Http404(_("Not found on this application."))
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )


@page_form("review")
def application_review(request, number):
    application_id = _visible_id(request.user, number)
    form = ReviewForm(request.POST, auto_id=_form_ids("review"))
    if not form.is_valid():
        return _render_page(request, number, bound={"review": form})
    try:
        services.application_record_review(
            application_id=application_id, by=request.user, **form.cleaned_data
        )
    except InvalidInput as exc:
        if _take_errors(form, exc):
            return _render_page(request, number, bound={"review": form})
        messages.error(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The post-completion review is recorded."))
    return redirect(_page_url(number, "review"))


@recent_password_required(methods=("POST",))
def application_replan(request, number):
    """A supervisor's re-plan of an application in progress: the form, and its approval."""
    application_id = _visible_id(request.user, number)
    if not guards.is_supervisor(request.user):
        raise PermissionDenied(_("Only a supervisor approves a re-plan."))
    page = selectors.replan_page(application_id)
    if request.method == "POST":
        form = ReplanForm(
            request.POST,
            activities=page.activities,
            departments=page.departments,
            auto_id=_form_ids("r"),
        )
        if form.is_valid():
            try:
                baseline = services.application_replan(
                    application_id=application_id,
                    reason=form.cleaned_data["reason"],
                    expected_version=form.cleaned_data["version"],
                    by=request.user,
                    **form.changes(),
                )
            except InvalidInput as exc:
                for key, errors in exc.errors.items():
                    form.add_errors({form.field_for(key) or "__all__": errors})
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(
                    request,
                    _(
                        "Re-plan approved as plan version %(version)s: computed duration "
                        "%(days)s working days."
                    )
                    % {"version": baseline.version, "days": baseline.duration},
                )
                return redirect(_page_url(number))
    elif request.method == "GET":
        form = ReplanForm(
            initial={"version": page.application.version},
            activities=page.activities,
            departments=page.departments,
            auto_id=_form_ids("r"),
        )
    else:
        return HttpResponse(status=405, headers={"Allow": "GET, POST"})
    return render(request, "applications/replan.html", {"page": page, "form": form})


@require_GET
def application_baselines(request, number):
    """The plan versions of an application, two of them compared (``?a=1&b=2``)."""
    application_id = _visible_id(request.user, number)
    chosen = {}
    for name in ("a", "b"):
        value = request.GET.get(name, "")
        if value.isdigit():
            chosen[name] = int(value)
    try:
        versions = selectors.plan_versions(application_id, **chosen)
    except InvalidInput as exc:
        messages.error(request, exc.message)
        versions = selectors.plan_versions(application_id)
    return render(request, "applications/baselines.html", {"versions": versions})


@page_form("complaints")
def complaint_add(request, number):
    application_id = _visible_id(request.user, number)
    form = ComplaintForm(request.POST, auto_id=_form_ids("complaint"))
    if not form.is_valid():
        return _render_page(request, number, bound={"complaint": form})
    try:
        services.complaint_record(
            application_id=application_id, by=request.user, **form.cleaned_data
        )
    except InvalidInput as exc:
        if _take_errors(form, exc):
            return _render_page(request, number, bound={"complaint": form})
        messages.error(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The complaint is recorded."))
    return redirect(_page_url(number, "complaints"))


@page_form("review")
def follow_up_raise(request, number):
    application_id = _visible_id(request.user, number)
    form = FollowUpForm(request.POST, auto_id=_form_ids("follow_up"))
    if not form.is_valid():
        return _render_page(request, number, bound={"follow_up": form})
    try:
        services.follow_up_raise(
            application_id=application_id, by=request.user, **form.cleaned_data
        )
    except InvalidInput as exc:
        if _take_errors(form, exc):
            return _render_page(request, number, bound={"follow_up": form})
        messages.error(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The follow-up is raised."))
    return redirect(_page_url(number, "review"))


def _follow_ups_page(request, *, bound=None, status=200):
    items = selectors.open_follow_ups(request.user)
    for item in items:
        item.form = (bound or {}).get(item.pk) or FollowUpCloseForm(
            auto_id=_form_ids(f"f{item.pk}")
        )
    return render(request, "applications/follow_ups.html", {"items": items}, status=status)


@require_GET
def follow_ups(request):
    """The open follow-up items (问责) the reader answers for or watches, due first."""
    return _follow_ups_page(request)


@require_POST
def follow_up_close(request, follow_up_id):
    form = FollowUpCloseForm(request.POST, auto_id=_form_ids(f"f{follow_up_id}"))
    form.is_valid()
    try:
        services.follow_up_close(
            follow_up_id=follow_up_id, note=form.cleaned_data.get("note", ""), by=request.user
        )
    except InvalidInput as exc:
        if _take_errors(form, exc):
            return _follow_ups_page(request, bound={follow_up_id: form})
        messages.error(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The follow-up is closed."))
    return redirect(reverse("follow_ups"))


# --- Acceptance (受理) ----------------------------------------------------------------------
#
# A GET with the half-filled form (the "look up" and "show the plan" buttons, or htmx on
# change) shows the customer the credit code names, the plan and the one-time notice; the
# POST accepts. A refused POST renders the form again with the messages beside the fields.

LIVE_FIELDS = ("credit_code", "business_type", "customer_class", "voltage_class")


def _may_accept(user) -> bool:
    return guards.is_supervisor(user) or user.has_perm("accounts.handle_applications")


def application_new(request):
    """The acceptance form of a new application."""
    if not _may_accept(request.user):
        raise PermissionDenied
    offered = schedule_selectors.offered_plans()
    status = 200
    if request.method == "POST":
        form = AcceptanceForm(request.POST, request.FILES, user=request.user, offered=offered)
        preview = selectors.acceptance_preview(request.user, request.POST)
        if form.is_valid() and preview.customer_message:
            form.add_service_errors({"credit_code": [preview.customer_message]})
        if form.is_valid():
            try:
                application = services.application_create(
                    customer=form.customer_input(),
                    business_type=form.cleaned_data["business_type"],
                    customer_class=form.cleaned_data["customer_class"],
                    voltage_class=form.cleaned_data["voltage_class"],
                    requested_capacity_kva=form.cleaned_data["requested_capacity_kva"],
                    supply_type=form.cleaned_data["supply_type"] or None,
                    is_important=form.cleaned_data["is_important"],
                    account_manager=(
                        request.user if form.cleaned_data.get("assign_to_me") else None
                    ),
                    documents=form.documents(),
                    by=request.user,
                )
            except InvalidInput as exc:
                form.add_service_errors(exc.errors)
            except NotPermitted as exc:
                form.add_service_errors({"__all__": [exc.message]})
            else:
                messages.success(
                    request,
                    _("Accepted as %(number)s. Print the receipt for the customer.")
                    % {"number": application.number},
                )
                return redirect("application_receipt", application.number)
        status = 400
    elif request.method in ("GET", "HEAD"):
        data = request.GET if any(request.GET.get(f) for f in LIVE_FIELDS) else None
        form = AcceptanceForm(
            initial=data.dict() if data is not None else None,
            user=request.user,
            offered=offered,
        )
        preview = selectors.acceptance_preview(request.user, data or {})
    else:
        return HttpResponseNotAllowed(["GET", "POST"])
    return render(
        request,
        "applications/new.html",
        {"form": form, "preview": preview, "offered": offered},
        status=status,
    )


@require_GET
def application_receipt(request, number):
    """The receipt of acceptance with the one-time notice (一次性告知书), for printing."""
    application_id = _visible_id(request.user, number)
    receipt = selectors.acceptance_receipt(application_id)
    context = {"receipt": receipt}
    path = customer_links.current_link_path(application_id)
    if path:
        url = request.build_absolute_uri(path)
        context.update(customer_url=url, customer_qr=qr_svg(url, box_size=4))
    return render(request, "applications/receipt.html", context)


@require_http_methods(["GET", "POST"])
def application_customer_links(request, number):
    """The customer's links of an application: the one to hand out (with its QR code),
    making a new one, revoking, and the customer's requests to confirm."""
    application_id = _visible_id(request.user, number)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "new":
                customer_links.customer_link_create(application_id=application_id, by=request.user)
                messages.success(request, _("A new link for the customer is ready."))
            elif action == "revoke":
                customer_links.customer_link_revoke(
                    link_id=_int(request.POST.get("link")),
                    application_id=application_id,
                    by=request.user,
                )
                messages.success(request, _("The link no longer works."))
            elif action == "confirm":
                customer_links.customer_request_confirm(
                    visit_id=_int(request.POST.get("visit")),
                    application_id=application_id,
                    by=request.user,
                )
                messages.success(request, _("Confirmed: it leaves your to-do list."))
            else:
                messages.error(request, _("Choose what to do with the links."))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("application_customer_links", number)
    page = customer_links.links_page(application_id)
    current = None
    if page.current is not None:
        url = request.build_absolute_uri(page.current.path)
        current = {"url": url, "qr": qr_svg(url, box_size=5), "row": page.current}
    return render(
        request,
        "applications/customer_links.html",
        {"number": number, "page": page, "current": current},
    )


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


@require_GET
def application_plan_print(request, number):
    """The application's plan for printing or saving as PDF: both drawings and the dates."""
    plan = selectors.application_plan(number, request.user, **_drawing_choices(request))
    if plan is None:
        raise Http404(_("There is no application %(number)s you may read.") % {"number": number})
    return render(
        request,
        "applications/plan_print.html",
        {"plan": plan, "application": plan.application, "page": plan.drawings},
    )


# --- To-do lists (待办) ----------------------------------------------------------------------


def todo_list(request):
    """The work waiting for the signed-in person: their department's activities and, for an
    account manager, the applications that wait for them."""
    user = request.user
    if not (todo.may_have_department_work(user) or user.has_perm("accounts.handle_applications")):
        raise PermissionDenied
    today = timezone.localdate()
    return render(
        request,
        "applications/todo.html",
        {
            "activities": todo.department_todo(user),
            "applications": todo.manager_todo(user),
            "has_department": todo.may_have_department_work(user),
            "has_own_work": todo.may_have_own_work(user),
            "today": today,
            # Progress is dated on working days: on a rest day the one-click buttons would
            # only be refused, so the list points to the dated form instead.
            "working_today": schedule_selectors.working_calendar().is_working_day(today),
        },
    )


def todo_progress(request, activity_id):
    """One click from the to-do list: start or finish an activity today."""
    if request.method in ("GET", "HEAD"):
        return redirect("todo")
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    action = request.POST.get("action")
    if action not in ("start", "finish"):
        messages.error(request, _("Choose to start or to finish the activity."))
        return redirect("todo")
    activity = schedule_selectors.activity_of_visible(
        activity_id, selectors.visible_applications(request.user)
    )
    if activity is None:
        raise Http404(_("There is no such activity you may read."))
    today = timezone.localdate()
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        services.activity_progress_record(
            activity_id=activity.pk,
            application_id=activity.application_id,
            start=today if activity.actual_start is None else None,
            finish=today if action == "finish" else None,
            expected_version=version,
            by=request.user,
        )
    except DomainError as exc:
        messages.error(
            request, _("%(activity)s: %(message)s") % {"activity": activity, "message": exc.message}
        )
    else:
        done = _("finished today") if action == "finish" else _("started today")
        messages.success(
            request,
            _("%(number)s %(activity)s: %(what)s. The forecast is updated.")
            % {"number": activity.application.number, "activity": activity, "what": done},
        )
    return redirect("todo")
