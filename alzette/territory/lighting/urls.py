"""Agents' pages of street lighting policies and calendar (namespace ``lighting``)."""

from django.urls import path

from alzette.territory.lighting import views

app_name = "lighting"

urlpatterns = [
    path("", views.index, name="index"),
    path("policies/new/", views.policy_form, name="policy_new"),
    path("policies/<int:pk>/", views.policy_form, name="policy_edit"),
    path("policies/<int:pk>/enabled/", views.policy_enabled, name="policy_enabled"),
    path("policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("calendar/", views.calendar, name="calendar"),
    path("calendar/<int:pk>/delete/", views.override_delete, name="override_delete"),
    path("lookup/", views.lookup, name="lookup"),
]
