from django.urls import path, register_converter

from . import customer_views, views


class ApplicationNumberConverter:
    """An application number in a page's address: any text but a slash or a NUL byte.

    PostgreSQL refuses a NUL in a query, so an address such as ``/applications/%00/``
    would fail in the database; refused here, it is the ordinary page not found.
    """

    regex = "[^/\x00]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ApplicationNumberConverter, "number")

urlpatterns = [
    path("", views.home, name="home"),
    # The customer's page: public, through a signed link only.
    path("c/<str:token>/", customer_views.customer_progress, name="customer_progress"),
    path("c/<str:token>/request/", customer_views.customer_request, name="customer_request"),
    path("assessment/", views.assessment, name="assessment"),
    path(
        "assessment/export.xlsx",
        views.assessment_export,
        {"extension": "xlsx"},
        name="assessment_xlsx",
    ),
    path(
        "assessment/export.csv",
        views.assessment_export,
        {"extension": "csv"},
        name="assessment_csv",
    ),
    path("applications/new/", views.application_new, name="application_new"),
    path("applications/<number:number>/", views.application_detail, name="application_detail"),
    path(
        "applications/<number:number>/plan/print/",
        views.application_plan_print,
        name="application_plan_print",
    ),
    path(
        "applications/<number:number>/customer-links/",
        views.application_customer_links,
        name="application_customer_links",
    ),
    path(
        "applications/<number:number>/receipt/",
        views.application_receipt,
        name="application_receipt",
    ),
    path(
        "applications/<number:number>/transition/",
        views.application_transition,
        name="application_transition",
    ),
    path(
        "applications/<number:number>/activities/<int:activity_id>/progress/",
        views.activity_progress,
        name="activity_progress",
    ),
    path(
        "applications/<number:number>/deviations/<int:deviation_id>/acknowledge/",
        views.deviation_acknowledge,
        name="deviation_acknowledge",
    ),
    path(
        "applications/<number:number>/proposals/<int:proposal_id>/accept/",
        views.proposal_accept,
        name="proposal_accept",
    ),
    path(
        "applications/<number:number>/proposals/<int:proposal_id>/dismiss/",
        views.proposal_dismiss,
        name="proposal_dismiss",
    ),
    path(
        "applications/<number:number>/documents/",
        views.document_upload,
        name="application_document_upload",
    ),
    path(
        "applications/<number:number>/documents/<int:document_id>/",
        views.document_download,
        name="application_document",
    ),
    path(
        "applications/<number:number>/replan/", views.application_replan, name="application_replan"
    ),
    path(
        "applications/<number:number>/baselines/",
        views.application_baselines,
        name="application_baselines",
    ),
    path(
        "applications/<number:number>/review/", views.application_review, name="application_review"
    ),
    path(
        "applications/<number:number>/complaints/",
        views.complaint_add,
        name="application_complaint",
    ),
    path(
        "applications/<number:number>/follow-ups/",
        views.follow_up_raise,
        name="application_follow_up",
    ),
    path("todo/", views.todo_list, name="todo"),
    path("todo/<int:activity_id>/", views.todo_progress, name="todo_progress"),
    path("follow-ups/", views.follow_ups, name="follow_ups"),
    path("follow-ups/<int:follow_up_id>/close/", views.follow_up_close, name="follow_up_close"),
]
