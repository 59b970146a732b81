from django.urls import path

from alzette.territory.onem2m.bindings.http import endpoint

app_name = "onem2m"
urlpatterns = [
    path("", endpoint, name="root"),
    path("<path:path>", endpoint, name="endpoint"),
]
