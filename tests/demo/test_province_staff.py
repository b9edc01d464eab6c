"""A province's volume of demo applications comes with a province's staff: no account
manager holds thousands of applications in progress."""

from datetime import date

import pytest
from django.contrib.auth import authenticate
from django.db.models import Count

from accounts.models import AccountManagerProfile, User
from accounts.roles import Role
from applications.models import Application
from demo import applications as demo_applications
from demo import people

pytestmark = pytest.mark.django_db

TODAY = date(2026, 6, 17)


def test_a_small_demo_keeps_its_five_managers():
    assert people.province_managers_needed(300, present=5) == 0
    assert people.province_managers_needed(1_000, present=5) == 0
    assert people.province_managers_needed(1_001, present=5) == 1
    assert people.province_managers_needed(100_000, present=5) == 495


def test_a_large_demo_spreads_its_applications_over_more_managers(monkeypatch):
    people.demo_people_load()
    monkeypatch.setattr(people, "APPLICATIONS_PER_MANAGER", 4)

    demo_applications.demo_applications_load(count=60, seed=7, today=TODAY, aside=False)

    added = User.objects.filter(username__startswith=people.PROVINCE_PREFIX)
    assert added.count() == 60 // 4 - 5
    one = added.order_by("username").first()
    assert one.groups.get().name == Role.ACCOUNT_MANAGER
    assert one.display_name and one.phone and one.department.code == "marketing"
    profile = AccountManagerProfile.objects.get(user=one)
    assert [r.code for r in profile.regions.all()] == [one.username.split("-")[1]]
    # They sign in with the demo password, and they hold applications of their region.
    assert authenticate(username=one.username, password=people.DEMO_PASSWORD) == one
    books = dict(
        Application.objects.filter(account_manager__isnull=False)
        .values_list("account_manager__username")
        .annotate(n=Count("pk"))
    )
    assert sum(n for name, n in books.items() if name.startswith(people.PROVINCE_PREFIX)) > 0
    assert max(books.values()) < 60 // 2
    # A second load adds only the managers its own volume needs.
    demo_applications.demo_applications_load(count=8, seed=7, today=TODAY, aside=False)
    assert added.count() == 68 // 4 - 5
