"""The applications admin: search, a bounded changelist, the log, and transitions by button."""

from datetime import date

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import translation
from django.utils.html import escape

from applications import selectors, services
from applications.models import (
    Application,
    ApplicationState,
    DocumentRequirement,
    StageTransition,
)
from tests.admin_forms import change_form_data
from tests.dates import pin_today
from tests.factories import credit_code, make_application
from yekuo.errors import InvalidInput, StaleVersion

pytestmark = [pytest.mark.django_db, pin_today]

ACCEPTED_ON = date(2026, 3, 2)  # a Monday
CHANGELIST = "/admin/applications/application/"
# Session and user (2), the region and account-manager filters' choices (2), the counts
# (2), the page of applications with customer and manager joined (1), the navigation's
# role lookups (4) and the date hierarchy (2): the same whatever the number of rows.
CHANGELIST_QUERIES = 13


@pytest.fixture
def application(admin_user, manager):
    return make_application(by=admin_user, manager=manager, serial=1, accepted_on=ACCEPTED_ON)


def change_url(application) -> str:
    return f"/admin/applications/application/{application.pk}/change/"


def transition_url(application, name: str) -> str:
    return f"/admin/applications/application/{application.pk}/transition/{name}/"


def shown_messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def zh(call):
    """Return what ``call`` says in the users' language (the admin speaks Chinese)."""
    with translation.override("zh-hans"):
        return call()


@pytest.mark.parametrize(
    "query",
    [
        pytest.param(lambda app: app.number, id="number"),
        pytest.param(lambda app: "测试客户1有限公司", id="customer-name"),
        pytest.param(lambda app: credit_code(1), id="credit-code"),
    ],
)
def test_changelist_search_finds_the_application(client, admin_user, manager, query):
    application = make_application(by=admin_user, manager=manager, serial=1)
    other = make_application(by=admin_user, manager=manager, serial=2)
    client.force_login(admin_user)

    response = client.get(CHANGELIST, {"q": query(application)})

    found = list(response.context["cl"].result_list)
    assert found == [application]
    assert other not in found


def test_customer_changelist_searches_by_credit_code(client, admin_user, manager):
    make_application(by=admin_user, manager=manager, serial=1)
    make_application(by=admin_user, manager=manager, serial=2)
    client.force_login(admin_user)

    response = client.get("/admin/applications/customer/", {"q": credit_code(2)})

    assert [c.credit_code for c in response.context["cl"].result_list] == [credit_code(2)]


def test_changelist_runs_in_a_fixed_number_of_queries(
    client, admin_user, manager, django_assert_max_num_queries
):
    for serial in range(20):
        make_application(by=admin_user, manager=manager, serial=serial)
    client.force_login(admin_user)

    with django_assert_max_num_queries(CHANGELIST_QUERIES):
        response = client.get(CHANGELIST)

    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == 20


def test_change_page_shows_the_log_and_the_refused_transition(client, admin_user, application):
    client.force_login(admin_user)
    spec = zh(lambda: selectors.transition_spec(application, "start_survey", admin_user))

    response = client.get(change_url(application))

    content = response.content.decode()
    log = response.context["inline_admin_formsets"][0].formset
    assert [row.transition for row in log.queryset] == ["create"]
    assert escape(StageTransition.objects.get().note) in content
    start_survey = content.split('id="transition-start_survey"')[1].split("</form>")[0]
    assert spec.refusals and escape(spec.refusals[0]) in start_survey
    assert 'type="submit"' in start_survey and "disabled" in start_survey
    cancel = content.split('id="transition-cancel"')[1].split("</form>")[0]
    assert "disabled" not in cancel
    assert 'id="transition-resume"' not in content  # it does not leave consultation


def test_cancel_with_a_reason_cancels_and_logs_the_admin(client, admin_user, application):
    client.force_login(admin_user)

    response = client.post(
        transition_url(application, "cancel"),
        {"note": "客户撤回申请", "version": application.version},
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(application)
    application.refresh_from_db()
    assert application.state == ApplicationState.CANCELLED
    assert application.cancel_reason == "客户撤回申请"
    row = StageTransition.objects.filter(application=application).latest("id")
    assert (row.transition, row.from_state, row.to_state) == ("cancel", "consultation", "cancelled")
    assert (row.by, row.note) == (admin_user, "客户撤回申请")
    assert any(application.number in message for message in shown_messages(response))


def test_cancel_without_a_reason_changes_nothing_and_says_why(client, admin_user, application):
    client.force_login(admin_user)
    with pytest.raises(InvalidInput) as refused:
        zh(
            lambda: services.application_transition(
                application_id=application.pk, transition="cancel", by=admin_user, note=" "
            )
        )

    response = client.post(
        transition_url(application, "cancel"),
        {"note": "", "version": application.version},
        follow=True,
    )

    application.refresh_from_db()
    assert application.state == ApplicationState.CONSULTATION
    assert StageTransition.objects.filter(application=application).count() == 1
    assert escape(refused.value.errors["note"][0]) in response.content.decode()


def test_stale_version_shows_the_conflict_and_changes_nothing(client, admin_user, application):
    client.force_login(admin_user)
    read_at = application.version
    services.application_transition(
        application_id=application.pk, transition="suspend", by=admin_user, note="客户暂缓"
    )
    with pytest.raises(StaleVersion) as conflict:
        zh(
            lambda: services.application_transition(
                application_id=application.pk,
                transition="resume",
                by=admin_user,
                expected_version=read_at,
            )
        )

    response = client.post(
        transition_url(application, "resume"), {"note": "", "version": read_at}, follow=True
    )

    application.refresh_from_db()
    assert application.state == ApplicationState.SUSPENDED
    assert StageTransition.objects.filter(application=application).count() == 2
    assert escape(conflict.value.message) in response.content.decode()


def test_transition_url_refuses_get(client, admin_user, application):
    client.force_login(admin_user)

    response = client.get(transition_url(application, "cancel"))

    assert response.status_code == 405
    application.refresh_from_db()
    assert application.state == ApplicationState.CONSULTATION


def test_supervisor_without_staff_cannot_reach_the_admin(client, supervisor, application):
    client.force_login(supervisor)

    listing = client.get(CHANGELIST)
    posted = client.post(
        transition_url(application, "cancel"), {"note": "越权", "version": application.version}
    )

    assert listing.status_code == 302 and listing["Location"].startswith("/admin/login/")
    assert posted.status_code == 302 and posted["Location"].startswith("/admin/login/")
    application.refresh_from_db()
    assert application.state == ApplicationState.CONSULTATION


def test_nobody_deletes_an_application_or_a_customer(client, admin_user, application):
    client.force_login(admin_user)

    assert (
        client.get(f"/admin/applications/application/{application.pk}/delete/").status_code == 403
    )
    customer_delete = f"/admin/applications/customer/{application.customer_id}/delete/"
    assert client.get(customer_delete).status_code == 403
    assert "delete_selected" not in client.get(CHANGELIST).content.decode()
    assert Application.objects.filter(pk=application.pk).exists()


def test_marking_important_is_the_only_edit_and_counts_as_a_change(client, admin_user, application):
    client.force_login(admin_user)
    page = client.get(change_url(application))
    assert list(page.context["adminform"].form.fields) == ["is_important"]

    response = client.post(
        change_url(application), {**change_form_data(page), "is_important": "on"}
    )

    assert response.status_code == 302

    application.refresh_from_db()
    assert application.is_important is True
    assert application.version == 2


def test_transition_without_the_csrf_token_is_refused(admin_user, application):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(admin_user)

    response = browser.post(
        transition_url(application, "cancel"), {"note": "无令牌", "version": application.version}
    )

    assert response.status_code == 403
    application.refresh_from_db()
    assert application.state == ApplicationState.CONSULTATION


REQUIREMENTS = "/admin/applications/documentrequirement/"


def test_a_document_requirement_added_in_the_admin_reaches_applications_accepted_later(
    client, admin_user, manager, application
):
    client.force_login(admin_user)
    response = client.post(
        f"{REQUIREMENTS}add/",
        {
            "kind": "project_approval",
            "stage": "survey",
            "business_type": "new",
            "customer_classes": ["hv_single"],
            "is_required": "on",
            "note": "环境影响评价批复",
            "sort_order": "99",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    stored = DocumentRequirement.objects.get(note="环境影响评价批复")
    assert (stored.kind, stored.stage, stored.customer_classes) == (
        "project_approval",
        "survey",
        ["hv_single"],
    )
    later = make_application(by=admin_user, manager=manager, serial=2, accepted_on=ACCEPTED_ON)
    dual = make_application(
        by=admin_user, manager=manager, serial=3, accepted_on=ACCEPTED_ON, customer_class="hv_dual"
    )
    notes = [row["note"] for row in later.document_checklist]
    assert "环境影响评价批复" in notes
    assert {
        "kind": "project_approval",
        "stage": "survey",
        "required": True,
        "note": "环境影响评价批复",
    } in (later.document_checklist)
    # Another class, and the application accepted before the change, keep their lists.
    assert "环境影响评价批复" not in [row["note"] for row in dual.document_checklist]
    application.refresh_from_db()
    assert "环境影响评价批复" not in [row["note"] for row in application.document_checklist]


def test_a_document_requirement_is_retired_not_deleted(client, admin_user):
    requirement = DocumentRequirement.objects.filter(is_active=True).first()
    client.force_login(admin_user)
    response = client.post(f"{REQUIREMENTS}{requirement.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert DocumentRequirement.objects.filter(pk=requirement.pk, is_active=True).exists()
    page = client.get(REQUIREMENTS, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "所有客户类别" in page  # a line for every class says so
