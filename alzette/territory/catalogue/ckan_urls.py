"""The CKAN Action API, under /api/3/action/ (docs/opendata-ckan.md)."""

from django.urls import path

from alzette.territory.catalogue import ckan, ckan_views

app_name = "ckan"

urlpatterns = [
    *(path(name, ckan_views.action, {"name": name}, name=name) for name in ckan.ACTIONS),
    # Any other name answers CKAN's "Action name not known".
    path("<str:name>", ckan_views.action, name="unknown"),
]
