"""compiled.count: a count built and compiled once per shape gives what the ORM's count
gives for every other key, and refuses a key written into the SQL's text."""

import uuid

import pytest
from django.db.models import BooleanField, Q
from django.db.models.expressions import RawSQL

from applications.models import Application
from scheduling.models import Activity
from tests.factories import AccountManagerProfileFactory, make_application
from yekuo import compiled

pytestmark = pytest.mark.django_db


def _managed(manager, department):
    """Activities of a manager's applications owned by a department or joint with it."""
    rows = Activity.objects.filter(application__account_manager_id=manager)
    return rows.filter(Q(department_id=department) | Q(joint_departments=department)).values("pk")


def test_one_compilation_counts_for_every_key(supervisor, manager):
    manager2 = AccountManagerProfileFactory(user__username="manager2-t").user
    make_application(by=supervisor, manager=manager)
    make_application(by=supervisor, manager=manager)
    make_application(by=supervisor, manager=manager2)
    built = []

    def build(manager, department):
        built.append((manager, department))
        return _managed(manager, department)

    shape = ("test-managed", uuid.uuid4().hex)
    departments = set(Activity.objects.values_list("department_id", flat=True)) - {None}
    assert len(departments) >= 2
    counts = {}
    for user in (manager, manager2, supervisor):
        for department in sorted(departments):
            values = {"manager": user.pk, "department": department}
            counts[user.username, department] = compiled.count(shape, Activity, build, values)
            assert counts[user.username, department] == _managed(user.pk, department).count()
    # Built once, with markers in place of the keys.
    assert len(built) == 1 and all(key < 0 for key in built[0])
    # The figures differ between the keys: the compiled query does not keep the first.
    assert len(set(counts.values())) > 1
    assert all(n == 0 for (username, _d), n in counts.items() if username == supervisor.username)


def test_a_key_that_does_not_reach_the_query_is_ignored(supervisor, manager):
    make_application(by=supervisor, manager=manager)
    shape = ("test-unused", uuid.uuid4().hex)

    def build(manager, unused):
        return Application.objects.filter(account_manager_id=manager).values("pk")

    assert compiled.count(shape, Application, build, {"manager": manager.pk, "unused": 7}) == 1
    assert compiled.count(shape, Application, build, {"manager": supervisor.pk, "unused": 7}) == 0


def test_a_key_written_into_the_sql_text_is_refused(supervisor, manager):
    shape = ("test-inlined", uuid.uuid4().hex)

    def build(manager):
        inlined = RawSQL(f"account_manager_id = {int(manager)}", [], output_field=BooleanField())
        return Application.objects.filter(inlined).values("pk")

    with pytest.raises(compiled.CompileError, match="written into the SQL's text"):
        compiled.count(shape, Application, build, {"manager": manager.pk})
    # Nothing was kept for the shape: asked again, it is refused again.
    with pytest.raises(compiled.CompileError):
        compiled.count(shape, Application, build, {"manager": manager.pk})
