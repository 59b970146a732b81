"""The DCAT-AP catalogue under /catalog (docs/opendata-dcat.md)."""

from django.urls import path

from alzette.territory.catalogue import dcat_views

app_name = "dcat"

urlpatterns = [
    path("", dcat_views.catalogue, name="catalogue"),
    path("/datasets/<slug:identifier>", dcat_views.dataset, name="dataset"),
    path(
        "/datasets/<slug:identifier>/distributions/<slug:fmt>",
        dcat_views.distribution,
        name="distribution",
    ),
    path("/organisations/<slug:slug>", dcat_views.organisation, name="organisation"),
]
