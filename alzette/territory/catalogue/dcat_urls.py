"""The DCAT-AP catalogue under /catalog (docs/opendata-dcat.md).

Mounted as ``path("catalog", ...)``: the catalogue is /catalog itself, the other
documents hang under one ``"/"`` include, which keeps Django's urls.W002 check
(no route may start with a slash) quiet.
"""

from django.urls import include, path

from alzette.territory.catalogue import dcat_views

app_name = "dcat"

_documents = [
    path("datasets/<slug:identifier>", dcat_views.dataset, name="dataset"),
    path(
        "datasets/<slug:identifier>/distributions/<slug:fmt>",
        dcat_views.distribution,
        name="distribution",
    ),
    path("organisations/<slug:slug>", dcat_views.organisation, name="organisation"),
]

urlpatterns = [
    path("", dcat_views.catalogue, name="catalogue"),
    path("/", include(_documents)),
]
