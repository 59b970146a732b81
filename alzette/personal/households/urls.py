from django.urls import path

from alzette.personal.households import views

app_name = "households"

urlpatterns = [
    path("", views.index, name="index"),
    path("agents/", views.agents, name="agents"),
    path("agents/new/", views.agent_new, name="agent_new"),
    path("agents/tariffs/", views.tariffs, name="tariffs"),
    path("agents/<uuid:pk>/", views.agent_household, name="agent_household"),
]
