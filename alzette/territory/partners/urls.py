from django.urls import path

from alzette.territory.partners import views

app_name = "partners"

urlpatterns = [
    path("oauth/token", views.token, name="token"),
]
