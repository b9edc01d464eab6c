"""Error pages in the layout: 403, 404, 405 and 500 in Chinese with a way back, and no
405 left at a form's address after a refused entry."""

import pytest
from django.test import Client, RequestFactory, override_settings

from applications.models import Application
from scheduling.models import Activity
from tests.factories import make_application
from yekuo import errorpages

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(supervisor, manager):
    return make_application(by=supervisor, manager=manager)


def framed(response) -> str:
    """The page's HTML, checked to be in the site's layout."""
    html = response.content.decode()
    assert '<header class="topbar">' in html and '<footer class="footer"' in html
    return html


@pytest.mark.parametrize("debug", [False, True], ids=["production", "development"])
def test_an_unknown_address_is_a_404_in_the_layout(client, manager, debug):
    client.force_login(manager)

    with override_settings(DEBUG=debug):
        response = client.get("/no/such/page/")

    assert response.status_code == 404
    html = framed(response)
    assert "找不到页面" in html
    assert 'id="error-home" href="/"' in html
    assert "URLconf" not in html  # not Django's list of addresses


def test_an_application_not_yours_to_read_is_a_404_in_the_layout(client, manager):
    client.force_login(manager)

    response = client.get("/applications/YK-1999-000001/")

    assert response.status_code == 404
    assert "找不到页面" in framed(response)


def test_a_refused_role_gets_a_403_in_the_layout_with_the_reason(client, manager):
    client.force_login(manager)

    response = client.get("/admin/", follow=True)

    assert response.status_code == 403
    html = framed(response)
    assert "无权操作" in html
    assert "系统管理仅限管理员使用。" in html


def test_a_get_of_a_forms_address_goes_back_to_the_page(client, manager, application):
    activity = Activity.objects.filter(application=application, code="A").get()
    client.force_login(manager)
    url = f"/applications/{application.number}/activities/{activity.pk}/progress/"

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"/applications/{application.number}/#activities"


def test_a_refused_entry_keeps_the_pages_address_for_a_reload(client, manager, application):
    activity = Activity.objects.filter(application=application, code="A").get()
    client.force_login(manager)
    url = f"/applications/{application.number}/activities/{activity.pk}/progress/"

    response = client.post(url, {"actual_start": "not a date"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert response["HX-Push-Url"] == f"/applications/{application.number}/"
    assert client.get(response["HX-Push-Url"]).status_code == 200
    assert Application.objects.get(pk=application.pk).version == application.version


def test_another_method_at_a_forms_address_is_a_405_in_the_layout(client, manager, application):
    client.force_login(manager)

    response = client.put(f"/applications/{application.number}/transition/")

    assert response.status_code == 405
    assert "只接收表单提交" in framed(response)


def test_an_expired_form_is_a_403_that_says_nothing_changed(manager, application):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(f"/applications/{application.number}/transition/", {})

    assert response.status_code == 403
    html = framed(response)
    assert "表单已过期" in html and "未做任何更改" in html


def test_the_500_page_is_in_the_layout(manager):
    request = RequestFactory().get("/")
    request.user = manager

    response = errorpages.server_error(request)

    assert response.status_code == 500
    html = framed(response)
    assert "出错了" in html


def test_the_api_keeps_its_problem_details_for_unknown_addresses(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    "path", ["/applications/%00/", "/applications/YK%00/receipt/", "/applications/%00/plan/print/"]
)
def test_a_nul_byte_in_an_application_address_is_a_404_in_the_layout(client, manager, path):
    # PostgreSQL refuses a NUL in a query: the address is refused before it gets there.
    client.force_login(manager)

    response = client.get(path)

    assert response.status_code == 404
    assert "找不到页面" in framed(response)
