"""yekuo's PostgreSQL connections start with settings fit for short web queries."""

import pytest
from django.db import connection

from tests.conftest import need_service

pytestmark = [pytest.mark.services, pytest.mark.django_db]


def test_every_connection_runs_without_jit_and_with_its_work_memory():
    need_service("PostgreSQL", connection.vendor == "postgresql", "session settings of libpq")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == "16MB"
