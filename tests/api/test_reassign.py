"""Reassignment through HTTP: the checks of automatic assignment per field, the override."""

import pytest

from applications.models import Application, AssignmentChange
from tests.dates import pin_today
from tests.factories import AccountManagerProfileFactory

from .conftest import assert_problem, token_client

pytestmark = [pytest.mark.django_db, pin_today]


def post(client, application, body, version=1):
    return client.post(
        f"/api/v1/applications/{application.pk}/reassign/",
        body,
        format="json",
        HTTP_IF_MATCH=f'W/"{version}"',
    )


def test_a_manager_outside_the_region_is_refused_per_field(
    as_supervisor, application, other_manager
):
    response = post(as_supervisor, application, {"manager": other_manager.pk, "reason": ""})
    body = assert_problem(response, 400)
    assert body["errors"]["reason"] == ["Give the reason for the reassignment."]
    assert body["errors"]["manager"][0] == f"{other_manager} does not serve 北区."
    application.refresh_from_db()
    assert application.version == 1
    assert not AssignmentChange.objects.filter(application=application).exists()


def test_an_override_without_its_reason_is_refused_under_its_own_key(
    as_supervisor, application, other_manager
):
    response = post(
        as_supervisor,
        application,
        {"manager": other_manager.pk, "reason": "客户要求", "override": True},
    )
    assert_problem(
        response, 400, errors={"override_reason": ["Say why the checks are overridden."]}
    )


def test_a_supervisor_reassigns_and_overrides(as_supervisor, application, other_manager, north):
    eligible = AccountManagerProfileFactory(user__username="manager-n2", regions=[north]).user
    response = post(as_supervisor, application, {"manager": eligible.pk, "reason": "休假"})
    assert response.status_code == 200, response.content
    assert response["ETag"] == 'W/"2"'
    assert Application.objects.get(pk=application.pk).account_manager == eligible

    response = post(
        as_supervisor,
        application,
        {
            "manager": other_manager.pk,
            "reason": "客户要求",
            "override": True,
            "override_reason": "熟悉该客户",
        },
        version=2,
    )
    assert response.status_code == 200, response.content
    change = AssignmentChange.objects.filter(application=application).latest("id")
    assert (change.to_manager, change.override_reason, change.overridden_checks) == (
        other_manager,
        "熟悉该客户",
        ["region"],
    )


def test_a_stale_version_and_a_manager_are_refused(
    as_supervisor, as_manager, application, manager, north
):
    eligible = AccountManagerProfileFactory(user__username="manager-n2", regions=[north]).user
    response = post(as_supervisor, application, {"manager": eligible.pk, "reason": "x"}, 7)
    assert_problem(response, 412)
    response = post(token_client(manager), application, {"manager": eligible.pk, "reason": "x"})
    assert_problem(response, 403)
    assert Application.objects.get(pk=application.pk).account_manager == manager
