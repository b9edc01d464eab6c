"""On PostgreSQL, seed_demo writes in a second process while it builds the next chunks:
the rows are those it writes in one process."""

import pytest
from django.db import connection, transaction

from applications.models import Application
from demo import applications as demo_applications
from demo import people
from scheduling.models import ActivityEvent
from tests.conftest import need_service

from .test_seed_demo import TODAY, dump

pytestmark = pytest.mark.django_db(transaction=True)


def load(*, aside: bool) -> list[int]:
    seen = []
    demo_applications.demo_applications_load(
        count=45,
        seed=11,
        today=TODAY,
        chunk_size=10,
        aside=aside,
        progress=lambda done, total, seconds: seen.append(done),
    )
    return seen


def test_writing_aside_stores_the_same_rows_as_writing_in_one_process():
    need_service("PostgreSQL", connection.vendor == "postgresql", "the writer forks beside it")
    people.demo_people_load()
    with transaction.atomic():
        assert load(aside=False) == [10, 20, 30, 40, 45]
        in_one = dump()
        events = ActivityEvent.objects.count()
        transaction.set_rollback(True)
    assert not Application.objects.exists()

    # Outside a transaction, on PostgreSQL, with several chunks: aside is the default.
    assert demo_applications._writes_aside(10, 45)
    assert load(aside=True) == [10, 20, 30, 40, 45]

    assert dump() == in_one
    assert len(in_one) == 45
    assert ActivityEvent.objects.count() == events > 0


def test_a_transaction_or_a_single_chunk_keeps_the_writing_in_this_process():
    with transaction.atomic():
        assert not demo_applications._writes_aside(10, 45)
    assert not demo_applications._writes_aside(1000, 45)
