from django.urls import path

from alzette.personal.homewater import views

app_name = "homewater"

urlpatterns = [
    path("", views.index, name="index"),
    path("warnings/<uuid:pk>/seen/", views.seen, name="seen"),
    path("agents/", views.agents, name="agents"),
    path("agents/<uuid:pk>/", views.agent_household, name="agent_household"),
]
