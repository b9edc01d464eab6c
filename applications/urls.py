from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
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
]
