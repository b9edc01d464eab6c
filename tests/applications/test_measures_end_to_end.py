"""Each corrective measure the page offers, accepted end to end through the page and the API:
the plan changes in one step (a new baseline version), the application is analysed again
at once and its forecast becomes the measure's what-if (issue 14, item 2).

Measure (1), optimising the flow by hand, and the overlaps and joint activities of measure
(3) are re-plans: test_replan.py, test_replan_page.py and test_joint_activities.py.
Catching the meeting (measure 2) is in test_meeting_days.py.
"""

from datetime import datetime, time

import pytest
import time_machine

from scheduling import selectors as schedule_selectors
from scheduling.models import Activity, Deviation, Proposal
from tests.api.conftest import token_client
from tests.applications.conftest import DAY0, late_on_day0
from tests.dates import SHANGHAI

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]


@pytest.fixture
def late_application(supervisor, manager):
    return late_on_day0(supervisor=supervisor, manager=manager)


def accept_on_the_page(client, supervisor, application, proposal):
    client.force_login(supervisor)
    url = f"/applications/{application.number}/proposals/{proposal.pk}/accept/"
    page = client.get(f"/applications/{application.number}/").content.decode()
    assert url in page  # offered
    response = client.post(url)
    assert response.status_code == 302


def accept_through_the_api(client, supervisor, application, proposal):
    url = f"/api/v1/deviations/{proposal.deviation_id}/proposals/{proposal.pk}/accept/"
    response = token_client(supervisor).post(url)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("accept", [accept_on_the_page, accept_through_the_api])
@pytest.mark.parametrize(
    ("kind", "pair"),
    [
        ("shorten", None),
        # D 4→5 is the only arc into event 5: E moves beside D.
        ("parallel", ["D", "E"]),
        # L, N and the dummy from M enter event 14, where O starts: the event is split.
        ("parallel", ["L", "O"]),
    ],
)
def test_a_measure_accepted_changes_the_plan_in_one_step(
    client, supervisor, late_application, accept, kind, pair
):
    application = late_application
    proposals = Proposal.objects.filter(
        application=application, kind=kind, status=Proposal.Status.PROPOSED
    )
    proposal = proposals.filter(activities=pair).first() if pair else proposals.first()
    assert proposal is not None, f"no {kind} proposal offered"
    before_logic = compiled(application)
    assert proposal.new_finish < application.forecast_finish_date
    before = {a.code: (a.duration, a.predecessors, a.tail, a.head) for a in plan(application)}

    with time_machine.travel(datetime.combine(DAY0, time(18, 30), tzinfo=SHANGHAI), tick=False):
        accept(client, supervisor, application, proposal)

    application.refresh_from_db()
    proposal.refresh_from_db()
    assert proposal.status == Proposal.Status.ACCEPTED
    assert proposal.decided_by == supervisor
    # One new baseline version with the measure, and the analysis of the new plan at once:
    # the forecast is the what-if the proposal promised.
    assert application.baselines.count() == 2
    assert application.forecast_finish_date == proposal.new_finish
    after = {a.code: (a.duration, a.predecessors, a.tail, a.head) for a in plan(application)}
    changed = {code for code in after if before.get(code) != after[code]}
    if kind == "shorten":
        assert changed == set(proposal.detail["durations"])
        for code, (_was, shortest) in proposal.detail["durations"].items():
            assert after[code][0] == shortest
    else:
        # The later of the two waits for the earlier one's predecessors instead of it.
        earlier, later = pair
        preds = {link.id for link in compiled(application).predecessors(later)}
        assert earlier not in preds
        assert preds == ({link.id for link in before_logic.predecessors(later)} - {earlier}) | {
            link.id for link in before_logic.predecessors(earlier)
        }
    # Every proposal left open was computed from the new forecast.
    for other in Proposal.objects.filter(application=application, status="proposed"):
        assert other.basis_finish == application.forecast_finish_date
    assert Deviation.objects.filter(application=application).exclude(status="resolved").exists()


def compiled(application):
    return schedule_selectors.compiled_for(list(Activity.objects.filter(application=application)))


def plan(application) -> list[Activity]:
    return list(Activity.objects.filter(application=application).order_by("sort_order", "id"))
