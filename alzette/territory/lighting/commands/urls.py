"""Commands to streetlights: agents' pages under /hypervision/lighting/lamps/."""

from __future__ import annotations

from django.urls import path

from alzette.territory.lighting.commands import views

app_name = "lighting_commands"

urlpatterns = [
    path("", views.index, name="index"),
    path("command/", views.command, name="command"),
    path("<slug:name>/", views.lamp, name="lamp"),
]
