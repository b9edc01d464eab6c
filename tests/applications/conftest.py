"""Fixtures shared by the application tests."""

from datetime import date

import pytest

from scheduling.models import ActivityTemplate
from scheduling.services import template_new_version
from tests.factories import make_application

DAY0 = date(2026, 3, 2)  # a Monday

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
