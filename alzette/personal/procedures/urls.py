"""Online procedures, mounted at /procedures/ (namespace ``procedures``)."""

from django.urls import path

from alzette.personal.procedures import views

app_name = "procedures"

urlpatterns = [
    path("", views.index, name="index"),
    path("files/", views.mine, name="mine"),
    path("files/<uuid:pk>/", views.dossier, name="dossier"),
    path("files/<uuid:pk>/message/", views.message, name="message"),
    path("office/", views.office, name="office"),
    path("office/batch/", views.batch, name="batch"),
    path("office/<uuid:pk>/", views.office_dossier, name="office_dossier"),
    path("office/<uuid:pk>/act/", views.act, name="act"),
    path("<slug:slug>/start/", views.start, name="start"),
]
