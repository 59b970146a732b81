from django.urls import path

from alzette.territory.waste import views

app_name = "waste"

urlpatterns = [
    path("", views.index, name="index"),
    path("centres/<slug:slug>/", views.centre, name="centre"),
    path("centres/<slug:slug>/occupancy.json", views.occupancy, name="occupancy"),
]
