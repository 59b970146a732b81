from django.urls import path

from alzette.territory.waste.rounds import views

app_name = "waste_rounds"

urlpatterns = [
    path("", views.index, name="index"),
    path("<uuid:pk>/", views.detail, name="detail"),
    path("<uuid:pk>/status/", views.status, name="status"),
]
