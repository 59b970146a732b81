from django.urls import path  # noqa: F401

app_name = "lighting_energy"

urlpatterns: list = []
