from django.urls import path

from . import views

app_name = "supervision"

urlpatterns = [
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dashboard/assign/", views.assign, name="assign"),
    path("dashboard/reassign/", views.reassign, name="reassign"),
]
