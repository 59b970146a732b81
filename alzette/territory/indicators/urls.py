from django.urls import path

from alzette.territory.indicators import views

app_name = "indicators"

urlpatterns = [
    path("", views.index, name="index"),
    path("public/", views.public, name="public"),
]
