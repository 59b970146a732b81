from django.urls import path

from alzette.web import views

urlpatterns = [
    path("", views.home, name="home"),
]
