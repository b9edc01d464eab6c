"""Deviations and their proposals through HTTP: list, read, acknowledge, accept, dismiss."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from applications import services, sweep
from scheduling.models import Activity, Deviation, DeviationCause, Proposal
from tests.dates import pinned

from .conftest import DAY0, assert_problem, token_client

SHANGHAI = ZoneInfo("Asia/Shanghai")
# The deviations here are found at 18:00 on day 0, and accepting a proposal analyses
# its application as of the moment it is accepted: the tests run on that evening.
pytestmark = [
    pytest.mark.usefixtures("meetings_when_ready"),
    pytest.mark.django_db,
    pinned(datetime.combine(DAY0, time(18, 30), tzinfo=SHANGHAI)),
]


def _red_deviation(application, manager) -> Deviation:
    """A (critical, 1 day) started on day 0 and needs 3 more days: a red deviation."""
    a = Activity.objects.get(application=application, code="A")
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
    services.activity_progress_record(activity_id=a.pk, remaining=3, by=manager, today=DAY0)
    sweep.deviation_sweep_batch(
        application_ids=[application.pk],
        now=datetime.combine(DAY0, time(18), ZoneInfo("Asia/Shanghai")),
    )
    return Deviation.objects.get(application=application)


@pytest.fixture
def deviation(application, manager):
    return _red_deviation(application, manager)


@pytest.fixture
def south_deviation(south_application, other_manager):
    return _red_deviation(south_application, other_manager)


def test_the_list_shows_the_deviations_of_readable_applications(
    as_manager, as_supervisor, deviation, south_deviation
):
    mine = as_manager.get("/api/v1/deviations/").json()
    assert [row["id"] for row in mine["results"]] == [deviation.pk]
    row = mine["results"][0]
    assert row["severity"] == "red"
    assert row["status"] == "open"
    assert row["activity"] == {"code": "A", "name": deviation.activity.name}
    assert row["application"]["number"] == deviation.application.number
    assert row["explanation"] == (
        "Register the demand is 3 working days late and on the critical path; its successors' "
        "earliest start slips by 3 working days, the computed duration slips by 3 working days, "
        "2 working days beyond the planned duration."
    )
    assert not {key for key in row if key.endswith(("_zh", "_en"))}
    assert row["delay"] == 3 and row["critical"] is True
    everything = as_supervisor.get("/api/v1/deviations/").json()
    assert {r["id"] for r in everything["results"]} == {deviation.pk, south_deviation.pk}


def test_the_explanation_follows_the_language(manager, deviation):
    body = token_client(manager, language=None).get("/api/v1/deviations/").json()
    assert body["results"][0]["explanation"] == (
        "办理需求手续拖延3个工作日，是关键工作，紧后工作最早开始推迟3个工作日，"
        "计算工期推迟3个工作日，超出计划工期2个工作日"
    )


def test_filters_of_deviations(as_supervisor, deviation, south_deviation):
    def ids(query):
        return {r["id"] for r in as_supervisor.get("/api/v1/deviations/" + query).json()["results"]}

    assert ids(f"?application={deviation.application_id}") == {deviation.pk}
    assert ids("?severity=amber") == set()
    assert ids("?status=open&severity=red") == {deviation.pk, south_deviation.pk}
    assert ids("?status=resolved") == set()
    assert ids("?critical=true&detected_after=2026-03-02") == {deviation.pk, south_deviation.pk}
    assert_problem(as_supervisor.get("/api/v1/deviations/?severity=purple"), 400)


def test_the_application_list_filters_open_red_deviations(
    as_supervisor, deviation, south_application
):
    body = as_supervisor.get("/api/v1/applications/?deviation=red").json()
    assert [r["number"] for r in body["results"]] == [deviation.application.number]
    assert body["results"][0]["open_red_deviation"] is True


def test_every_row_of_a_page_carries_its_own_deviation_flags(
    as_supervisor, deviation, south_deviation, application, south_application
):
    """The flags are read for the page's rows after paging: each row has its own, a
    resolved deviation raises none, and the list says what the detail says."""
    Deviation.objects.filter(pk=south_deviation.pk).update(status=Deviation.Status.RESOLVED)
    amber = Deviation.objects.get(pk=deviation.pk)
    amber.pk, amber.severity, amber.activity = (
        None,
        "amber",
        Activity.objects.get(application=application, code="B"),
    )
    amber.save()

    rows = {
        r["number"]: (r["open_red_deviation"], r["open_amber_deviation"])
        for r in as_supervisor.get("/api/v1/applications/?state=consultation").json()["results"]
    }

    assert rows == {application.number: (True, True), south_application.number: (False, False)}
    for number, flags in rows.items():
        application_id = {application.number: application.pk}.get(number, south_application.pk)
        body = as_supervisor.get(f"/api/v1/applications/{application_id}/").json()
        assert (body["open_red_deviation"], body["open_amber_deviation"]) == flags


def test_a_deviation_is_read_with_its_proposals(as_manager, deviation):
    body = as_manager.get(f"/api/v1/deviations/{deviation.pk}/").json()
    kinds = {p["kind"] for p in body["proposals"]}
    assert "shorten" in kinds
    assert {p["status"] for p in body["proposals"]} == {"proposed"}
    assert len(body["proposals"]) == deviation.proposals.count()
    texts = {p["kind"]: p["description"] for p in body["proposals"]}
    assert texts["escalate"] == (
        "The finish is forecast 2 working days beyond the planned duration; escalate to the "
        "supervisor and to Marketing / Customer Service Center."
    )
    assert all(text.startswith("Shorten ") for kind, text in texts.items() if kind == "shorten")
    assert not {key for p in body["proposals"] for key in p if key.endswith(("_zh", "_en"))}


def test_the_proposals_read_in_chinese_by_default(manager, deviation):
    body = token_client(manager, language=None).get(f"/api/v1/deviations/{deviation.pk}/").json()
    texts = {p["kind"]: p["description"] for p in body["proposals"]}
    assert (
        texts["escalate"]
        == "预计超出计划工期2个工作日，请上报分管领导并由营销部/客户服务中心协调处理"
    )


ANSWER = {
    "cause": "materials",
    "planned_action": "Order the cable from the second supplier.",
    "action_due": "2026-03-06",
}


def test_another_regions_deviation_is_404(as_manager, south_deviation):
    assert_problem(as_manager.get(f"/api/v1/deviations/{south_deviation.pk}/"), 404)
    url = f"/api/v1/deviations/{south_deviation.pk}/acknowledge/"
    assert_problem(as_manager.post(url, ANSWER, format="json"), 404)


def test_acknowledging_records_the_answer_and_a_correction(
    as_manager, as_supervisor, deviation, manager
):
    url = f"/api/v1/deviations/{deviation.pk}/acknowledge/"
    response = as_manager.post(url, ANSWER, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"]["username"] == manager.username
    # Register the demand (A) is marketing's: marketing answers by default.
    assert body["cause"] == {"code": "materials", "name": "Materials supply"}
    assert body["responsible_party"] == "department"
    assert body["responsible_department"]["code"] == "marketing"
    assert body["planned_action"] == "Order the cable from the second supplier."
    assert body["action_due"] == "2026-03-06"
    # A correction: another cause, and the customer answers (which needs a reason).
    again = as_supervisor.post(
        url,
        {
            **ANSWER,
            "cause": "customer-not-ready",
            "responsible_party": "customer",
            "party_reason": "The customer has not sent the load list.",
        },
        format="json",
    )
    assert again.status_code == 200, again.content
    assert again.json()["cause"]["code"] == "customer-not-ready"
    assert (again.json()["responsible_party"], again.json()["responsible_department"]) == (
        "customer",
        None,
    )
    assert again.json()["acknowledged_by"]["username"] == manager.username
    assert deviation.answers.count() == 2


def test_a_bad_answer_is_a_problem_per_field_and_changes_nothing(as_manager, deviation):
    url = f"/api/v1/deviations/{deviation.pk}/acknowledge/"
    body = assert_problem(as_manager.post(url, {}, format="json"), 400)
    assert set(body["errors"]) == {"cause", "planned_action", "action_due"}
    response = as_manager.post(
        url,
        {
            **ANSWER,
            "cause": "no-such-cause",
            "action_due": "2026-03-01",
            "responsible_party": "external",
        },
        format="json",
    )
    assert_problem(
        response,
        400,
        errors={
            "cause": ["Choose one of the listed causes."],
            "party_reason": ["Say why someone else than the late activity's owner answers for it."],
            "action_due": ["The action cannot be due on a day that has passed."],
        },
    )
    deviation.refresh_from_db()
    assert (deviation.status, deviation.cause, deviation.responsible_party) == ("open", None, "")
    assert not deviation.answers.exists()


def test_a_resolved_deviation_is_not_answered(as_manager, deviation):
    Deviation.objects.filter(pk=deviation.pk).update(status="resolved")
    response = as_manager.post(
        f"/api/v1/deviations/{deviation.pk}/acknowledge/", ANSWER, format="json"
    )
    assert_problem(response, 409, detail="A resolved deviation is no longer answered.")


def test_staff_of_another_department_may_not_acknowledge(as_staff, deviation):
    # A belongs to marketing; the staff fixture is in operations.
    url = f"/api/v1/deviations/{deviation.pk}/acknowledge/"
    assert_problem(as_staff.post(url, ANSWER, format="json"), 403)
    assert Deviation.objects.get(pk=deviation.pk).status == "open"


def test_the_active_causes_in_the_reader_s_language(as_manager):
    DeviationCause.objects.filter(code="weather").update(is_active=False)
    causes = as_manager.get("/api/v1/deviation-causes/").json()
    assert [c["code"] for c in causes] == [
        "customer-not-ready",
        "design-rework",
        "materials",
        "other-department",
        "outage-window",
        "documents-missing",
        "other",
    ]
    assert causes[2] == {"code": "materials", "name": "Materials supply"}


def test_filter_and_count_by_cause_and_party(
    as_manager, as_supervisor, deviation, south_deviation, other_manager
):
    services.deviation_acknowledge(
        deviation_id=south_deviation.pk,
        cause="weather",
        responsible_party="external",
        party_reason="Typhoon",
        planned_action="Resume after the storm",
        action_due=DAY0,
        by=other_manager,
        today=DAY0,
    )
    as_manager.post(f"/api/v1/deviations/{deviation.pk}/acknowledge/", ANSWER, format="json")
    listed = as_supervisor.get("/api/v1/deviations/?cause=weather").json()["results"]
    assert [row["id"] for row in listed] == [south_deviation.pk]
    listed = as_supervisor.get("/api/v1/deviations/?party=department").json()["results"]
    assert [row["id"] for row in listed] == [deviation.pk]
    assert_problem(as_supervisor.get("/api/v1/deviations/?party=nobody"), 400)
    summary = as_supervisor.get("/api/v1/deviations/summary/").json()
    assert summary["by_cause"] == [
        {"cause": "materials", "name": "Materials supply", "open": 0, "acknowledged": 1},
        {"cause": "weather", "name": "Weather", "open": 0, "acknowledged": 1},
    ]
    assert summary["by_party"] == [
        {
            "party": "department",
            "department": "marketing",
            "name": "Marketing / Customer Service Center",
            "open": 0,
            "acknowledged": 1,
        },
        {"party": "external", "department": None, "name": "External", "open": 0, "acknowledged": 1},
    ]
    # The manager reads their region only; the filters apply to the counts too.
    mine = as_manager.get("/api/v1/deviations/summary/?cause=weather").json()
    assert mine == {"by_cause": [], "by_party": []}


def test_only_a_supervisor_accepts_a_proposal(as_manager, as_supervisor, deviation, supervisor):
    shorten = deviation.proposals.filter(kind="shorten").first()
    url = f"/api/v1/deviations/{deviation.pk}/proposals/{shorten.pk}/accept/"
    assert_problem(as_manager.post(url), 403, detail="Only a supervisor accepts")
    response = as_supervisor.post(url, HTTP_IDEMPOTENCY_KEY="accept-1")
    assert response.status_code == 200, response.content
    accepted = next(p for p in response.json()["proposals"] if p["id"] == shorten.pk)
    assert accepted["status"] == "accepted"
    assert accepted["decided_by"]["username"] == supervisor.username
    # A retry with the same key replays the answer; without the key it is refused.
    replay = as_supervisor.post(url, HTTP_IDEMPOTENCY_KEY="accept-1")
    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == response.json()
    assert deviation.application.baselines.count() == 2
    assert_problem(as_supervisor.post(url), 409, detail="This proposal is Accepted already.")


def test_dismiss_needs_a_reason(as_manager, deviation):
    proposal = deviation.proposals.first()
    url = f"/api/v1/deviations/{deviation.pk}/proposals/{proposal.pk}/dismiss/"
    assert_problem(as_manager.post(url, {}, format="json"), 400)
    assert_problem(as_manager.post(url, {"reason": "  "}, format="json"), 400)
    response = as_manager.post(url, {"reason": "客户已加派人手"}, format="json")
    assert response.status_code == 200, response.content
    row = Proposal.objects.get(pk=proposal.pk)
    assert (row.status, row.reason) == ("dismissed", "客户已加派人手")


def test_a_proposal_of_another_deviation_is_404(as_supervisor, deviation, south_deviation):
    other = south_deviation.proposals.first()
    url = f"/api/v1/deviations/{deviation.pk}/proposals/{other.pk}/accept/"
    assert_problem(as_supervisor.post(url), 404)
    assert Proposal.objects.get(pk=other.pk).status == "proposed"
