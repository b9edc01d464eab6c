"""`manage.py seed_demo`: the demo people and their sign-ins."""

import pytest
from django.core.management import call_command

from accounts.models import AccountManagerProfile, User
from demo.people import DEMO_PASSWORD

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_documented_logins(client):
    call_command("seed_demo")
    usernames = set(User.objects.values_list("username", flat=True))
    assert usernames == {
        "admin",
        "supervisor",
        "manager",
        "manager2",
        "manager3",
        "manager4",
        "manager5",
        "survey",
        "design",
        "metering",
        "metering-head",
    }
    assert AccountManagerProfile.objects.count() == 5
    assert User.objects.get(username="survey").department.code == "operations"
    for username in usernames:
        assert client.login(username=username, password=DEMO_PASSWORD), username
    assert User.objects.get(username="manager").has_perm("accounts.handle_applications")
    assert User.objects.get(username="supervisor").has_perm("accounts.view_dashboard")
    assert not User.objects.get(username="metering").has_perm("accounts.view_dashboard")
    head = User.objects.get(username="metering-head")
    assert head.department.code == "metering" and head.has_perm("accounts.lead_department")


def test_seed_demo_once_leaves_existing_data_alone(capsys):
    call_command("seed_demo")
    manager = User.objects.get(username="manager")
    manager.set_password("changed-by-its-owner")
    manager.save()
    call_command("seed_demo", "--once")
    assert "already loaded" in capsys.readouterr().out
    manager.refresh_from_db()
    assert manager.check_password("changed-by-its-owner")
