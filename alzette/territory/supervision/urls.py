from django.urls import path

from alzette.territory.supervision import views

app_name = "supervision"

urlpatterns = [
    path("", views.index, name="index"),
    path("devices/", views.devices, name="devices"),
    path("devices/<str:name>/", views.device, name="device"),
    path("quarantine/", views.quarantine, name="quarantine"),
    path("alerts/", views.alerts, name="alerts"),
    path("alerts/<int:alert_id>/<str:action>/", views.alert_action, name="alert_action"),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:rule_id>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:rule_id>/toggle/", views.rule_toggle, name="rule_toggle"),
]
