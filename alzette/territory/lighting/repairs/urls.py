"""Streetlight repairs, agents' pages (/hypervision/lighting/repairs/)."""

from __future__ import annotations

from django.urls import path

from alzette.territory.lighting.repairs import views

app_name = "lighting_repairs"

urlpatterns = [
    path("", views.index, name="index"),
    path("report/", views.report, name="report"),
    path("<str:pk>/", views.detail, name="detail"),
    path("<str:pk>/<str:name>/", views.action, name="action"),
]
