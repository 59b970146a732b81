"""Dashboard routes, mounted at /dashboard/."""

from django.urls import path

from alzette.personal.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("edit/", views.edit, name="edit"),
    path("edit/add/", views.add, name="add"),
    path("edit/remove/", views.remove, name="remove"),
    path("edit/move/", views.move, name="move"),
    path("edit/resize/", views.resize, name="resize"),
    path("edit/reset/", views.reset, name="reset"),
]
