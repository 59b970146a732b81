from django.urls import path

from alzette.territory.lighting.energy import views

app_name = "lighting_energy"

urlpatterns = [
    path("", views.index, name="index"),
]
