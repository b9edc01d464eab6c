"""Fixtures shared by the application tests."""

from datetime import date, datetime, time

import pytest
import time_machine

from applications import services, sweep
from applications.models import Application
from scheduling.models import Activity, ActivityTemplate
from scheduling.services import template_new_version
from tests.dates import SHANGHAI
from tests.factories import make_application

DAY0 = date(2026, 3, 2)  # a Monday
EVENING = datetime.combine(DAY0, time(18), tzinfo=SHANGHAI)


def late_on_day0(*, supervisor, manager) -> Application:
    """Return an application accepted on day 0 whose A (1 day, critical) started that day
    and needs 3 more: swept that evening, it has a red deviation with its proposals."""
    with time_machine.travel(EVENING, tick=False):
        application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
        a = Activity.objects.get(application=application, code="A")
        services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
        services.activity_progress_record(activity_id=a.pk, remaining=3, by=manager, today=DAY0)
        sweep.deviation_sweep_batch(application_ids=[application.pk], now=EVENING)
    return Application.objects.get(pk=application.pk)


# The predecessors of the same network drawn on nodes (the dummy 13→14 makes M precede O).
AON = {
    "A": [],
    "B": ["A"],
    "C": ["B"],
    "D": ["C"],
    "E": ["D"],
    "F": ["E"],
    "G": ["F"],
    "H": ["G"],
    "I": ["H"],
    "J": ["I"],
    "K": ["J"],
    "L": ["K"],
    "M": ["I"],
    "N": ["I"],
    "O": ["L", "M", "N"],
    "P": ["O"],
}


@pytest.fixture
def aon_application(supervisor, manager):
    """An application planned from a version of the template drawn on nodes."""
    old = ActivityTemplate.objects.filter(template__code="hv-single-10kv").first().template
    template = template_new_version(template_id=old.pk)
    template.activities.filter(is_dummy=True).delete()
    for row in template.activities.all():
        row.tail = row.head = None
        row.predecessors = AON[row.code]
        row.save()
    type(template).objects.filter(pk=old.pk).update(is_active=False)
    type(template).objects.filter(pk=template.pk).update(is_active=True)
    return make_application(by=supervisor, manager=manager, accepted_on=DAY0)
