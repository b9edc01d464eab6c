"""Documents and the post-completion review through the API, for each role, with scope."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from applications.models import Document, PostCompletionReview
from tests.api.conftest import assert_problem, token_client
from tests.applications.test_application_page import energized
from tests.factories import PDF

pytestmark = [pytest.mark.usefixtures("meetings_when_ready"), pytest.mark.django_db]


def documents(application) -> str:
    return f"/api/v1/applications/{application.pk}/documents/"


def upload(client, application, kind="contract", name="供用电合同.pdf", content=PDF, **extra):
    return client.post(
        documents(application),
        {"kind": kind, "file": SimpleUploadedFile(name, content, "application/pdf")},
        format="multipart",
        **extra,
    )


def test_a_manager_uploads_lists_and_downloads_a_document(application, as_manager):
    before = Document.objects.filter(application=application).count()
    response = upload(as_manager, application, HTTP_IDEMPOTENCY_KEY="doc-1")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["original_name"], body["size"]) == (
        "contract",
        "供用电合同.pdf",
        len(PDF),
    )
    # The same key again: the same answer, one document.
    again = upload(as_manager, application, HTTP_IDEMPOTENCY_KEY="doc-1")
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert Document.objects.filter(application=application).count() == before + 1

    listed = as_manager.get(documents(application)).json()
    assert body["id"] in [d["id"] for d in listed]
    file = as_manager.get(body["download"])
    assert file.status_code == 200
    assert b"".join(file.streaming_content) == PDF


def test_bad_uploads_are_refused_beside_their_fields(application, as_manager):
    body = assert_problem(upload(as_manager, application, kind="passport"), 400)
    assert list(body["errors"]) == ["kind"]
    body = assert_problem(
        upload(as_manager, application, name="tool.exe", content=b"MZ\x90\x00"), 400
    )
    assert "file" in body["errors"]
    assert not Document.objects.filter(application=application, kind="contract").exists()


def test_another_regions_manager_and_a_read_token_are_refused(application, other_manager, manager):
    other = token_client(other_manager)
    assert_problem(other.get(documents(application)), 404)
    assert_problem(upload(other, application), 404)
    reader = token_client(manager, scope="read")
    assert reader.get(documents(application)).status_code == 200
    assert_problem(upload(reader, application), 403)


def review_url(application) -> str:
    return f"/api/v1/applications/{application.pk}/review/"


SCORES = {"quality": 5, "safety": 4, "efficiency": 3, "satisfaction": 5, "findings": "计量装表偏晚"}


def test_the_review_is_recorded_once_with_the_applications_etag(application, as_manager):
    assert_problem(as_manager.get(review_url(application)), 404)
    # Not energized yet: not possible now.
    version = as_manager.get(f"/api/v1/applications/{application.pk}/")["ETag"]
    assert_problem(
        as_manager.put(review_url(application), SCORES, format="json", HTTP_IF_MATCH=version),
        409,
    )
    application = energized(application)
    assert_problem(as_manager.put(review_url(application), SCORES, format="json"), 428)
    assert_problem(
        as_manager.put(review_url(application), SCORES, format="json", HTTP_IF_MATCH='W/"99"'),
        412,
    )
    body = assert_problem(
        as_manager.put(
            review_url(application),
            {**SCORES, "quality": 9},
            format="json",
            HTTP_IF_MATCH=f'W/"{application.version}"',
        ),
        400,
    )
    assert list(body["errors"]) == ["quality"]

    done = as_manager.put(
        review_url(application), SCORES, format="json", HTTP_IF_MATCH=f'W/"{application.version}"'
    )
    assert done.status_code == 201, done.content
    assert as_manager.get(review_url(application)).json()["findings"] == "计量装表偏晚"
    review = PostCompletionReview.objects.get(application=application)
    assert (review.quality, review.reviewed_by.username) == (5, "manager-t")
    again = as_manager.put(
        review_url(application),
        SCORES,
        format="json",
        HTTP_IF_MATCH=f'W/"{application.version + 1}"',
    )
    assert_problem(again, 400)


def test_department_staff_may_not_record_the_review(application, staff):
    application = energized(application)
    client = token_client(staff)
    response = client.put(
        review_url(application), SCORES, format="json", HTTP_IF_MATCH=f'W/"{application.version}"'
    )
    assert_problem(response, 403)
    assert not PostCompletionReview.objects.exists()
