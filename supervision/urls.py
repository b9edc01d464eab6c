from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/assign/", views.assign, name="assign"),
    path("dashboard/reassign/", views.reassign, name="reassign"),
    path("dashboard/crews/<int:crew_id>/days/", views.crew_days, name="crew-days"),
    path(
        "dashboard/capacity-measures/<int:measure_id>/accept/",
        views.capacity_measure_decide,
        {"decision": "accept"},
        name="capacity-measure-accept",
    ),
    path(
        "dashboard/capacity-measures/<int:measure_id>/dismiss/",
        views.capacity_measure_decide,
        {"decision": "dismiss"},
        name="capacity-measure-dismiss",
    ),
]
