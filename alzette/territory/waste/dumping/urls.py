from django.urls import path

from alzette.territory.waste.dumping import views

app_name = "waste_dumping"

urlpatterns = [
    path("", views.index, name="index"),
    path("reports/new/", views.report_new, name="report_new"),
    path("interventions/", views.interventions, name="interventions"),
    path("interventions/new/", views.intervention_plan, name="intervention_plan"),
    path("interventions/<uuid:pk>/", views.intervention_detail, name="intervention"),
    path("interventions/<uuid:pk>/start/", views.intervention_start, name="intervention_start"),
    path("interventions/<uuid:pk>/close/", views.intervention_close, name="intervention_close"),
    path("interventions/<uuid:pk>/cancel/", views.intervention_cancel, name="intervention_cancel"),
]
