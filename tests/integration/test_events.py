"""What the analysis and the assignment tell other systems, and the development receiver."""

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from applications import assignment, services
from integration import services as integration
from integration.models import Event
from integration.signing import secret_new, signature_headers
from scheduling.models import Activity, Deviation
from tests.factories import (
    AccountManagerProfileFactory,
    RegionFactory,
    make_application,
    pdf_upload,
)
from tests.scheduling.test_commands import manage

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]

ROOT = Path(__file__).resolve().parents[2]
SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY0 = date(2026, 3, 2)  # a Monday


@pytest.fixture
def subscription(supervisor):
    return integration.subscription_create(
        name="监控系统", url="http://127.0.0.1:9/hooks", by=supervisor
    )


def told(type_: str) -> list[dict]:
    return [e.data for e in Event.objects.filter(type=type_).order_by("pk")]


def test_a_deviation_opened_and_resolved_is_told_with_its_facts(subscription, supervisor, manager):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    a = Activity.objects.get(application=application, code="A")
    services.activity_progress_record(activity_id=a.pk, start=DAY0, by=manager, today=DAY0)
    services.activity_progress_record(activity_id=a.pk, remaining=3, by=manager, today=DAY0)

    deviation = Deviation.objects.get(application=application, activity=a)
    (opened,) = told("deviation.opened")
    assert opened["number"] == application.number
    assert opened["deviation"] == deviation.pk
    assert opened["activity"] == "A"
    assert (opened["severity"], opened["delay"]) == (deviation.severity, deviation.delay)
    assert opened["commitment_overrun"] == deviation.commitment_overrun

    # Finished on time after all: the deviation is resolved, and told.
    services.activity_progress_record(activity_id=a.pk, finish=DAY0, by=manager, today=DAY0)
    (resolved,) = told("deviation.resolved")
    assert (resolved["deviation"], resolved["activity"]) == (deviation.pk, "A")
    assert Event.objects.filter(type="deviation.resolved").get().subject == application.number


def test_automatic_assignment_is_told(subscription, supervisor):
    region = RegionFactory()
    profile = AccountManagerProfileFactory(user__username="manager-east", regions=[region])
    application = make_application(by=supervisor, region=region)

    assert assignment.account_manager_assign(application_id=application.pk) == "assigned"
    (event,) = told("application.assigned")
    assert event["number"] == application.number
    assert event["account_manager"] == profile.user.username
    assert event["previous_account_manager"] is None
    assert event["by"] is None
    assert event["reason"]


def test_the_other_changes_of_an_application_are_told(subscription, supervisor, manager):
    application = make_application(by=supervisor, manager=manager, accepted_on=DAY0)
    services.application_update(
        application_id=application.pk, changes={"is_important": True}, by=manager
    )
    services.document_upload(
        application_id=application.pk, kind="contract", file=pdf_upload("合同.pdf"), by=manager
    )
    services.complaint_record(
        application_id=application.pk,
        channel="hotline",
        category="delay",
        text="进度慢",
        received_on=DAY0,
        by=manager,
        today=DAY0,
    )

    (updated,) = told("application.updated")
    assert updated["changes"] == {"is_important": True}
    assert updated["by"] == manager.username
    (document,) = told("document.uploaded")
    assert (document["kind"], document["original_name"]) == ("contract", "合同.pdf")
    (complaint,) = told("complaint.recorded")
    assert (complaint["number"], complaint["channel"]) == (application.number, "hotline")
    # In the order they happened, after the acceptance.
    assert list(
        Event.objects.filter(application=application).order_by("pk").values_list("type", flat=True)
    ) == [
        "application.created",
        "application.updated",
        "document.uploaded",
        "complaint.recorded",
    ]


def test_the_receiver_command_refuses_a_secret_that_is_not_one():
    result = manage("webhook_receiver", "--secret", "not-a-secret")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "webhook_receiver: --secret 'not-a-secret' is not a signing secret (whsec_ and base64)."
    ]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_receiver_command_prints_what_it_verifies():
    port = free_port()
    secret = secret_new()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "webhook_receiver", "--secret", secret, "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert "listening on" in process.stdout.readline()
        body = json.dumps(
            {
                "id": "msg_1",
                "type": "application.created",
                "subject": "YK-2026-000001",
                "data": {"number": "YK-2026-000001"},
            },
            ensure_ascii=False,
        ).encode()
        answers = []
        for signing in (secret, secret_new()):
            headers = signature_headers(
                secrets=[signing], message_id="msg_1", sent_at=datetime.now(SHANGHAI), body=body
            )
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/hooks", data=body, headers=headers
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    answers.append(response.status)
            except urllib.error.HTTPError as exc:
                answers.append(exc.code)
        assert answers == [204, 401]
        first, _data, second = (process.stdout.readline() for _n in range(3))
        assert "application.created YK-2026-000001 msg_1: verified" in first
        assert "NOT VERIFIED" in second
    finally:
        process.terminate()
        process.wait(timeout=10)
