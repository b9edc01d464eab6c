"""Every error status of the API, each as application/problem+json with its message."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from applications.models import Application, IdempotencyKey, StageTransition
from tests.dates import pin_today
from tests.factories import make_application

from .conftest import DAY0, assert_problem, token_client

pytestmark = [pytest.mark.django_db, pin_today]


def test_no_credentials_is_401_with_a_token_challenge_not_a_login_redirect(application):
    response = APIClient().get(f"/api/v1/applications/{application.pk}/")
    body = assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Token"
    assert body["type"] == "urn:yekuo:problem:not-authenticated"


def test_a_wrong_token_is_401(application):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    assert_problem(client.get("/api/v1/applications/"), 401)


def test_problem_titles_and_details_are_chinese_by_default(manager, application):
    client = token_client(manager, language=None)
    body = assert_problem(
        client.post(
            f"/api/v1/applications/{application.pk}/transitions/",
            {"transition": "start_survey"},
            format="json",
        ),
        428,
    )
    assert body["title"] == "需要 If-Match"
    assert "If-Match" in body["detail"] and "ETag" in body["detail"]
    english = assert_problem(
        token_client(manager, language="en").post(
            f"/api/v1/applications/{application.pk}/transitions/",
            {"transition": "start_survey"},
            format="json",
        ),
        428,
    )
    assert english["title"] == "If-Match required"


def test_validation_is_400_with_messages_per_field(as_manager, north):
    response = as_manager.post(
        "/api/v1/applications/",
        {
            "customer": {"credit_code": "91330100000000001C", "region": "north"},
            "business_type": "new",
            "customer_class": "hv_single",
            "voltage_class": "0.4kV",
            "requested_capacity_kva": 0,
        },
        format="json",
    )
    body = assert_problem(response, 400)
    assert body["errors"] == {
        "requested_capacity_kva": ["Ensure this value is greater than or equal to 1."]
    }
    assert Application.objects.count() == 0


def test_the_services_validation_is_400_with_its_field(as_manager, north):
    response = as_manager.post(
        "/api/v1/applications/",
        {
            "customer": {"credit_code": "91330100000000001C", "name": "某厂", "region": "north"},
            "business_type": "new",
            "customer_class": "hv_single",
            "voltage_class": "0.4kV",
            "requested_capacity_kva": 500,
        },
        format="json",
    )
    body = assert_problem(response, 400)
    assert list(body["errors"]) == ["voltage_class"]
    assert "0.4kV is not offered" in body["errors"]["voltage_class"][0]
    assert body["detail"] == body["errors"]["voltage_class"][0]


def test_malformed_json_is_400(as_manager):
    response = as_manager.generic(
        "POST", "/api/v1/applications/", "{not json", content_type="application/json"
    )
    assert_problem(response, 400)


def test_forbidden_is_403_with_the_services_message(as_staff, north):
    response = as_staff.post(
        "/api/v1/applications/",
        {
            "customer": {"credit_code": "91330100000000001C", "name": "某厂", "region": "north"},
            "business_type": "new",
            "customer_class": "hv_single",
            "voltage_class": "10kV",
            "requested_capacity_kva": 500,
        },
        format="json",
    )
    assert_problem(
        response, 403, detail="Only account managers and supervisors create applications."
    )
    assert Application.objects.count() == 0


def test_another_regions_application_is_404_to_a_manager(as_manager, south_application):
    assert_problem(as_manager.get(f"/api/v1/applications/{south_application.pk}/"), 404)
    assert_problem(as_manager.get(f"/api/v1/applications/{south_application.pk}/schedule/"), 404)
    assert_problem(as_manager.get(f"/api/v1/customers/{south_application.customer_id}/"), 404)


def test_a_transition_the_guard_refuses_is_409_with_the_guards_message(as_manager, application):
    response = as_manager.post(
        f"/api/v1/applications/{application.pk}/transitions/",
        {"transition": "start_survey"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
    )
    body = assert_problem(response, 409)
    assert body["detail"].startswith("The work of this stage is not finished: A ")
    assert body["errors"] == {"transition": [body["detail"]]}
    assert Application.objects.get(pk=application.pk).state == "consultation"


def test_a_stale_version_is_412(as_manager, application):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/",
        {"is_important": True},
        format="json",
        HTTP_IF_MATCH='W/"7"',
    )
    assert_problem(response, 412, detail="version 1, you had 7")
    assert Application.objects.get(pk=application.pk).is_important is False


def test_an_unreadable_if_match_is_412(as_manager, application):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/",
        {"is_important": True},
        format="json",
        HTTP_IF_MATCH="*",
    )
    assert_problem(response, 412, detail="If-Match must be the ETag")


def test_a_missing_if_match_is_428(as_manager, application):
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/", {"is_important": True}, format="json"
    )
    assert_problem(response, 428)
    response = as_manager.patch(
        f"/api/v1/applications/{application.pk}/activities/A/",
        {"actual_start": str(DAY0)},
        format="json",
    )
    assert_problem(response, 428)


def test_an_idempotency_key_reused_with_another_body_is_422(as_supervisor, application):
    url = f"/api/v1/applications/{application.pk}/transitions/"
    first = as_supervisor.post(
        url,
        {"transition": "suspend", "note": "客户暂缓"},
        format="json",
        HTTP_IF_MATCH='W/"1"',
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert first.status_code == 200
    response = as_supervisor.post(
        url,
        {"transition": "cancel", "note": "客户撤销"},
        format="json",
        HTTP_IF_MATCH='W/"2"',
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert_problem(response, 422, detail="Idempotency-Key was used for a different request")
    assert Application.objects.get(pk=application.pk).state == "suspended"
    assert IdempotencyKey.objects.count() == 1
    assert StageTransition.objects.filter(application=application, transition="cancel").count() == 0


@override_settings(
    REST_FRAMEWORK={
        **__import__("django.conf").conf.settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"token": "3/minute"},
    }
)
def test_throttled_per_token_is_429_with_retry_after(manager, supervisor):
    make_application(by=supervisor, manager=manager)
    mine = token_client(manager)
    for _ in range(3):
        assert mine.get("/api/v1/applications/").status_code == 200
    response = mine.get("/api/v1/applications/")
    assert_problem(response, 429)
    assert 0 < int(response["Retry-After"]) <= 60
    # Another token has its own allowance.
    assert token_client(supervisor).get("/api/v1/applications/").status_code == 200


def test_an_unknown_path_under_the_api_is_404_problem(as_manager):
    assert_problem(as_manager.get("/api/v1/applications/999999/"), 404)


def test_ids_beyond_any_row_are_404_or_400_not_a_server_error(as_supervisor, north):
    huge = 2**70
    assert_problem(as_supervisor.get(f"/api/v1/applications/{huge}/"), 404)
    assert_problem(as_supervisor.get(f"/api/v1/deviations/{huge}/"), 404)
    assert_problem(as_supervisor.get(f"/api/v1/applications/?manager={huge}"), 400)
    from .test_applications import new_application_body

    response = as_supervisor.post(
        "/api/v1/applications/", new_application_body(account_manager=huge), format="json"
    )
    assert list(assert_problem(response, 400)["errors"]) == ["account_manager"]
    response = as_supervisor.post(
        "/api/v1/notifications/mark-read/", {"ids": [huge]}, format="json"
    )
    assert list(assert_problem(response, 400)["errors"]) == ["ids.0"]
