from django.urls import path

from alzette.territory.water import views

app_name = "water"

urlpatterns = [
    path("", views.index, name="index"),
    path("districts/<str:slug>/", views.district, name="district"),
]
