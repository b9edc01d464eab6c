"""Absurd dates and capacities are refused field by field, and nothing is stored (issue 16,
finding 8)."""

from datetime import date

import pytest
from django.test import override_settings

from applications import services
from applications.models import Application, Customer
from scheduling.models import ActivityEvent
from tests.dates import pin_today
from tests.factories import RegionFactory, credit_code
from yekuo.errors import InvalidInput

from .conftest import assert_problem
from .test_applications import new_application_body

pytestmark = [pytest.mark.django_db, pin_today]


@pytest.mark.parametrize(
    ("accepted_on", "message"),
    [
        ("0001-01-01", "Jan. 1, 0001 is implausibly early; enter a day from Jan. 1, 2000 on."),
        ("1900-01-01", "Jan. 1, 1900 is implausibly early; enter a day from Jan. 1, 2000 on."),
    ],
)
def test_an_acceptance_day_long_ago_is_refused(as_supervisor, north, accepted_on, message):
    body = new_application_body(accepted_on=accepted_on)
    response = as_supervisor.post("/api/v1/applications/", body, format="json")
    problem = assert_problem(response, 400)
    assert problem["errors"] == {"accepted_on": [message]}
    assert Application.objects.count() == 0
    assert Customer.objects.count() == 0


def test_the_earliest_day_is_a_setting(as_supervisor, north):
    body = new_application_body(accepted_on="2019-12-31")
    with override_settings(PLAUSIBLE_DATE_EARLIEST=date(2020, 1, 1)):
        problem = assert_problem(
            as_supervisor.post("/api/v1/applications/", body, format="json"), 400
        )
    assert list(problem["errors"]) == ["accepted_on"]
    response = as_supervisor.post("/api/v1/applications/", body, format="json")
    assert response.status_code == 201, response.content


def test_the_service_refuses_the_same_day_for_every_caller(supervisor):
    with pytest.raises(InvalidInput) as exc:
        services.application_create(
            customer={"name": "某厂", "credit_code": credit_code(5), "region": RegionFactory()},
            business_type="new",
            customer_class="hv_single",
            voltage_class="10kV",
            requested_capacity_kva=1250,
            accepted_on=date(1900, 1, 1),
            by=supervisor,
        )
    assert list(exc.value.errors) == ["accepted_on"]
    assert Application.objects.count() == 0


def test_a_capacity_beyond_physical_bounds_is_refused(as_supervisor, north):
    body = new_application_body(requested_capacity_kva=2_000_001)
    problem = assert_problem(as_supervisor.post("/api/v1/applications/", body, format="json"), 400)
    assert problem["errors"] == {"requested_capacity_kva": ["Enter at most 2,000,000 kVA."]}
    assert Application.objects.count() == 0
    body = new_application_body(requested_capacity_kva=2_000_000)
    assert as_supervisor.post("/api/v1/applications/", body, format="json").status_code == 201


def test_changing_the_capacity_to_an_absurd_value_is_refused(as_manager, application):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/",
        {"requested_capacity_kva": 9_999_999},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    problem = assert_problem(response, 400)
    assert problem["errors"] == {"requested_capacity_kva": ["Enter at most 2,000,000 kVA."]}
    row = Application.objects.get(pk=application.pk)
    assert (row.requested_capacity_kva, row.version) == (2000, 1)


def test_the_service_refuses_an_absurd_capacity_change(manager, application):
    with pytest.raises(InvalidInput) as exc:
        services.application_update(
            application_id=application.pk,
            changes={"requested_capacity_kva": 9_999_999},
            by=manager,
        )
    assert list(exc.value.errors) == ["requested_capacity_kva"]
    assert Application.objects.get(pk=application.pk).requested_capacity_kva == 2000


@pytest.mark.parametrize("field", ["actual_start", "actual_finish"])
def test_progress_on_a_day_long_ago_is_refused(as_manager, application, field):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/activities/A/",
        {field: "1900-01-01"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    problem = assert_problem(response, 400)
    assert list(problem["errors"]) == [field]
    assert "implausibly early" in problem["errors"][field][0]
    assert not ActivityEvent.objects.filter(activity__application=application).exists()
