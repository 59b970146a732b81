"""Pages of the open-data catalogue, mounted at /data/ (namespace ``catalogue``)."""

from django.urls import path

from alzette.territory.catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:identifier>/", views.detail, name="detail"),
    path("<slug:identifier>/upload/", views.upload, name="upload"),
]
