"""Crews and their capacity changes in the admin: errors beside the field, who entered a
change, nothing deleted."""

import pytest

from accounts.models import Department
from scheduling.models import Crew, CrewCapacityChange
from tests.admin_forms import change_form_data
from tests.dates import pin_today
from tests.factories import RegionFactory

pytestmark = [pytest.mark.django_db, pin_today]


@pytest.fixture
def crew():
    return Crew.objects.create(
        kind="inspection",
        department=Department.objects.get(code="operations"),
        region=RegionFactory(code="xihu", name="西湖供电区"),
        capacity=2,
    )


def test_a_negative_capacity_is_refused_beside_the_field(client, admin_user, crew):
    client.force_login(admin_user)
    url = f"/admin/scheduling/crew/{crew.pk}/change/"
    data = change_form_data(client.get(url))
    data["capacity"] = "-1"
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["capacity"]
    crew.refresh_from_db()
    assert crew.capacity == 2


def test_a_capacity_change_is_entered_with_its_author_and_checked(client, admin_user, crew):
    client.force_login(admin_user)
    url = f"/admin/scheduling/crew/{crew.pk}/change/"
    data = change_form_data(client.get(url))
    prefix = "capacity_changes-0-"
    data.update(
        {
            f"{prefix}first_day": "2026-12-18",
            f"{prefix}last_day": "2026-12-14",
            f"{prefix}capacity": "0",
            f"{prefix}reason": "外出培训",
        }
    )
    refused = client.post(url, data)
    assert refused.status_code == 200
    [inline] = refused.context["inline_admin_formsets"]
    assert inline.formset.forms[0].errors["last_day"] == ["最后一天不能早于第一天。"]
    assert not CrewCapacityChange.objects.exists()
    data[f"{prefix}last_day"] = "2026-12-22"
    assert client.post(url, data).status_code == 302
    change = CrewCapacityChange.objects.get()
    assert (change.capacity, change.created_by) == (0, admin_user)
    # Nothing is deleted: a crew is set inactive, a change overridden by a later one.
    assert client.get(f"/admin/scheduling/crew/{crew.pk}/delete/").status_code == 403
